"""The large kind of index (IVF-PQ codes in memory, float vectors mapped for exact re-ranking),
made with a small flat limit so that 20,000 vectors are enough: saved and loaded, it finds what
exact search finds, with exact cosines, and maps its files instead of reading them; and the
passage table gives back the passages it was made from."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.dense_index import is_exact, new_dense_index
from embeddings.index import IndexKey, SearchIndex
from embeddings.index_files import load_index, save_index
from embeddings.passage_table import PassageTable
from embeddings.passages import Chunking
from embeddings.row_file import RowFile
from embeddings.types import Passage, Span

COUNT, DIM = 20_000, 384


def _unit(rows: np.ndarray) -> np.ndarray:
    normed: np.ndarray = (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)
    return normed


def _passages(count: int) -> list[Passage]:
    return [Passage(i, f"a{i // 100}", i % 100 + 1, 0, 10, (Span(0, 4), Span(5, 10))) for i in range(count)]


def _key(count: int) -> IndexKey:
    return IndexKey("synthetic", DIM, Chunking(), tuple((f"a{n}", "x") for n in range(count // 100)))


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return _unit(np.random.default_rng(11).standard_normal((COUNT, DIM), dtype=np.float32))


@pytest.fixture(scope="module")
def saved(vectors: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dense = new_dense_index(vectors, flat_max=1_000)
    assert not is_exact(dense)  # the compressed kind, as above 50,000 passages
    sentences = np.repeat(vectors, 2, axis=0)
    folder = tmp_path_factory.mktemp("large") / "index"
    save_index(SearchIndex(_key(COUNT), _passages(COUNT), dense, None, sentences, exact=vectors), folder)
    return folder


@pytest.fixture(scope="module")
def loaded(saved: Path) -> SearchIndex:
    return load_index(saved, _key(COUNT))


@settings(max_examples=60, deadline=None)
@given(row=st.integers(0, COUNT - 1), noise=st.floats(0.0, 0.3))
def test_the_large_index_finds_the_exact_nearest_with_its_exact_cosine(
    vectors: np.ndarray, loaded: SearchIndex, row: int, noise: float
) -> None:
    direction = np.random.default_rng(row).standard_normal(DIM, dtype=np.float32)
    query = _unit(vectors[row] + noise * _unit(direction))
    truth = int(np.argmax(vectors @ query))
    ids, scores = loaded.dense_search(query, 10)
    assert int(ids[0]) == truth == row
    assert np.allclose(scores, vectors[ids] @ query, atol=1e-5)  # exact, not decoded from the codes
    assert list(scores) == sorted(scores, reverse=True)


def test_the_large_index_lends_its_exact_vectors(vectors: np.ndarray, loaded: SearchIndex) -> None:
    assert np.array_equal(loaded.article_vectors("a7"), vectors[700:800])
    assert np.array_equal(loaded.article_sentence_vectors("a7")[::2], vectors[700:800])
    query = vectors[5]
    assert np.allclose(loaded.dense_scores(query, np.array([9, 5, 3])), vectors[[9, 5, 3]] @ query)


def test_the_cosines_the_re_rank_read_are_given_back_with_the_others_read(
    vectors: np.ndarray, loaded: SearchIndex
) -> None:
    query = _unit(vectors[77] + 0.5 * vectors[78])
    found = loaded.dense_search(query, 10)
    ids = np.array([3, int(found[0][4]), 19_999, int(found[0][0]), 78])  # two of them found, in no order
    assert np.allclose(loaded.dense_scores(query, ids, known=found), vectors[ids] @ query, atol=1e-5)
    assert np.allclose(loaded.dense_scores(query, found[0][::-1], known=found), found[1][::-1])


def _resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def test_loading_the_large_index_maps_its_files_instead_of_reading_them(saved: Path, vectors: np.ndarray) -> None:
    before = _resident_bytes()
    index = load_index(saved, _key(COUNT))
    grown = _resident_bytes() - before  # not the 31 MB of float vectors nor the 61 MB of sentence ones
    assert grown < vectors.nbytes // 4, f"loading grew the process by {grown / 2**20:.0f} MB"
    assert isinstance(index._exact, RowFile) and isinstance(index.passages.bounds, np.memmap)
    assert index.dense_search(vectors[42], 1)[0].tolist() == [42]
    before = _resident_bytes()
    for row in range(0, COUNT, 40):  # re-ranking reads candidates all over the file
        index.dense_search(vectors[row], 50)
        index.sentence_vectors(row)
    grown = _resident_bytes() - before  # rows read are copied, not kept mapped
    assert grown < vectors.nbytes // 4, f"answering grew the process by {grown / 2**20:.0f} MB"


def test_a_large_index_without_its_exact_vectors_is_corrupt(saved: Path, tmp_path: Path) -> None:
    from embeddings.errors import IndexCorruptError
    from embeddings.index_files import _read_checked, _read_manifest

    manifest = _read_manifest(saved)
    del manifest["files"]["vectors.npy"]
    with pytest.raises(IndexCorruptError, match=r"vectors\.npy"):
        _read_checked(saved, manifest)


passages_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "مقال", "c"]),
        st.integers(1, 50),
        st.integers(0, 10_000),
        st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 300)), max_size=6),
    ),
    max_size=40,
)


@given(rows=passages_strategy, picks=st.lists(st.integers(0, 10_000), max_size=30))
def test_the_passage_table_gives_back_its_passages(
    rows: list, picks: list[int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    passages = [
        Passage(i, aid, par, start, start + 500, tuple(Span(s, s + w) for s, w in spans))
        for i, (aid, par, start, spans) in enumerate(rows)
    ]
    table = PassageTable.of(passages)
    folder = tmp_path_factory.mktemp("table")
    table.save(folder)
    for got in (table, PassageTable.load(folder)):
        assert list(got) == passages and got == passages and len(got) == len(passages)
        wanted = [i % len(passages) for i in picks] if passages else []
        assert got.take(np.array(wanted, dtype=np.int64)) == [passages[i] for i in wanted]
        for article in {p.article_id for p in passages} | {"missing"}:
            assert got.rows_of(article).tolist() == [p.id for p in passages if p.article_id == article]


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.one_of(st.integers(0, COUNT - 1), st.integers(0, 30), st.just(COUNT - 1)), max_size=120))
def test_the_saved_vectors_give_back_any_rows_asked_for(saved: Path, vectors: np.ndarray, ids: list[int]) -> None:
    """In any order, with repeats and runs of neighbours, as re-ranking and articles ask."""
    rows = RowFile(saved / "vectors.npy")
    wanted = np.array(ids, dtype=np.int64)
    assert np.array_equal(rows[wanted], vectors[wanted]) and rows[wanted].shape == (len(ids), DIM)


def test_a_flat_index_keeps_no_second_copy_of_its_vectors(vectors: np.ndarray, tmp_path: Path) -> None:
    small = vectors[:500]
    dense = new_dense_index(small)
    assert is_exact(dense) and isinstance(dense, faiss.IndexFlatIP)
    save_index(SearchIndex(_key(500), _passages(500), dense, None, np.repeat(small, 2, axis=0)), tmp_path / "i")
    assert not (tmp_path / "i" / "vectors.npy").exists()
