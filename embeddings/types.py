"""Typed values passed between the layers: articles in, answers out.

Invariant kept everywhere: a quote's text is `article.text[start:end]`, and its highlight
is a slice of that same article text, inside the quote.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

# answer: a sentence of an article answers the question (shown as the answer);
# closest: the articles discuss it, but no sentence clearly answers (the closest passage is
# shown as such, never as the answer); not_found: nothing relevant, nothing quoted.
AnswerKind = Literal["answer", "closest", "not_found"]
ANSWER_KINDS: tuple[AnswerKind, ...] = ("answer", "closest", "not_found")

# The question the CLI's and the bot's help and errors show as an example.
EXAMPLE_QUESTION = "ما اسم وزير الدفاع الروسي؟"


def text_checksum(text: str) -> str:
    """SHA-256 of the article text, the identity of its content."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Article:
    """A source document: its stable id, a human title, where it came from, its text."""

    id: str
    title: str
    source: str
    text: str
    added: str = ""

    @property
    def checksum(self) -> str:
        return text_checksum(self.text)


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) of an article's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A window of consecutive sentences of one paragraph, as offsets into the article."""

    id: int
    article_id: str
    paragraph: int  # 1-based, as a reader counts paragraphs
    start: int
    end: int
    sentences: tuple[Span, ...]


@dataclass(frozen=True)
class Scores:
    """How a quote ranked: the fused score and what each retriever said of it."""

    fused: float
    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score (0 when no stem of the question occurs)


@dataclass(frozen=True)
class Quote:
    """A verbatim slice of an article that answers (part of) the question."""

    article_id: str
    title: str
    source: str
    paragraph: int
    start: int
    end: int
    text: str
    # the sentence that answers (or two adjacent ones, at most evidence.LEAD_SPAN_CHARS long),
    # in article offsets, inside [start, end)
    highlight: Span
    scores: Scores
    # The article's page opened at the highlight (a URL text fragment); None for articles
    # from files or pasted text.
    link: str | None = None

    @property
    def highlight_text(self) -> str:
        """The answering sentence, sliced out of the quote's own text."""
        return self.text[self.highlight.start - self.start : self.highlight.end - self.start]


@dataclass(frozen=True)
class Answer:
    """What the core says to a question: its kind, and the quotes (best first).

    `found` is "kind is answer". Built with `found` alone, the kind follows from it
    (answer or not_found); a `closest` answer has found=False and quotes. `confidence` is
    the calibrated probability that the first quote's highlighted sentence answers (None
    when no decision was made, e.g. abstention off).
    """

    question: str
    found: bool
    quotes: tuple[Quote, ...] = field(default=())
    kind: AnswerKind | None = None
    confidence: float | None = None

    def __post_init__(self) -> None:
        kind = self.kind or ("answer" if self.found else "not_found")
        if kind not in ANSWER_KINDS or self.found != (kind == "answer"):
            raise ValueError(f"an answer of kind {kind!r} cannot have found={self.found}")
        if kind == "not_found" and self.quotes:
            raise ValueError("a not_found answer quotes nothing")
        object.__setattr__(self, "kind", kind)
