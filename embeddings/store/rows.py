"""The rows of the kept answers' quotes and of the feedback, as both stores write and read
them: the same columns, in the same order, in SQLite and in PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from ..types import AnswerKind
from .base import Feedback, QuotedText, QuoteRef, Vote

QUOTE_COLUMNS = "article_id, checksum, paragraph, start, stop, highlight_start, highlight_end, fused, dense, lexical"
FEEDBACK_COLUMNS = (
    "chat_id, at, vote, question, kind, confidence, article_id, title, source, paragraph, start, stop, "
    "highlight_start, highlight_end, passage, sentence"
)


def quote_row(ref: QuoteRef) -> tuple[Any, ...]:
    """The answer_quotes columns after (answer_id, rank) of a kept quote."""
    return (
        ref.article_id,
        ref.checksum,
        ref.paragraph,
        ref.start,
        ref.end,
        ref.highlight_start,
        ref.highlight_end,
        ref.fused,
        ref.dense,
        ref.lexical,
    )


def quote_ref_from_row(row: tuple[Any, ...]) -> QuoteRef:
    """A kept quote from its answer_quotes columns (as `quote_row` orders them)."""
    article_id, checksum, paragraph, start, stop, hl_start, hl_end, fused, dense, lexical = row
    return QuoteRef(
        str(article_id),
        str(checksum),
        int(paragraph),
        int(start),
        int(stop),
        int(hl_start),
        int(hl_end),
        float(fused),
        float(dense),
        float(lexical),
    )


def feedback_row(feedback: Feedback) -> tuple[Any, ...]:
    """The feedback columns of one press (a not_found's quote columns are NULL)."""
    head = (feedback.chat_id, feedback.at, feedback.vote, feedback.question, feedback.kind, feedback.confidence)
    quote = feedback.quote
    if quote is None:
        return (*head, *([None] * 10))
    return (
        *head,
        quote.article_id,
        quote.title,
        quote.source,
        quote.paragraph,
        quote.start,
        quote.end,
        quote.highlight_start,
        quote.highlight_end,
        quote.text,
        quote.sentence,
    )


def feedback_from_row(row: tuple[Any, ...]) -> Feedback:
    """One press from its feedback columns (as `feedback_row` orders them)."""
    chat_id, at, vote, question, kind, confidence, article_id, *rest = row
    quote = None
    if article_id is not None:
        title, source, paragraph, start, stop, hl_start, hl_end, text, sentence = rest
        quote = QuotedText(
            str(article_id),
            str(title),
            str(source),
            int(paragraph),
            int(start),
            int(stop),
            int(hl_start),
            int(hl_end),
            str(text),
            str(sentence),
        )
    return Feedback(
        int(chat_id),
        cast(Vote, vote),
        float(at),
        str(question),
        cast(AnswerKind, kind),
        None if confidence is None else float(confidence),
        quote,
    )
