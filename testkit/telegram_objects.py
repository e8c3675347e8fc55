"""Telegram's objects as the fake Bot API hands them out, and its records of what the bot did.

`chat_json` and `user_json` build the Chat and User objects of updates (a positive id is a
private chat, a negative one a supergroup); `Sent` is a message the bot sent, as Telegram
stored it, and `Call` one request the bot made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Sent:
    """A message the bot sent, as Telegram stored it."""

    message_id: int
    chat_id: int
    text: str  # what the bot sent (HTML when parse_mode is HTML)
    parse_mode: str | None
    plain: str  # the visible text after parsing
    entities: list[dict[str, Any]]
    reply_to: int | None
    at: float  # time.monotonic() when it was accepted

    def entity_texts(self, *kinds: str) -> list[str]:
        """The visible text under each entity of the given types."""
        encoded = self.plain.encode("utf-16-le")
        return [
            encoded[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in self.entities
            if e["type"] in kinds
        ]

    @property
    def quotes(self) -> list[str]:
        """The text of every blockquote."""
        return self.entity_texts("blockquote", "expandable_blockquote")


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
