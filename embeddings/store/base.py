"""The storage interface of the chats' own articles, and the values it hands out.

An owner is a Telegram chat id (a private chat, or a group). Each owner's articles are
numbered 1, 2, 3, ... in the order they were added, and a number is never given twice to
the same owner, so a stale button or a typed `/forget 3` can never reach a newer article.
`/forget all` (delete_owner) deletes everything of the owner, its counter and its buttons
too: numbering starts again at 1, with no button left that could point at a number.
Every method takes the owner: there is no way to read an article without saying whose.

Turns are each chat's latest question and what its answer led with, so that a follow-up
("ومتى حدث ذلك؟") can lean on it (conversation.py); a chat keeps only its latest one.

Actions are what inline buttons point at: the button carries only a random token, and the
store keeps, for that token, the chat it was shown in and what it does. Nothing a client
sends is trusted: the pressing chat must be the token's chat.

Updates are Telegram's: in webhook mode each replica claims an update (by its `update_id`)
before handling it and records when it is done, so a retry delivered to any replica is
handled once. A claim belongs to the store that took it (its "worker"): a claim of a worker
that is gone (a replica killed, or a process stopped) may be taken over; one of a live
worker may not.

A kept answer is what the buttons under an answer need after a restart: the question, its
kind, and the ranked quotes as references into article texts (no text is copied: the quotes
are sliced again from the article, which must still be there, unchanged). Feedback (👍/👎)
copies the quoted text, so that it stays labelled data when the answer is long gone; it is
deleted with the article (a chat's own) or the chat it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ..conversation import Turn
from ..types import AnswerKind, Article

UpdateState = Literal["claimed", "done", "busy"]
# focus, forget, forget_all, search_all: /sources and the focus; more, context, vote_up,
# vote_down: the buttons under an answer (the action names the kept answer).
ActionKind = Literal["focus", "forget", "forget_all", "search_all", "more", "context", "vote_up", "vote_down"]
Vote = Literal["up", "down"]
ACTION_DAYS = 7  # a button (and the kept answer behind it) older than this no longer works: pruned
TOKEN_BYTES = 9  # a button's token: 12 URL-safe characters
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
    answer: int | None = None  # the kept answer a button under an answer acts on


@dataclass(frozen=True)
class QuoteRef:
    """One quote of a kept answer: where it is in which article (and which text of it)."""

    article_id: str  # its collection id (`chat/3` or a library id)
    checksum: str  # sha256 of the article text it was sliced from
    paragraph: int
    start: int
    end: int
    highlight_start: int
    highlight_end: int
    fused: float = 0.0  # the scores it ranked with
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class KeptAnswer:
    """An answer shown in a chat, kept for its buttons: ranked quotes, how many were shown.
    `id` and `created` are the store's (0 before `put_answer`)."""

    chat_id: int
    question: str
    kind: AnswerKind
    confidence: float | None
    quotes: tuple[QuoteRef, ...]
    shown: int
    id: int = 0
    created: float = 0.0


@dataclass(frozen=True)
class QuotedText:
    """What a piece of feedback was about: the quote with its text, copied when pressed."""

    article_id: str
    title: str
    source: str
    paragraph: int
    start: int
    end: int
    highlight_start: int
    highlight_end: int
    text: str  # article.text[start:end]
    sentence: str  # article.text[highlight_start:highlight_end]


@dataclass(frozen=True)
class Feedback:
    """One press of 👍 or 👎 under an answer (`quote` None: a not_found answer quoted nothing)."""

    chat_id: int
    vote: Vote
    at: float  # seconds since the epoch
    question: str
    kind: AnswerKind
    confidence: float | None
    quote: QuotedText | None


@dataclass(frozen=True)
class ChatState:
    """What answering a question in a chat needs from the store, read at once: its focus (a
    collection id), the (number, checksum) of each of its articles, its latest turn, and the
    focused article itself when it is one of the chat's own (None when it is a library one,
    or gone)."""

    focus: str | None
    article_keys: tuple[tuple[int, str], ...]
    turn: Turn | None
    focused: StoredArticle | None


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
        """Delete one of the owner's articles, its buttons, the focus on it, the turn about it
        and the feedback on it; the kept answers' quotes of it forget its checksum (so no text
        matches them again);
        returns it."""
        ...

    def delete_owner(self, owner: int) -> int:
        """Delete everything of the owner (articles, focus, buttons, kept answers, feedback,
        turn, activity); returns the number of articles deleted."""
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

    def put_action(
        self, chat_id: int, kind: ActionKind, target: str, payload: str = "", answer: int | None = None
    ) -> str:
        """Remember what a button shown in `chat_id` does (on the kept `answer`, for the
        buttons under an answer); returns its random token."""
        ...

    def action(self, token: str) -> Action | None:
        """The action of a token, or None if unknown (or expired)."""
        ...

    def put_answer(self, answer: KeptAnswer) -> KeptAnswer:
        """Keep an answer shown in `answer.chat_id`; returns it with its id and time."""
        ...

    def kept_answer(self, chat_id: int, answer_id: int) -> KeptAnswer | None:
        """The kept answer, or None if unknown, expired, or another chat's."""
        ...

    def take_quotes(self, chat_id: int, answer_id: int, count: int) -> tuple[QuoteRef, ...] | None:
        """The next `count` quotes of the kept answer not shown yet, marked shown in the same
        transaction (two presses never get the same ones); () when none is left, None when
        the answer is unknown, expired, or another chat's."""
        ...

    def add_feedback(self, feedback: Feedback) -> None:
        """Store one press of 👍 or 👎."""
        ...

    def feedback(self, since: float = 0.0) -> list[Feedback]:
        """Every press at or after `since` (seconds since the epoch), oldest first, all chats."""
        ...

    def put_turn(self, turn: Turn) -> None:
        """Keep the chat's latest question (its turn replaces the one before)."""
        ...

    def last_turn(self, chat_id: int) -> Turn | None:
        """The chat's latest question, if it has one (none once its article or the chat is deleted)."""
        ...

    def chat_state(self, chat_id: int) -> ChatState:
        """What a question in the chat needs (focus, article keys, latest turn), in one read."""
        ...

    def record_question(self, chat_id: int, *, active: float | None, turn: Turn | None) -> None:
        """After a question, in one write: note activity at `active` (None: do not) and keep
        `turn` as the chat's latest (None: keep the one it has)."""
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
