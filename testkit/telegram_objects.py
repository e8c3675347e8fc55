"""Telegram's objects as the fake Bot API hands them out, and its records of what the bot did.

`chat_json` and `user_json` build the Chat and User objects of updates (a positive id is a
private chat, a negative one a supergroup), `message_json` the start of a Message,
`member_json` a ChatMember; `check_keyboard`
refuses inline keyboards as Telegram does; `Sent` is a message the bot sent, as Telegram
stored it (with its buttons), `CallbackAnswer` its answer to a button press, `Call` one
request the bot made, and `Hold` one whose answer a test holds back. `QUERY_TOO_OLD` is how
Telegram refuses an answer to a callback or inline query it does not know (or knows answered).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .telegram_html import VisibleText

MAX_CALLBACK_BYTES = 64
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


@dataclass
class Sent(VisibleText):
    """A message the bot sent, as Telegram stored it (`entity_texts`, `quotes`: what it shows)."""

    message_id: int
    chat_id: int
    text: str  # what the bot sent (HTML when parse_mode is HTML)
    parse_mode: str | None
    plain: str  # the visible text after parsing
    entities: list[dict[str, Any]]
    reply_to: int | None
    at: float  # time.monotonic() when it was accepted
    reply_markup: dict[str, Any] | None = None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(button["text"], button.get("callback_data", "")) for row in rows for button in row]


@dataclass(frozen=True)
class CallbackAnswer:
    """The bot's answer to a button press (answerCallbackQuery)."""

    query_id: str
    text: str  # the toast ("" for none)
    show_alert: bool
    at: float  # time.monotonic() when it was accepted


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float


def chat_json(chat_id: int) -> dict[str, Any]:
    """The Chat of a user's message: private for a positive id, a supergroup for a negative one."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}


def user_json(user_id: int) -> dict[str, Any]:
    """A human User (Arabic interface) with this id."""
    return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}", "language_code": "ar"}


def message_json(message_id: int, chat_id: int, sender: dict[str, Any]) -> dict[str, Any]:
    """A Message's first fields: its id, the date (now), its chat and who sent it."""
    return {"message_id": message_id, "date": int(time.time()), "chat": chat_json(chat_id), "from": sender}


def member_json(user_id: int, status: str) -> dict[str, Any]:
    """A ChatMember: "creator", "administrator" (with every right) or "member"."""
    member: dict[str, Any] = {"status": status, "user": user_json(user_id)}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update({"can_be_edited": False, "is_anonymous": False, **dict.fromkeys(_ADMIN_RIGHTS, True)})
    return member


def check_keyboard(markup: dict[str, Any] | None) -> str | None:
    """Telegram's complaint about an inline keyboard (None: it is fine)."""
    if markup is None:
        return None
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object"
    for button in (button for row in rows for button in row):
        if not str(button.get("text", "")).strip():
            return "Bad Request: BUTTON_TEXT_EMPTY"
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_BYTES:
            return "Bad Request: BUTTON_DATA_INVALID"
    return None


@dataclass
class Hold:
    """The answer to one request, held back: `reached` is set when the request came, and the
    fake answers it once `release()` is called (or after a minute)."""

    method: str
    when: Callable[[dict[str, Any]], bool] | None
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        """Let the fake answer the held request."""
        self.released.set()
