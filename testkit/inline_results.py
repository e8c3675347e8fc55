"""Inline mode as the fake Bot API sees it: the inline queries users type, and the results the
bot answers them with, checked the way Telegram checks `answerInlineQuery`.

`inline_query_json` builds the InlineQuery of an update; `check_inline_answer` refuses what
Telegram refuses — more than 50 results, a result id that is empty, over 64 bytes or repeated,
an unknown result type, an article without a title or without message content, a message text
that is empty or over 4,096 characters once its entities are parsed, HTML Telegram cannot parse,
a bad inline keyboard, a negative cache time — with Telegram's own wording, and returns each
result as an `InlineResult` (its message text parsed, as the chat will show it once chosen).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .telegram_html import MESSAGE_LIMIT, VisibleText, parse_text, utf16_length
from .telegram_objects import QUERY_TOO_OLD, check_keyboard, user_json

MAX_RESULTS = 50
MAX_RESULT_ID_BYTES = 64
RESULT_TYPES = frozenset(
    "article audio contact document game gif location mpeg4_gif photo venue video voice sticker".split()
)


class InlineAnswerError(ValueError):
    """Telegram refuses the answer: the message is its description, the status its HTTP code."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description, self.status = description, status


@dataclass(frozen=True)
class InlineResult(VisibleText):
    """One result the bot offered, as a client shows it and as the chat gets it once chosen
    (`entity_texts`, `quotes`: what its message shows)."""

    id: str
    type: str
    title: str
    description: str
    text: str  # the message text as sent (HTML when parse_mode is HTML)
    parse_mode: str | None
    plain: str  # the visible text after parsing
    entities: list[dict[str, Any]]


@dataclass(frozen=True)
class InlineAnswer:
    """What the bot answered to one inline query."""

    query_id: str
    results: tuple[InlineResult, ...]
    cache_time: int | None
    is_personal: bool | None


def inline_query_json(query_id: str, user_id: int, query: str, chat_type: str = "private") -> dict[str, Any]:
    """The InlineQuery a user's client sends while typing `@bot query` in a chat of `chat_type`."""
    return {"id": query_id, "from": user_json(user_id), "query": query, "offset": "", "chat_type": chat_type}


def check_inline_answer(params: dict[str, Any], known: bool) -> InlineAnswer:
    """The answer to an inline query as Telegram accepts it; InlineAnswerError otherwise.
    `known`: the query id is one a user sent and the bot has not answered yet."""
    if not known:
        raise InlineAnswerError(QUERY_TOO_OLD)
    results = params.get("results")
    if not isinstance(results, list):
        raise InlineAnswerError("Bad Request: can't parse inline query results JSON object")
    if len(results) > MAX_RESULTS:
        raise InlineAnswerError("Bad Request: RESULTS_TOO_MUCH")
    cache_time = params.get("cache_time")
    if cache_time is not None and (not isinstance(cache_time, int) or cache_time < 0):
        raise InlineAnswerError("Bad Request: wrong parameter cache_time in request")
    checked: list[InlineResult] = []
    seen: set[str] = set()
    for result in results:
        item = _check_result(result)
        if item.id in seen:
            raise InlineAnswerError("Bad Request: RESULT_ID_DUPLICATE")
        seen.add(item.id)
        checked.append(item)
    personal = params.get("is_personal")
    return InlineAnswer(str(params.get("inline_query_id")), tuple(checked), cache_time, personal)


def _check_result(result: object) -> InlineResult:
    if not isinstance(result, dict):
        raise InlineAnswerError("Bad Request: can't parse inline query result JSON object")
    ident = result.get("id")
    if not isinstance(ident, str) or not 1 <= len(ident.encode("utf-8")) <= MAX_RESULT_ID_BYTES:
        raise InlineAnswerError("Bad Request: RESULT_ID_INVALID")
    kind = result.get("type")
    if kind not in RESULT_TYPES:
        raise InlineAnswerError(f"Bad Request: result type {kind!r} is invalid")
    if kind != "article":
        raise InlineAnswerError(f"Bad Request: result type {kind!r} is not supported by this fake")
    title = result.get("title")
    if not isinstance(title, str) or not title.strip():
        raise InlineAnswerError("Bad Request: RESULT_TITLE_EMPTY")
    if complaint := check_keyboard(result.get("reply_markup")):
        raise InlineAnswerError(complaint)
    content = result.get("input_message_content")
    if not isinstance(content, dict) or not isinstance(content.get("message_text"), str):
        raise InlineAnswerError("Bad Request: can't parse input message content")
    text, parse_mode = content["message_text"], content.get("parse_mode") or None
    parsed = parse_text(text, parse_mode)
    if isinstance(parsed, str):
        raise InlineAnswerError(parsed)
    plain, entities = parsed
    if not plain.strip():
        raise InlineAnswerError("Bad Request: MESSAGE_EMPTY")
    if utf16_length(plain) > MESSAGE_LIMIT:
        raise InlineAnswerError("Bad Request: MESSAGE_TOO_LONG")
    description = str(result.get("description") or "")
    return InlineResult(ident, kind, title, description, text, parse_mode, plain, entities)
