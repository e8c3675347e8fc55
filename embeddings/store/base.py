"""The storage interface of the chats' own articles, and the values it hands out.

An owner is a Telegram chat id (a private chat, or a group). Each owner's articles are
numbered 1, 2, 3, ... in the order they were added, and a number is never given twice to
the same owner, so a stale button or a typed `/forget 3` can never reach a newer article.
Every method takes the owner: there is no way to read an article without saying whose.

Turns are each chat's latest question and what its answer led with, so that a follow-up
("ومتى حدث ذلك؟") can lean on it (conversation.py); a chat keeps only its latest one.

Actions are what inline buttons point at: the button carries only a random token, and the
store keeps, for that token, the chat it was shown in and what it does. Nothing a client
sends is trusted: the pressing chat must be the token's chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ..conversation import Turn
from ..types import Article

ActionKind = Literal["focus", "forget", "forget_all", "search_all"]
OWN_PREFIX = "chat/"  # the id of a chat's own article in a collection: never a library file name (no "/")


def own_article_id(number: int) -> str:
    """The id a chat's own article has in that chat's collections (`chat/3`)."""
    return f"{OWN_PREFIX}{number}"


def own_article_number(article_id: str) -> int | None:
    """The number of a chat's own article from its collection id, or None for a library id."""
    if not article_id.startswith(OWN_PREFIX):
        return None
    digits = article_id[len(OWN_PREFIX) :]
    return int(digits) if digits.isascii() and digits.isdigit() else None


@dataclass(frozen=True)
class StoredArticle:
    """One of a chat's own articles as stored."""

    owner: int
    number: int
    title: str
    source: str
    text: str
    added: str  # ISO 8601, UTC
    checksum: str  # sha256 of the text

    def article(self) -> Article:
        """The article as the core indexes it (id `chat/<number>`)."""
        return Article(own_article_id(self.number), self.title, self.source, self.text, self.added)


@dataclass(frozen=True)
class ChatSummary:
    """A chat as an operator lists it."""

    chat_id: int
    articles: int
    last_active: float  # seconds since the epoch


@dataclass(frozen=True)
class Action:
    """What a button does: in which chat, to which article (its collection id), with what."""

    token: str
    chat_id: int
    kind: ActionKind
    target: str  # an article id (`chat/3` or a library id), or "" for forget_all
    payload: str  # the question, for search_all
    created: float


class ChatStore(Protocol):
    """The chats' articles, focus, activity, add counters and button actions. Thread-safe."""

    def add_article(self, owner: int, title: str, source: str, text: str, added: str) -> StoredArticle:
        """Store an article for `owner` under its next number."""
        ...

    def articles(self, owner: int) -> list[StoredArticle]:
        """The owner's articles, by number."""
        ...

    def article(self, owner: int, number: int) -> StoredArticle | None:
        """One of the owner's articles, or None (also when it is another owner's)."""
        ...

    def find_article(
        self, owner: int, *, checksum: str | None = None, source: str | None = None
    ) -> StoredArticle | None:
        """The owner's article with this checksum or this exact source, if any."""
        ...

    def article_keys(self, owner: int) -> list[tuple[int, str]]:
        """(number, checksum) of each of the owner's articles, by number (cheap: no texts)."""
        ...

    def count_articles(self, owner: int) -> int:
        """How many articles the owner has."""
        ...

    def delete_article(self, owner: int, number: int) -> StoredArticle | None:
        """Delete one of the owner's articles, its buttons, the focus on it and the turn about it;
        returns it."""
        ...

    def delete_owner(self, owner: int) -> int:
        """Delete everything of the owner (articles, focus, buttons, turn, activity); returns the
        number of articles deleted."""
        ...

    def focus(self, chat_id: int) -> str | None:
        """The collection id of the chat's focused article, if any."""
        ...

    def set_focus(self, chat_id: int, article_id: str | None) -> None:
        """Focus the chat on an article (its collection id), or on none."""
        ...

    def record_add(self, user_id: int, at: float) -> None:
        """Count one article added by a user at time `at` (seconds since the epoch)."""
        ...

    def adds_since(self, user_id: int, since: float) -> int:
        """How many articles the user added at or after `since`."""
        ...

    def touch(self, chat_id: int, at: float) -> None:
        """Note activity in a chat."""
        ...

    def chats(self) -> list[ChatSummary]:
        """Every chat with articles or activity, by id."""
        ...

    def put_action(self, chat_id: int, kind: ActionKind, target: str, payload: str = "") -> str:
        """Remember what a button shown in `chat_id` does; returns its random token."""
        ...

    def action(self, token: str) -> Action | None:
        """The action of a token, or None if unknown (or expired)."""
        ...

    def put_turn(self, turn: Turn) -> None:
        """Keep the chat's latest question (its turn replaces the one before)."""
        ...

    def last_turn(self, chat_id: int) -> Turn | None:
        """The chat's latest question, if it has one (none once its article or the chat is deleted)."""
        ...

    def close(self) -> None:
        """Release the connection(s)."""
        ...
