"""The article library and the incremental index, with a hash-seeded fake encoder."""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from fake_encoder import FakeEncoder
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings import ArticleError, ArticleNotFoundError, IndexedLibrary, Settings, SettingsError
from embeddings.articles import one_paragraph_per_line, read_article
from embeddings.engine import RetrievalConfig
from embeddings.index_files import load_index
from embeddings.library import Library, new_article_id
from embeddings.passages import Chunking
from embeddings.types import text_checksum

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEED_DIR = PROJECT_ROOT / "data" / "articles"
SEED_ID = "putin-cis-critical-infrastructure.ar"
SATELLITE = PROJECT_ROOT / "tests" / "data" / "weather-satellite.ar.txt"
WATER = "\n".join(
    [
        "افتتحت وزارة المياه محطة جديدة لتحلية مياه البحر على الساحل الجنوبي بطاقة مئة وخمسين ألف متر مكعب يومياً.",
        "وقال وزير المياه إن المشروع سيغطي احتياجات أكثر من نصف مليون نسمة من مياه الشرب.",
        "وبلغت تكلفة المحطة نحو ثلاثمئة مليون دولار، واستغرق بناؤها ثلاث سنوات.",
    ]
)
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def copy_seed(folder: Path) -> Path:
    """A library folder holding a copy of the shipped seed article (sidecar without checksum)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in SEED_DIR.iterdir():
        shutil.copyfile(path, folder / path.name)
    return folder


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return Library(copy_seed(tmp_path / "articles"))


@pytest.fixture
def core(tmp_path: Path) -> Settings:
    return Settings(articles_dir=copy_seed(tmp_path / "articles"), index_dir=tmp_path / "index")


def open_library(core: Settings, encoder: FakeEncoder, config: RetrievalConfig | None = None) -> IndexedLibrary:
    return IndexedLibrary.open(core, encoder=encoder, log=lambda _: None, config=config)


# --- the library -------------------------------------------------------------------------------


def test_add_stores_text_and_sidecar_with_checksum(library: Library) -> None:
    article, added = library.add(WATER + "\n\n", "محطة تحلية", "https://example.com/news/desalination-plant.html")
    assert added and article.text == WATER
    sidecar = json.loads((library.folder / f"{article.id}.json").read_text(encoding="utf-8"))
    assert sidecar["checksum"] == text_checksum(WATER) == article.checksum
    assert sidecar["title"] == "محطة تحلية" and sidecar["source"] == "https://example.com/news/desalination-plant.html"
    assert sidecar["added"] == article.added and article.added.startswith("20")
    assert read_article(library.folder / f"{article.id}.txt") == article
    assert [a.id for a in library.list()] == sorted([SEED_ID, article.id])


def test_writes_leave_no_temporary_files(library: Library) -> None:
    article, _ = library.add(WATER, "محطة", "water.txt")
    library.remove(article.id)
    assert sorted(p.name for p in library.folder.iterdir()) == sorted(p.name for p in SEED_DIR.iterdir())


@pytest.mark.parametrize(
    ("title", "source", "slug"),
    [
        ("Putin calls on CIS", "https://www.reuters.com/world/europe/putin-cis-infrastructure-2024-10-05/", "reuters"),
        ("عنوان", "https://www.aljazeera.net/news/2024/10/5/%D8%A8%D9%88%D8%AA%D9%8A%D9%86", "aljazeera"),
        ("عنوان", "http://127.0.0.1:8000/article.html", "article"),
        ("عنوان", "Weather Satellite (final).txt", "weather-satellite-final"),
        ("Putin: the CIS must act!", "نص.txt", "putin-the-cis-must-act"),
        ("عنوان عربي فقط", "ملف.md", "article"),
    ],
)
def test_ids_are_readable_slugs_with_a_hash_suffix(title: str, source: str, slug: str) -> None:
    article_id = new_article_id(title, source, "3f9a2c" + "0" * 58, set())
    assert article_id.startswith(f"{slug}-") and article_id.endswith("-3f9a2c")
    assert ID_PATTERN.fullmatch(article_id)


def test_reuters_url_gives_host_and_page_words() -> None:
    url = "https://www.reuters.com/world/putin-says-cis-must-protect.html"
    assert new_article_id("", url, "abcdef" * 10, set()) == "reuters-putin-says-cis-must-protect-abcdef"


def test_ids_grow_their_hash_until_free() -> None:
    checksum = "abcdef0123" + "0" * 54
    taken = {"article-abcdef", "article-abcdef01"}
    assert new_article_id("", "", checksum, taken) == "article-abcdef0123"


@settings(max_examples=200, deadline=None)
@given(title=st.text(max_size=120), source=st.text(max_size=200), checksum=st.text("0123456789abcdef", min_size=64))
def test_ids_are_filename_safe_for_any_title_and_source(title: str, source: str, checksum: str) -> None:
    article_id = new_article_id(title, source, checksum, set())
    assert ID_PATTERN.fullmatch(article_id) and len(article_id) <= 40 + 1 + 6


def test_same_text_is_already_present(library: Library) -> None:
    first, added = library.add(WATER, "محطة", "water.txt")
    again, added_again = library.add("  " + WATER.replace("\n", "\r\n\r\n") + " \n", "عنوان آخر", "other.md")
    assert added and not added_again and again == first
    assert len(library.list()) == 2


def test_same_url_is_already_present(library: Library) -> None:
    first, _ = library.add(WATER, "محطة", "https://example.com/news/water")
    again, added = library.add(WATER + "\nفقرة أضيفت لاحقاً إلى الصفحة.", "محطة", "https://EXAMPLE.com/news/water/#top")
    assert not added and again.id == first.id
    assert library.find(source="https://example.com/news/water/") == first


def test_same_file_name_with_other_text_is_a_new_article(library: Library) -> None:
    _, first = library.add(WATER, "محطة", "notes.txt")
    _, second = library.add(SATELLITE.read_text(encoding="utf-8"), "قمر", "notes.txt")
    assert first and second and len(library.list()) == 3


def test_the_seed_sidecar_without_checksum_is_read_and_its_text_detected(library: Library) -> None:
    [seed] = library.list()
    assert (
        seed.id == SEED_ID
        and seed.title.startswith("بوتين")
        and "checksum" not in json.loads((library.folder / f"{SEED_ID}.json").read_text(encoding="utf-8"))
    )
    existing, added = library.add(seed.text, "نسخة", "copy.txt")
    assert not added and existing == seed


def test_remove_deletes_both_files(library: Library) -> None:
    article, _ = library.add(WATER, "محطة", "water.txt")
    assert library.remove(article.id) == article
    assert not (library.folder / f"{article.id}.txt").exists()
    assert not (library.folder / f"{article.id}.json").exists()
    assert [a.id for a in library.list()] == [SEED_ID]


@pytest.mark.parametrize("article_id", ["no-such-article", "../articles/" + SEED_ID, ""])
def test_remove_of_an_unknown_id_says_how_to_list_the_ids(library: Library, article_id: str) -> None:
    with pytest.raises(ArticleNotFoundError, match=r"python -m embeddings list"):
        library.remove(article_id)
    assert [a.id for a in library.list()] == [SEED_ID]


def test_text_is_tidied_one_paragraph_per_line() -> None:
    assert one_paragraph_per_line(" أ  ب \r\n\r\n\tج\n\n") == "أ ب\nج"


def test_empty_text_is_refused(library: Library) -> None:
    with pytest.raises(ArticleError, match="has no text"):
        library.add(" \n\t ", "فارغ", "empty.txt")


# --- the incremental index ---------------------------------------------------------------------


def test_adding_embeds_only_the_new_article(core: Settings) -> None:
    encoder = FakeEncoder()
    engine = open_library(core, encoder)
    seed_passages = len(engine.index)
    encoder.passage_calls.clear()
    article, added = engine.add_article(WATER, "محطة تحلية", "https://example.com/water")
    assert added
    assert encoder.embedded == WATER.split("\n")  # three one-sentence paragraphs, nothing else
    assert len(engine.index) == seed_passages + 3 and {a.id for a in engine.articles} == {SEED_ID, article.id}
    load_index(core.index_dir, engine.index.key)  # saved on disk, and not stale


def test_duplicate_add_changes_nothing(core: Settings) -> None:
    encoder = FakeEncoder()
    engine = open_library(core, encoder)
    first, _ = engine.add_article(WATER, "محطة", "https://example.com/water")
    encoder.passage_calls.clear()
    index = engine.index
    assert engine.add_article(WATER, "محطة", "water.txt") == (first, False)
    assert engine.index is index and encoder.passage_calls == []


def test_removing_embeds_nothing_and_drops_the_passages(core: Settings) -> None:
    encoder = FakeEncoder()
    engine = open_library(core, encoder)
    seed_passages = len(engine.index)
    article, _ = engine.add_article(WATER, "محطة", "water.txt")
    encoder.passage_calls.clear()
    assert engine.remove_article(article.id) == article
    assert encoder.passage_calls == [] and len(engine.index) == seed_passages
    assert all(p.article_id == SEED_ID for p in engine.index.passages)


def test_restart_keeps_the_articles_and_embeds_nothing(core: Settings) -> None:
    engine = open_library(core, FakeEncoder())
    added, _ = engine.add_article(WATER, "محطة", "https://example.com/water")
    engine.add_article(SATELLITE.read_text(encoding="utf-8"), "قمر", SATELLITE.name)
    engine.remove_article(added.id)
    restarted_encoder = FakeEncoder()
    restarted = open_library(core, restarted_encoder)
    assert restarted.articles == engine.articles and restarted_encoder.passage_calls == []
    assert np.array_equal(restarted.index.article_vectors(SEED_ID), engine.index.article_vectors(SEED_ID))


def test_stale_index_reuses_the_vectors_of_unchanged_articles(core: Settings) -> None:
    engine = open_library(core, FakeEncoder())
    article, _ = engine.add_article(WATER, "محطة", "water.txt")
    edited = WATER.replace("ثلاث سنوات", "أربع سنوات")
    (core.articles_dir / f"{article.id}.txt").write_text(edited, encoding="utf-8")  # edited by hand
    encoder, logged = FakeEncoder(), []
    IndexedLibrary.open(core, encoder=encoder, log=logged.append)
    assert encoder.embedded == edited.split("\n")  # the edited article, whole; the seed's vectors are reused
    assert any("Reusing the vectors of 1 unchanged article(s); embedding 1" in line for line in logged)


def test_other_chunking_or_model_embeds_everything_again(core: Settings) -> None:
    open_library(core, FakeEncoder())
    other_model = FakeEncoder(name="another-fake")
    open_library(core, other_model)
    other_chunking = FakeEncoder(name="another-fake")
    open_library(core, other_chunking, config=RetrievalConfig(chunking=Chunking(max_chars=200)))
    # each embeds its passages and sentences again (nothing is borrowed across models or chunkings)
    assert len(other_model.embedded) > 0 and len(other_chunking.embedded) > 0


def test_corrupt_index_is_rebuilt_whole(core: Settings) -> None:
    first = FakeEncoder()
    open_library(core, first)
    (core.index_dir / "vectors.faiss").write_bytes(b"not faiss")
    again = FakeEncoder()
    open_library(core, again)
    assert again.embedded == first.embedded


def test_failed_indexing_leaves_library_and_index_as_they_were(core: Settings) -> None:
    encoder = FakeEncoder()
    engine = open_library(core, encoder)
    index, manifest = engine.index, (core.index_dir / "manifest.json").read_bytes()
    encoder.fail = True
    with pytest.raises(RuntimeError, match="told to fail"):
        engine.add_article(WATER, "محطة", "water.txt")
    assert engine.index is index and [a.id for a in Library(core.articles_dir).list()] == [SEED_ID]
    assert (core.index_dir / "manifest.json").read_bytes() == manifest


def test_removing_every_article_leaves_an_engine_that_finds_nothing(core: Settings) -> None:
    engine = open_library(core, FakeEncoder())
    engine.remove_article(SEED_ID)
    assert engine.articles == () and not engine.ask("ما اسم وزير الدفاع الروسي؟").found
    reopened = open_library(core, FakeEncoder())
    assert reopened.articles == () and len(reopened.index) == 0
    article, _ = reopened.add_article(WATER, "محطة", "water.txt")
    assert [a.id for a in reopened.articles] == [article.id]


def test_questions_during_adds_and_removes_see_one_state(core: Settings) -> None:
    engine = open_library(core, FakeEncoder())
    texts = {a.id: a.text for a in engine.articles}
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask_again_and_again() -> None:
        while not stop.is_set():
            try:
                answer = engine.ask("كم تبلغ تكلفة محطة تحلية مياه البحر؟")
                for quote in answer.quotes:
                    assert quote.text == texts[quote.article_id][quote.start : quote.end]
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                errors.append(exc)
                return

    askers = [threading.Thread(target=ask_again_and_again) for _ in range(3)]
    for thread in askers:
        thread.start()
    try:
        for round_number in range(8):
            text = f"{WATER}\nوهذه الجولة رقم {round_number} من الإضافة والحذف."
            article, _ = engine.add_article(text, "محطة", f"water-{round_number}.txt")
            texts[article.id] = article.text
            engine.remove_article(article.id)
    finally:
        stop.set()
        for thread in askers:
            thread.join()
    assert errors == []


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [("", False), ("true", True), ("TRUE", True), ("1", True), ("no", False), ("false", False)]
)
def test_allow_private_urls_setting(raw: str, expected: bool) -> None:
    assert Settings.from_env({"SANAD_ALLOW_PRIVATE_URLS": raw}).allow_private_urls is expected


def test_allow_private_urls_must_be_true_or_false() -> None:
    with pytest.raises(SettingsError, match=r"SANAD_ALLOW_PRIVATE_URLS='maybe' is neither true nor false"):
        Settings.from_env({"SANAD_ALLOW_PRIVATE_URLS": "maybe"})
