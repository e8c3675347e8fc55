"""The index folder: a saved index loads back the same, is refused when stale or damaged
(the message says why and names the file), and a failed save leaves the old index usable."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np
import pytest

from embeddings.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from embeddings.index import IndexKey, SearchIndex, build_index
from embeddings.index_files import load_index, save_index
from embeddings.lexical import Analyzer
from embeddings.passages import Chunking
from embeddings.types import Article, Passage, Span

if TYPE_CHECKING:
    from fake_encoder import FakeEncoder

QUESTIONS = ["ما اسم وزير الدفاع الروسي؟", "أين تعمل السوق السوداء للأسلحة؟", "صواريخ كروز"]


@pytest.fixture
def built(shipped_article: Article, fake_encoder: FakeEncoder) -> SearchIndex:
    return build_index([shipped_article], fake_encoder, Analyzer(), Chunking())


@pytest.fixture
def saved(built: SearchIndex, tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    save_index(built, folder)
    return folder


def results(index: SearchIndex, encoder: FakeEncoder) -> list[tuple]:
    analyzer = Analyzer()
    out = []
    for q in QUESTIONS:
        ids, scores = index.dense_search(encoder.encode_queries([q])[0], 5)
        out.append(
            (ids.tolist(), np.round(scores, 5).tolist(), np.round(index.lexical_scores(analyzer.terms(q)), 5).tolist())
        )
    return out


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_saved_index_loads_with_the_same_search_results(
    built: SearchIndex, saved: Path, fake_encoder: FakeEncoder
) -> None:
    loaded = load_index(saved, built.key)
    assert loaded.passages == built.passages
    assert results(loaded, fake_encoder) == results(built, fake_encoder)
    assert [loaded.idf(t) for t in ("بوتين", "غائبة")] == [built.idf(t) for t in ("بوتين", "غائبة")]


def test_manifest_records_model_dimension_chunking_and_article_checksums(
    saved: Path, shipped_article: Article, fake_encoder: FakeEncoder
) -> None:
    manifest = json.loads((saved / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == fake_encoder.name
    assert manifest["dim"] == fake_encoder.dim
    assert manifest["chunking"] == {"max_chars": 1200, "overlap": 1}
    assert manifest["articles"] == [{"id": shipped_article.id, "checksum": shipped_article.checksum}]
    assert {"vectors.faiss", "passages/bounds.npy", "passages/article_ids.json"} <= set(manifest["files"])
    assert any(name.startswith("bm25/") for name in manifest["files"])


def test_index_is_stale_when_an_article_text_changes(
    saved: Path, shipped_article: Article, fake_encoder: FakeEncoder
) -> None:
    edited = Article(
        shipped_article.id, shipped_article.title, shipped_article.source, shipped_article.text + "\nجديد."
    )
    wanted = IndexKey.of(fake_encoder, Chunking(), [edited])
    with pytest.raises(IndexStaleError, match="articles changed") as info:
        load_index(saved, wanted)
    assert shipped_article.id in str(info.value)


def test_index_is_stale_when_an_article_is_added(
    saved: Path, shipped_article: Article, fake_encoder: FakeEncoder
) -> None:
    other = Article("another-article", "t", "s", "نص آخر.")
    with pytest.raises(IndexStaleError, match="another-article"):
        load_index(saved, IndexKey.of(fake_encoder, Chunking(), [shipped_article, other]))


def test_index_is_stale_when_the_model_differs(
    saved: Path, shipped_article: Article, fake_encoder_class: type[FakeEncoder]
) -> None:
    wanted = IndexKey.of(fake_encoder_class(name="another-model"), Chunking(), [shipped_article])
    with pytest.raises(IndexStaleError, match="another-model") as info:
        load_index(saved, wanted)
    assert "fake-hash" in str(info.value)


def test_index_is_stale_when_the_chunking_differs(
    saved: Path, shipped_article: Article, fake_encoder: FakeEncoder
) -> None:
    wanted = IndexKey.of(fake_encoder, Chunking(max_chars=300), [shipped_article])
    with pytest.raises(IndexStaleError, match="chunking"):
        load_index(saved, wanted)


@pytest.mark.parametrize(
    "name",
    [
        "vectors.faiss",
        "passages/bounds.npy",
        "passages/article_ids.json",
        "bm25/vocab.index.json",
        "bm25/data.csc.index.npy",
        "bm25/params.index.json",
    ],
)
def test_a_flipped_byte_makes_the_index_corrupt_naming_the_file(saved: Path, built: SearchIndex, name: str) -> None:
    flip_byte(saved / name)
    with pytest.raises(IndexCorruptError) as info:
        load_index(saved, built.key)
    assert str(saved / name) in str(info.value)
    assert "python -m embeddings build" in str(info.value)


def test_every_data_file_is_checked(saved: Path, built: SearchIndex) -> None:
    names = json.loads((saved / "manifest.json").read_text(encoding="utf-8"))["files"]
    for name in names:
        original = (saved / name).read_bytes()
        flip_byte(saved / name)
        with pytest.raises(IndexCorruptError, match=re.escape(name)):
            load_index(saved, built.key)
        (saved / name).write_bytes(original)
    load_index(saved, built.key)


def test_a_deleted_data_file_makes_the_index_corrupt(saved: Path, built: SearchIndex) -> None:
    (saved / "vectors.faiss").unlink()
    with pytest.raises(IndexCorruptError, match=re.escape("vectors.faiss")):
        load_index(saved, built.key)


def test_a_deleted_manifest_beside_other_files_is_corrupt(saved: Path, built: SearchIndex) -> None:
    (saved / "manifest.json").unlink()
    with pytest.raises(IndexCorruptError, match=re.escape("manifest.json")):
        load_index(saved, built.key)


def test_a_damaged_manifest_is_corrupt(saved: Path, built: SearchIndex) -> None:
    (saved / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=re.escape("manifest.json")):
        load_index(saved, built.key)


def test_an_empty_folder_has_no_index(tmp_path: Path, built: SearchIndex) -> None:
    (tmp_path / "index").mkdir()
    with pytest.raises(IndexMissingError, match="python -m embeddings build"):
        load_index(tmp_path / "index", built.key)


def test_a_folder_that_does_not_exist_has_no_index(tmp_path: Path, built: SearchIndex) -> None:
    with pytest.raises(IndexMissingError):
        load_index(tmp_path / "never-created", built.key)


def test_save_replaces_the_old_index_and_leaves_no_work_folders(
    saved: Path, shipped_article: Article, fake_encoder: FakeEncoder
) -> None:
    other = build_index([shipped_article], fake_encoder, Analyzer(), Chunking(max_chars=200))
    save_index(other, saved)
    assert load_index(saved, other.key).key.chunking == Chunking(max_chars=200)
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]


def test_a_failed_save_leaves_the_old_index_loadable(
    saved: Path,
    built: SearchIndex,
    shipped_article: Article,
    fake_encoder_class: type[FakeEncoder],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = build_index([shipped_article], fake_encoder_class(name="other"), Analyzer(), Chunking())

    def broken_write(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", broken_write)
    with pytest.raises(OSError, match="disk full"):
        save_index(other, saved)
    assert load_index(saved, built.key).passages == built.passages
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]


def test_an_index_of_no_articles_saves_and_loads(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    empty = build_index([], fake_encoder, Analyzer(), Chunking())
    save_index(empty, tmp_path / "index")
    loaded = load_index(tmp_path / "index", empty.key)
    assert len(loaded) == 0


def test_sentence_vectors_are_saved_loaded_and_lent_to_a_rebuild(
    built: SearchIndex, saved: Path, shipped_article: Article, fake_encoder: FakeEncoder
) -> None:
    loaded = load_index(saved, built.key)
    for passage in built.passages:
        assert len(loaded.sentence_vectors(passage.id)) == len(passage.sentences)
        assert np.array_equal(loaded.sentence_vectors(passage.id), built.sentence_vectors(passage.id))
    first = built.sentence_vectors(0)[0]
    text = shipped_article.text
    span = built.passages[0].sentences[0]
    assert np.allclose(first, fake_encoder.vector(text[span.start : span.end]))
    fake_encoder.passage_calls.clear()
    again = build_index([shipped_article], fake_encoder, Analyzer(), Chunking(), previous=loaded)
    assert fake_encoder.passage_calls == [] and np.array_equal(again.sentence_vectors(0)[0], first)


def test_an_index_of_the_previous_format_is_stale(built: SearchIndex, saved: Path) -> None:
    manifest = json.loads((saved / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 1
    (saved / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexStaleError, match="index format 1"):
        load_index(saved, built.key)


def _resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_loading_maps_the_vectors_instead_of_copying_them(tmp_path: Path, kind: str) -> None:
    count, dim = 20_000, 1024  # 82 MB of passage vectors, as many of sentence vectors
    vectors = np.random.default_rng(7).standard_normal((count, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    if kind == "flat":
        dense = faiss.IndexFlatIP(dim)
    else:  # as new_dense_index builds one above 50,000 passages, smaller
        dense = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, 64, faiss.METRIC_INNER_PRODUCT)
        dense.train(vectors)
    dense.add(vectors)
    passages = [Passage(i, f"a{i // 100}", i % 100, 0, 10, (Span(0, 10),)) for i in range(count)]
    key = IndexKey("synthetic", dim, Chunking(), tuple((f"a{n}", "x") for n in range(count // 100)))
    save_index(SearchIndex(key, passages, dense, None, vectors), tmp_path / "index")
    query = vectors[123]
    expected = dense.search(query.reshape(1, -1), 5)[1][0].tolist()
    del dense
    before = _resident_bytes()
    loaded = load_index(tmp_path / "index", key)
    grown = _resident_bytes() - before  # the passage table, not the 164 MB of vectors
    assert grown < vectors.nbytes // 4, f"loading grew the process by {grown / 2**20:.0f} MB"
    assert loaded.dense_search(query, 5)[0].tolist() == expected
    assert np.array_equal(loaded.sentence_vectors(123)[0], query)
