"""Passages: windows of consecutive sentences inside one paragraph, as article offsets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .sentences import split_sentences
from .types import Article, Passage, Span


@dataclass(frozen=True)
class Chunking:
    """How paragraphs are cut: a paragraph that fits in `max_chars` is one passage;
    a longer one becomes windows of whole sentences that share `overlap` sentences."""

    max_chars: int = 1200
    overlap: int = 1

    def __post_init__(self) -> None:
        if self.max_chars < 1 or self.overlap < 0:
            raise ValueError(f"invalid chunking {self}: max_chars must be ≥ 1 and overlap ≥ 0")


def paragraphs(text: str) -> Iterator[Span]:
    """Non-blank lines of the text, as spans (a paragraph is a line of the article)."""
    cursor = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            first = cursor + line.index(stripped[0])
            yield Span(first, first + len(stripped))
        cursor += len(line) + 1


def _windows(sentences: list[Span], chunking: Chunking) -> Iterator[tuple[int, int]]:
    """Index ranges [i, j) of sentences whose span fits `max_chars` (at least one)."""
    i, n = 0, len(sentences)
    while i < n:
        j = i + 1
        while j < n and sentences[j].end - sentences[i].start <= chunking.max_chars:
            j += 1
        yield i, j
        if j == n:
            return
        # Overlap only when the next window can still reach a new sentence; otherwise it
        # would lie inside this one.
        nxt = max(i + 1, j - chunking.overlap)
        i = nxt if sentences[j].end - sentences[nxt].start <= chunking.max_chars else j


def article_passages(article: Article, chunking: Chunking, first_id: int = 0) -> list[Passage]:
    """The passages of one article, numbered from `first_id`."""
    out: list[Passage] = []
    for number, para in enumerate(paragraphs(article.text), start=1):
        sentences = split_sentences(article.text, para.start, para.end)
        for i, j in _windows(sentences, chunking):
            window = tuple(sentences[i:j])
            out.append(
                Passage(
                    id=first_id + len(out),
                    article_id=article.id,
                    paragraph=number,
                    start=window[0].start,
                    end=window[-1].end,
                    sentences=window,
                )
            )
    return out


def build_passages(articles: Iterable[Article], chunking: Chunking) -> list[Passage]:
    """Passages of all articles, with ids 0..n-1 in article order."""
    out: list[Passage] = []
    for article in articles:
        out.extend(article_passages(article, chunking, first_id=len(out)))
    return out
