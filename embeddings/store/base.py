"""The storage interface of the chats' own articles, and the values it hands out.

An owner is a Telegram chat id (a private chat, or a group). Each owner's articles are
numbered 1, 2, 3, ... in the order they were added, and a number is never given twice to
the same owner, so a stale button or a typed `/forget 3` can never reach a newer article.
Every method takes the owner: there is no way to read an article without saying whose.

Actions are what inline buttons point at: the button carries only a random token, and the
store keeps, for that token, the chat it was shown in and what it does. Nothing a client
sends is trusted: the pressing chat must be the token's chat.

Updates are Telegram's: in webhook mode each replica claims an update (by its `update_id`)
before handling it and records when it is done, so a retry delivered to any replica is
handled once. A claim belongs to the store that took it (its "worker"): a claim of a worker
that is gone (a replica killed, or a process stopped) may be taken over; one of a live
worker may not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ..types import Article

ActionKind = Literal["focus", "forget", "forget_all", "search_all"]
UpdateState = Literal["claimed", "done", "busy"]
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


@dataclass(frozen=True)
class UpdateClaim:
    """What claiming a Telegram update gave: `claimed` (handle it now: this is attempt number
    `attempt`), `done` (handled already: do nothing) or `busy` (a live worker handles it)."""

    state: UpdateState
    attempt: int  # how many times the update was claimed, this time included (0 unless claimed)


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
        """Delete one of the owner's articles, its buttons, and the focus on it; returns it."""
        ...

    def delete_owner(self, owner: int) -> int:
        """Delete everything of the owner (articles, focus, buttons, activity); returns the
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

    def claim_update(self, update_id: int) -> UpdateClaim:
        """Claim the handling of a Telegram update for this store's worker: `claimed` when it
        is new, failed before, already this worker's, or a gone worker's; `done` when it was
        handled; `busy` when another live worker holds it. The caller keeps its own worker from
        handling one update twice at once."""
        ...

    def finish_update(self, update_id: int, *, done: bool) -> None:
        """End this worker's claim: `done` (handled, or given up: never handled again), or not
        (it failed: the next claim may take it)."""
        ...

    def try_lead(self, role: str) -> bool:
        """True if this store is now the one process that does `role` (e.g. "set-webhook")
        until it is closed; False if another live process is."""
        ...

    def check_reachable(self, timeout: float) -> str | None:
        """None if the database answers within `timeout` seconds, else why not (English, no password)."""
        ...

    def close(self) -> None:
        """Release the connection(s)."""
        ...
