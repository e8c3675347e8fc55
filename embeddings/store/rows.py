"""The rows both stores write and read (articles, button actions, turns, the kept answers'
quotes, the feedback): the same columns, in the same order, in SQLite and in PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from ..conversation import Turn
from ..types import AnswerKind
from .base import Action, ActionKind, Feedback, QuotedText, QuoteRef, StoredArticle, Vote

ARTICLE_COLUMNS = "owner, number, title, source, text, added, checksum"
ACTION_COLUMNS = "token, chat_id, kind, target, payload, created, answer"
TURN_COLUMNS = (
    "chat_id, question, topic, asked, focus, article_id, passage_start, passage_end, sentence_start, sentence_end"
)
QUOTE_COLUMNS = "article_id, checksum, paragraph, start, stop, highlight_start, highlight_end, fused, dense, lexical"
FEEDBACK_COLUMNS = (
    "chat_id, at, vote, question, kind, confidence, article_id, title, source, paragraph, start, stop, "
    "highlight_start, highlight_end, passage, sentence"
)


def article_from_row(row: tuple[Any, ...]) -> StoredArticle:
    """A stored article from its ARTICLE_COLUMNS."""
    owner, number, title, source, text, added, checksum = row
    return StoredArticle(int(owner), int(number), str(title), str(source), str(text), str(added), str(checksum))


def action_from_row(row: tuple[Any, ...]) -> Action:
    """A button's action from its ACTION_COLUMNS."""
    token, chat_id, kind, target, payload, created, answer = row
    kept = int(answer) if answer is not None else None
    return Action(str(token), int(chat_id), cast(ActionKind, kind), str(target), str(payload), float(created), kept)


def turn_from_row(row: tuple[Any, ...]) -> Turn:
    """A chat's latest turn from its TURN_COLUMNS."""
    chat, question, topic, asked, focus, article_id, start, end, sentence_start, sentence_end = row
    return Turn(
        int(chat),
        str(question),
        str(topic),
        float(asked),
        str(focus),
        str(article_id),
        int(start),
        int(end),
        int(sentence_start),
        int(sentence_end),
    )


def turn_row(turn: Turn) -> tuple[Any, ...]:
    """A chat's turn as its TURN_COLUMNS."""
    return (
        turn.chat_id,
        turn.question,
        turn.topic,
        turn.asked,
        turn.focus,
        turn.article_id,
        turn.start,
        turn.end,
        turn.sentence_start,
        turn.sentence_end,
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
