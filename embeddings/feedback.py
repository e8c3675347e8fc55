"""The 👍/👎 presses under the bot's answers as labelled data: one JSON object per press (JSONL).

Each object has the keys of `FIELDS`: when (`at`, ISO 8601 UTC), where (`chat`), the `vote`
("up" or "down"), the answer's `kind` (answer, closest, not_found) and `confidence`, the
`question`, and what was quoted: the `article` id (`chat/3` for a chat's own article),
`title`, `source`, `paragraph`, the passage's `start`/`end` and the lead sentence's
`highlight_start`/`highlight_end` in the article text, the `passage` and `sentence`
themselves (verbatim slices), and `answer_start`, the sentence's offset inside the passage
(as SQuAD counts it). A not_found answer quoted nothing: its quote keys are null.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from .store.base import Feedback

FIELDS = (
    "at",
    "chat",
    "vote",
    "kind",
    "confidence",
    "question",
    "article",
    "title",
    "source",
    "paragraph",
    "start",
    "end",
    "highlight_start",
    "highlight_end",
    "passage",
    "sentence",
    "answer_start",
)


def feedback_record(feedback: Feedback) -> dict[str, object]:
    """One press as a JSON-ready object with the keys of FIELDS."""
    record: dict[str, object] = dict.fromkeys(FIELDS)
    record.update(
        at=datetime.fromtimestamp(feedback.at, UTC).isoformat(timespec="seconds"),
        chat=feedback.chat_id,
        vote=feedback.vote,
        kind=feedback.kind,
        confidence=feedback.confidence,
        question=feedback.question,
    )
    quote = feedback.quote
    if quote is not None:
        record.update(
            article=quote.article_id,
            title=quote.title,
            source=quote.source,
            paragraph=quote.paragraph,
            start=quote.start,
            end=quote.end,
            highlight_start=quote.highlight_start,
            highlight_end=quote.highlight_end,
            passage=quote.text,
            sentence=quote.sentence,
            answer_start=quote.highlight_start - quote.start,
        )
    return record


def write_feedback(presses: Iterable[Feedback], out: TextIO) -> int:
    """Write the presses to `out` as JSONL (UTF-8 text, one object a line); returns how many."""
    count = 0
    for press in presses:
        out.write(json.dumps(feedback_record(press), ensure_ascii=False) + "\n")
        count += 1
    return count
