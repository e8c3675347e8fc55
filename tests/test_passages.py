"""Passages: windows of whole sentences inside one paragraph, as offsets into the article."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embeddings.passages import Chunking, article_passages, build_passages, paragraphs
from embeddings.sentences import split_sentences
from embeddings.types import Article, Passage


def article(text: str, article_id: str = "a") -> Article:
    return Article(id=article_id, title="t", source="s", text=text)


def paragraph_number_of(text: str, offset: int) -> int:
    """1-based count of the non-blank lines up to the line holding `offset`."""
    lines_before = text[: offset + 1].split("\n")
    return sum(1 for line in lines_before if line.strip())


def passage_text(a: Article, p: Passage) -> str:
    return a.text[p.start : p.end]


def test_shipped_article_has_one_passage_per_paragraph(shipped_article: Article) -> None:
    passages = article_passages(shipped_article, Chunking())
    lines = [line.strip() for line in shipped_article.text.split("\n") if line.strip()]
    assert [passage_text(shipped_article, p) for p in passages] == lines
    assert [p.paragraph for p in passages] == list(range(1, len(lines) + 1))


def test_paragraph_numbers_skip_blank_lines() -> None:
    a = article("\n  أول فقرة.  \n\n\nثانية.\n \nثالثة.")
    passages = article_passages(a, Chunking())
    assert [(p.paragraph, passage_text(a, p)) for p in passages] == [(1, "أول فقرة."), (2, "ثانية."), (3, "ثالثة.")]


def test_paragraphs_are_trimmed_lines() -> None:
    text = "  first line \n\nsecond\n"
    assert [text[s.start : s.end] for s in paragraphs(text)] == ["first line", "second"]


LONG_PARAGRAPH = " ".join(f"الجملة رقم {n} تتحدث عن موضوع مختلف تماما." for n in range(1, 9))


def test_long_paragraph_becomes_windows_sharing_one_sentence() -> None:
    a = article(LONG_PARAGRAPH)
    sentences = split_sentences(a.text)
    passages = article_passages(a, Chunking(max_chars=100, overlap=1))
    assert len(passages) > 1
    for before, after in itertools.pairwise(passages):
        assert before.sentences[-1] == after.sentences[0]
    assert passages[0].sentences[0] == sentences[0] and passages[-1].sentences[-1] == sentences[-1]
    assert all(p.end - p.start <= 100 for p in passages)


def test_windows_without_overlap_partition_the_sentences() -> None:
    a = article(LONG_PARAGRAPH)
    passages = article_passages(a, Chunking(max_chars=100, overlap=0))
    assert [s for p in passages for s in p.sentences] == split_sentences(a.text)


def test_a_sentence_longer_than_max_chars_is_its_own_passage() -> None:
    long_sentence = "كلمة " * 60 + "نهاية."
    a = article(f"قصيرة. {long_sentence} أخرى قصيرة.")
    passages = article_passages(a, Chunking(max_chars=50, overlap=1))
    assert long_sentence in [passage_text(a, p) for p in passages]


def test_passage_ids_run_across_articles() -> None:
    first, second = article("أ. ب.\nج.", "one"), article("د.\nهـ.", "two")
    passages = build_passages([first, second], Chunking())
    assert [p.id for p in passages] == list(range(len(passages)))
    assert [p.article_id for p in passages] == ["one", "one", "two", "two"]


@pytest.mark.parametrize(("max_chars", "overlap"), [(0, 1), (100, -1)])
def test_invalid_chunking_is_refused(max_chars: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="max_chars must be ≥ 1 and overlap ≥ 0"):
        Chunking(max_chars=max_chars, overlap=overlap)


_WORDS = st.sampled_from(["بوتين", "الروسي", "19.5", "وزير", "Tu-95MS", "word", "«قال»"])
_SENTENCE = st.lists(_WORDS, min_size=1, max_size=12).map(" ".join).map(lambda s: s + ".")
_PARAGRAPH = st.lists(_SENTENCE, min_size=1, max_size=8).map(" ".join)
_TEXT = st.lists(st.one_of(_PARAGRAPH, st.just(""), st.just("   ")), min_size=1, max_size=6).map("\n".join)


@given(_TEXT, st.integers(1, 300), st.integers(0, 3))
def test_passages_are_slices_of_whole_sentences_within_one_paragraph(text: str, max_chars: int, overlap: int) -> None:
    a = article(text)
    passages = article_passages(a, Chunking(max_chars=max_chars, overlap=overlap))
    for p in passages:
        piece = passage_text(a, p)
        assert piece == piece.strip() and piece
        assert "\n" not in piece
        assert (p.start, p.end) == (p.sentences[0].start, p.sentences[-1].end)
        assert p.paragraph == paragraph_number_of(text, p.start)
        assert p.end - p.start <= max_chars or len(p.sentences) == 1


@given(_TEXT, st.integers(1, 300), st.integers(0, 3))
def test_every_sentence_is_in_a_passage_and_neighbours_share_at_most_overlap(
    text: str, max_chars: int, overlap: int
) -> None:
    a = article(text)
    passages = article_passages(a, Chunking(max_chars=max_chars, overlap=overlap))
    in_passages = {s for p in passages for s in p.sentences}
    assert in_passages == {s for para in paragraphs(text) for s in split_sentences(text, para.start, para.end)}
    for before, after in itertools.pairwise(passages):
        shared = set(before.sentences) & set(after.sentences)
        assert len(shared) <= overlap
        assert after.start >= before.start
