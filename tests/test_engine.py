"""The engine: opening rebuilds a missing, stale or corrupt index and says why, reuses a good
one without embedding again, and answers long, English and dialect questions."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from embeddings import Engine, IndexedLibrary, RetrievalConfig, Settings
from embeddings.index import IndexKey
from embeddings.index_files import load_index
from embeddings.passages import Chunking
from embeddings.types import Answer, Article

if TYPE_CHECKING:
    from fake_encoder import FakeEncoder

ARTICLE_FILE = "putin-cis-critical-infrastructure.ar.txt"
MINISTER = "سيرجي شويجو"


def open_library(articles: Path, index: Path, encoder: FakeEncoder) -> tuple[IndexedLibrary, list[str]]:
    lines: list[str] = []
    engine = IndexedLibrary.open(Settings(articles_dir=articles, index_dir=index), encoder=encoder, log=lines.append)
    return engine, lines


def test_open_builds_a_missing_index_and_says_so(
    articles_copy: Path, tmp_path: Path, fake_encoder: FakeEncoder
) -> None:
    engine, lines = open_library(articles_copy, tmp_path / "index", fake_encoder)
    assert lines[0].startswith("Rebuilding the index: no index in")
    assert lines[-1].startswith(f"Index built: {len(engine.index)} passages from 1 article(s)")
    assert len(fake_encoder.passage_calls) == 1
    load_index(tmp_path / "index", IndexKey.of(fake_encoder, Chunking(), engine.articles))


def test_open_reuses_a_good_index_without_embedding_again(
    articles_copy: Path, tmp_path: Path, fake_encoder: FakeEncoder
) -> None:
    first, _ = open_library(articles_copy, tmp_path / "index", fake_encoder)
    fake_encoder.passage_calls.clear()
    second, lines = open_library(articles_copy, tmp_path / "index", fake_encoder)
    assert lines == []
    assert fake_encoder.passage_calls == []
    assert second.index.passages == first.index.passages


def _edit_article(articles: Path, index: Path) -> None:
    path = articles / ARTICLE_FILE
    path.write_text(path.read_text(encoding="utf-8") + "\nفقرة جديدة أضيفت بعد البناء.\n", encoding="utf-8")


def _flip_vector_byte(articles: Path, index: Path) -> None:
    path = index / "vectors.faiss"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))


def _delete_manifest(articles: Path, index: Path) -> None:
    (index / "manifest.json").unlink()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_edit_article, "out of date: the articles changed since it was built (putin-cis-critical-infrastructure.ar)"),
        (_flip_vector_byte, "vectors.faiss is corrupt"),
        (_delete_manifest, "manifest.json is missing"),
    ],
    ids=["stale-article", "corrupt-vectors", "missing-manifest"],
)
def test_open_rebuilds_a_stale_or_corrupt_index_and_says_why(
    articles_copy: Path, tmp_path: Path, fake_encoder: FakeEncoder, damage: Callable[[Path, Path], None], reason: str
) -> None:
    index = tmp_path / "index"
    open_library(articles_copy, index, fake_encoder)
    damage(articles_copy, index)
    engine, lines = open_library(articles_copy, index, fake_encoder)
    assert lines[0].startswith("Rebuilding the index:") and reason in lines[0]
    assert lines[-1].startswith("Index built:")
    load_index(index, IndexKey.of(fake_encoder, Chunking(), engine.articles))


def test_open_rebuilds_when_the_model_changes(
    articles_copy: Path, tmp_path: Path, fake_encoder_class: type[FakeEncoder]
) -> None:
    open_library(articles_copy, tmp_path / "index", fake_encoder_class(name="model-a"))
    _, lines = open_library(articles_copy, tmp_path / "index", fake_encoder_class(name="model-b"))
    assert "out of date" in lines[0] and "'model-a'" in lines[0] and "'model-b'" in lines[0]


def test_open_rebuilds_when_the_chunking_changes(
    articles_copy: Path, tmp_path: Path, fake_encoder: FakeEncoder
) -> None:
    settings = Settings(articles_dir=articles_copy, index_dir=tmp_path / "index")
    IndexedLibrary.open(settings, encoder=fake_encoder, log=lambda line: None)
    lines: list[str] = []
    smaller = RetrievalConfig(chunking=Chunking(max_chars=300))
    engine = IndexedLibrary.open(settings, encoder=fake_encoder, log=lines.append, config=smaller)
    assert "out of date" in lines[0] and "chunking" in lines[0]
    assert engine.index.key.chunking == Chunking(max_chars=300)


def test_ask_from_threads_gives_the_answers_asked_one_by_one(
    shipped_article: Article, fake_encoder: FakeEncoder
) -> None:
    engine = Engine.from_articles([shipped_article], fake_encoder, abstention=None)
    questions = [
        " ".join(w) for w in itertools.islice(itertools.permutations(shipped_article.text.split()[:12], 3), 40)
    ]
    one_by_one = [engine.ask(q) for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(engine.ask, questions))
    assert threaded == one_by_one


def test_a_ten_thousand_character_question_is_answered(real_engine: Engine) -> None:
    question = ("ما اسم وزير الدفاع الروسي الذي قدم تقريرا عن تدريبات الردع؟ " * 200)[:10_000]
    answer = real_engine.ask(question)
    assert isinstance(answer, Answer) and answer.question == question
    assert answer.kind in ("answer", "closest") and answer.quotes, "a long question on topic must still quote"
    text = real_engine.articles[0].text
    assert all(q.text == text[q.start : q.end] for q in answer.quotes)


# Known gap: for these two the lead sentence holds the name, but below the answer threshold (closest).
_MINISTER_GAP = pytest.mark.xfail(strict=True, reason="known gap: the lead holds the name, but kind closest")


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("Who is the Russian defence minister?", id="english", marks=_MINISTER_GAP),
        pytest.param("شو اسم وزير الدفاع الروسي؟", id="levantine-shu"),  # Levantine / Gulf
        pytest.param("مين هو وزير الدفاع الروسي؟", id="egyptian-meen"),  # Egyptian / Levantine
        pytest.param("ايش اسم وزير الدفاع الروسي؟", id="gulf-eish", marks=_MINISTER_GAP),  # Gulf / Hijazi
    ],
)
def test_english_and_dialect_questions_find_the_minister(real_engine: Engine, question: str) -> None:
    answer = real_engine.ask(question)
    assert answer.found, f"{question!r} was not answered"
    assert any(MINISTER in q.highlight_text for q in answer.quotes), [q.highlight_text for q in answer.quotes]


@pytest.mark.parametrize("k", [1, 2, 5])
def test_real_engine_respects_k_with_distinct_quotes(real_engine: Engine, k: int) -> None:
    answer = real_engine.ask("ما الخطر الذي قال بوتين إنه لا يزال موجودا؟", k=k)
    assert answer.found and 1 <= len(answer.quotes) <= k
    spans = sorted((q.start, q.end) for q in answer.quotes)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
