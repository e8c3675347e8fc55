"""The chats' store in one SQLite file: stdlib `sqlite3`, WAL, foreign keys, secure delete.

One connection, shared by the threads behind a lock (SQLite serialises writers anyway, and
our statements are short). The schema version is `PRAGMA user_version`; its migrations are
in `sqlite_schema.py`, and an older file is brought up to date on open.

`secure_delete` overwrites deleted rows with zeros, and each deletion ends with a WAL
checkpoint that truncates the log, so a forgotten article's text is not left in the file.

The file serves one process (the bot, or the CLI beside it): a claim on a Telegram update
that another store left `claimed` is a leftover of a process that stopped, and is taken over.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from ..conversation import Turn
from ..errors import SettingsError
from ..types import AnswerKind, text_checksum
from .base import (
    ACTION_DAYS,
    TOKEN_BYTES,
    Action,
    ActionKind,
    ChatState,
    ChatSummary,
    Feedback,
    KeptAnswer,
    QuoteRef,
    StoredArticle,
    UpdateClaim,
    own_article_number,
)
from .rows import (
    ACTION_COLUMNS,
    ARTICLE_COLUMNS,
    FEEDBACK_COLUMNS,
    QUOTE_COLUMNS,
    TURN_COLUMNS,
    action_from_row,
    article_from_row,
    feedback_from_row,
    feedback_row,
    quote_ref_from_row,
    quote_row,
    turn_from_row,
    turn_row,
)
from .sqlite_schema import MIGRATIONS, SCHEMA_VERSION

UPDATE_DAYS = 2  # Telegram keeps an update 24 hours; a handled one is remembered this long


class SQLiteChatStore:
    """`ChatStore` in an SQLite file (created with its folder when missing), or ":memory:"."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise SettingsError(f"cannot open the database {path} ({exc}); check SANAD_DATABASE in .env") from exc
        self._lock = threading.Lock()
        self.worker = secrets.randbits(31)  # who holds this store's claims on updates
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.execute("PRAGMA synchronous = NORMAL")  # WAL: a power cut may lose the last commits, never corrupts
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._migrate()

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise SettingsError(
                f"the database {self.path} has schema version {version}, newer than this Sanad's "
                f"{SCHEMA_VERSION}; update Sanad, or point SANAD_DATABASE at another file"
            )
        for number in range(version, SCHEMA_VERSION):
            self._db.executescript(f"BEGIN; {MIGRATIONS[number]} PRAGMA user_version = {number + 1}; COMMIT;")

    def _rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _write(self, *statements: tuple[str, tuple[Any, ...]], checkpoint: bool = False) -> list[sqlite3.Cursor]:
        """Run statements in one transaction; with `checkpoint`, truncate the WAL afterwards."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursors = [self._db.execute(sql, params) for sql, params in statements]
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            if checkpoint:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return cursors

    # --- articles --------------------------------------------------------------------------

    def add_article(self, owner: int, title: str, source: str, text: str, added: str) -> StoredArticle:
        """Store an article for `owner` under its next number."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(_ENSURE_CHAT, (owner, now))
                (number,) = self._db.execute("SELECT next_number FROM chats WHERE chat_id = ?", (owner,)).fetchone()
                checksum = text_checksum(text)
                self._db.execute(
                    f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (owner, number, title, source, text, added, checksum),
                )
                self._db.execute("UPDATE chats SET next_number = ? WHERE chat_id = ?", (number + 1, owner))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return StoredArticle(owner, int(number), title, source, text, added, checksum)

    def articles(self, owner: int) -> list[StoredArticle]:
        """The owner's articles, by number."""
        rows = self._rows(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE owner = ? ORDER BY number", owner)
        return [article_from_row(row) for row in rows]

    def article(self, owner: int, number: int) -> StoredArticle | None:
        """One of the owner's articles, or None (also when it is another owner's)."""
        rows = self._rows(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE owner = ? AND number = ?", owner, number)
        return article_from_row(rows[0]) if rows else None

    def find_article(
        self, owner: int, *, checksum: str | None = None, source: str | None = None
    ) -> StoredArticle | None:
        """The owner's article with this checksum or this exact source, if any."""
        rows = self._rows(
            f"SELECT {ARTICLE_COLUMNS} FROM articles "
            "WHERE owner = ? AND (checksum = ? OR source = ?) ORDER BY number LIMIT 1",
            owner,
            checksum,
            source,
        )
        return article_from_row(rows[0]) if rows else None

    def article_keys(self, owner: int) -> list[tuple[int, str]]:
        """(number, checksum) of each of the owner's articles, by number (cheap: no texts)."""
        rows = self._rows("SELECT number, checksum FROM articles WHERE owner = ? ORDER BY number", owner)
        return [(int(number), str(checksum)) for number, checksum in rows]

    def count_articles(self, owner: int) -> int:
        """How many articles the owner has."""
        return int(self._rows("SELECT count(*) FROM articles WHERE owner = ?", owner)[0][0])

    def delete_article(self, owner: int, number: int) -> StoredArticle | None:
        """Delete one of the owner's articles, its buttons, and the focus on it; returns it."""
        found = self.article(owner, number)
        if found is None:
            return None
        target = found.article().id
        in_chat = "SELECT id FROM answers WHERE chat_id = ?"
        self._write(
            ("DELETE FROM articles WHERE owner = ? AND number = ?", (owner, number)),
            ("DELETE FROM actions WHERE chat_id = ? AND target = ?", (owner, target)),
            # The kept answers keep their ranks (their buttons then say the article is gone), not
            # the fingerprint of a text that is no more.
            (
                f"UPDATE answer_quotes SET checksum = '' WHERE article_id = ? AND answer_id IN ({in_chat})",
                (target, owner),
            ),
            ("DELETE FROM feedback WHERE chat_id = ? AND article_id = ?", (owner, target)),
            ("UPDATE chats SET focus = NULL WHERE chat_id = ? AND focus = ?", (owner, target)),
            ("DELETE FROM turns WHERE chat_id = ? AND (article_id = ? OR focus = ?)", (owner, target, target)),
            checkpoint=True,
        )
        return found

    def delete_owner(self, owner: int) -> int:
        """Delete everything of the owner; returns the number of articles deleted."""
        count = self.count_articles(owner)
        self._write(("DELETE FROM chats WHERE chat_id = ?", (owner,)), checkpoint=True)  # cascades
        return count

    # --- focus, activity, counters ----------------------------------------------------------

    def focus(self, chat_id: int) -> str | None:
        """The collection id of the chat's focused article, if any."""
        rows = self._rows("SELECT focus FROM chats WHERE chat_id = ?", chat_id)
        return cast(str | None, rows[0][0]) if rows else None

    def set_focus(self, chat_id: int, article_id: str | None) -> None:
        """Focus the chat on an article (its collection id), or on none."""
        self._write(
            (_ENSURE_CHAT, (chat_id, time.time())),
            ("UPDATE chats SET focus = ? WHERE chat_id = ?", (article_id, chat_id)),
        )

    def record_add(self, user_id: int, at: float) -> None:
        """Count one article added by a user at `at`; counts older than a day are pruned."""
        self._write(
            ("DELETE FROM adds WHERE at < ?", (at - 86_400,)),
            ("INSERT INTO adds (user_id, at) VALUES (?, ?)", (user_id, at)),
        )

    def adds_since(self, user_id: int, since: float) -> int:
        """How many articles the user added at or after `since`."""
        return int(self._rows("SELECT count(*) FROM adds WHERE user_id = ? AND at >= ?", user_id, since)[0][0])

    def touch(self, chat_id: int, at: float) -> None:
        """Note activity in a chat."""
        self._write(
            (_ENSURE_CHAT, (chat_id, at)),
            (_TOUCH, (at, chat_id)),
        )

    def chats(self) -> list[ChatSummary]:
        """Every chat with articles or activity, by id."""
        rows = self._rows(
            "SELECT c.chat_id, count(a.number), c.last_active FROM chats c "
            "LEFT JOIN articles a ON a.owner = c.chat_id GROUP BY c.chat_id ORDER BY c.chat_id"
        )
        return [ChatSummary(int(chat), int(count), float(last)) for chat, count, last in rows]

    # --- buttons -----------------------------------------------------------------------------

    def put_action(
        self, chat_id: int, kind: ActionKind, target: str, payload: str = "", answer: int | None = None
    ) -> str:
        """Remember what a button shown in `chat_id` does; returns its random token."""
        token, now = secrets.token_urlsafe(TOKEN_BYTES), time.time()
        self._write(
            ("DELETE FROM actions WHERE created < ?", (now - ACTION_DAYS * 86_400,)),
            (_ENSURE_CHAT, (chat_id, now)),
            (
                "INSERT INTO actions (token, chat_id, kind, target, payload, created, answer) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token, chat_id, kind, target, payload, now, answer),
            ),
        )
        return token

    def action(self, token: str) -> Action | None:
        """The action of a token, or None if unknown (or expired)."""
        since = time.time() - ACTION_DAYS * 86_400
        rows = self._rows(
            f"SELECT {ACTION_COLUMNS} FROM actions WHERE token = ? AND created >= ?",
            token,
            since,
        )
        if not rows:
            return None
        return action_from_row(rows[0])

    # --- kept answers and feedback -------------------------------------------------------------

    def put_answer(self, answer: KeptAnswer) -> KeptAnswer:
        """Keep an answer shown in `answer.chat_id`; returns it with its id and time."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM answers WHERE created < ?", (now - ACTION_DAYS * 86_400,))
                self._db.execute(_ENSURE_CHAT, (answer.chat_id, now))
                cursor = self._db.execute(
                    "INSERT INTO answers (chat_id, question, kind, confidence, shown, created) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (answer.chat_id, answer.question, answer.kind, answer.confidence, answer.shown, now),
                )
                answer_id = int(cursor.lastrowid or 0)
                self._db.executemany(
                    f"INSERT INTO answer_quotes (answer_id, rank, {QUOTE_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                    [(answer_id, rank, *quote_row(ref)) for rank, ref in enumerate(answer.quotes)],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return replace(answer, id=answer_id, created=now)

    def kept_answer(self, chat_id: int, answer_id: int) -> KeptAnswer | None:
        """The kept answer, or None if unknown, expired, or another chat's."""
        with self._lock:
            return self._kept(chat_id, answer_id)

    def take_quotes(self, chat_id: int, answer_id: int, count: int) -> tuple[QuoteRef, ...] | None:
        """The next `count` quotes not shown yet, marked shown in the same transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                kept = self._kept(chat_id, answer_id)
                if kept is not None:
                    taken = kept.quotes[kept.shown : kept.shown + max(count, 0)]
                    self._db.execute("UPDATE answers SET shown = ? WHERE id = ?", (kept.shown + len(taken), kept.id))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return taken if kept is not None else None

    def _kept(self, chat_id: int, answer_id: int) -> KeptAnswer | None:
        """The kept answer (call with the lock held)."""
        since = time.time() - ACTION_DAYS * 86_400
        rows = self._db.execute(
            "SELECT question, kind, confidence, shown, created FROM answers "
            "WHERE id = ? AND chat_id = ? AND created >= ?",
            (answer_id, chat_id, since),
        ).fetchall()
        if not rows:
            return None
        question, kind, confidence, shown, created = rows[0]
        quotes = self._db.execute(
            f"SELECT {QUOTE_COLUMNS} FROM answer_quotes WHERE answer_id = ? ORDER BY rank", (answer_id,)
        ).fetchall()
        return KeptAnswer(
            chat_id,
            str(question),
            cast(AnswerKind, kind),
            None if confidence is None else float(confidence),
            tuple(quote_ref_from_row(row) for row in quotes),
            int(shown),
            answer_id,
            float(created),
        )

    def add_feedback(self, feedback: Feedback) -> None:
        """Store one press of 👍 or 👎."""
        self._write(
            (_ENSURE_CHAT, (feedback.chat_id, feedback.at)),
            (f"INSERT INTO feedback ({FEEDBACK_COLUMNS}) VALUES ({', '.join('?' * 16)})", feedback_row(feedback)),
        )

    def feedback(self, since: float = 0.0) -> list[Feedback]:
        """Every press at or after `since`, oldest first, all chats."""
        rows = self._rows(f"SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE at >= ? ORDER BY at, id", since)
        return [feedback_from_row(row) for row in rows]

    # --- turns ------------------------------------------------------------------------------

    def put_turn(self, turn: Turn) -> None:
        """Keep the chat's latest question (its turn replaces the one before)."""
        self._write((_ENSURE_CHAT, (turn.chat_id, turn.asked)), _put_turn(turn))

    def last_turn(self, chat_id: int) -> Turn | None:
        """The chat's latest question, if it has one."""
        rows = self._rows(f"SELECT {TURN_COLUMNS} FROM turns WHERE chat_id = ?", chat_id)
        if not rows:
            return None
        return turn_from_row(rows[0])

    def chat_state(self, chat_id: int) -> ChatState:
        """What a question in the chat needs (focus, article keys, latest turn), in one read."""
        with self._lock:
            self._db.execute("BEGIN")  # one snapshot for the three reads
            try:
                focus_rows = self._db.execute("SELECT focus FROM chats WHERE chat_id = ?", (chat_id,)).fetchall()
                keys = self._db.execute(
                    "SELECT number, checksum FROM articles WHERE owner = ? ORDER BY number", (chat_id,)
                ).fetchall()
                turns = self._db.execute(f"SELECT {TURN_COLUMNS} FROM turns WHERE chat_id = ?", (chat_id,)).fetchall()
                focus = cast(str | None, focus_rows[0][0]) if focus_rows else None
                number = own_article_number(focus) if focus else None
                focused = None
                if number is not None:
                    found = self._db.execute(
                        f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE owner = ? AND number = ?", (chat_id, number)
                    ).fetchall()
                    focused = article_from_row(found[0]) if found else None
            finally:
                self._db.execute("COMMIT")
        return ChatState(
            focus,
            tuple((int(n), str(c)) for n, c in keys),
            turn_from_row(turns[0]) if turns else None,
            focused,
        )

    def record_question(self, chat_id: int, *, active: float | None, turn: Turn | None) -> None:
        """After a question, in one write: note activity at `active`, keep `turn` as the latest."""
        at = active if active is not None else turn.asked if turn is not None else time.time()
        statements: list[tuple[str, tuple[Any, ...]]] = [(_ENSURE_CHAT, (chat_id, at))]
        if active is not None:
            statements.append((_TOUCH, (active, chat_id)))
        if turn is not None:
            statements.append(_put_turn(turn))
        self._write(*statements)

    # --- Telegram updates ----------------------------------------------------------------------

    def claim_update(self, update_id: int) -> UpdateClaim:
        """Claim an update unless it was handled (one process: any other claim is a leftover)."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM updates WHERE changed < ?", (now - UPDATE_DAYS * 86_400,))
                row = self._db.execute(
                    "SELECT state, attempts FROM updates WHERE update_id = ?", (update_id,)
                ).fetchone()
                if row is not None and row[0] == "done":
                    self._db.execute("COMMIT")
                    return UpdateClaim("done", 0)
                attempt = (int(row[1]) if row is not None else 0) + 1
                self._db.execute(
                    "INSERT INTO updates (update_id, state, worker, attempts, changed) VALUES (?, 'claimed', ?, ?, ?) "
                    "ON CONFLICT (update_id) DO UPDATE SET state = 'claimed', worker = excluded.worker, "
                    "attempts = excluded.attempts, changed = excluded.changed",
                    (update_id, self.worker, attempt, now),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return UpdateClaim("claimed", attempt)

    def finish_update(self, update_id: int, *, done: bool) -> None:
        """End this store's claim: done (never handled again), or failed (the next claim takes it)."""
        self._write(
            (
                "UPDATE updates SET state = ?, worker = NULL, changed = ? "
                "WHERE update_id = ? AND state = 'claimed' AND worker = ?",
                ("done" if done else "failed", time.time(), update_id, self.worker),
            )
        )

    def try_lead(self, role: str) -> bool:
        """Always True: an SQLite file serves one process."""
        return True

    def check_reachable(self, timeout: float) -> str | None:
        """None if the file answers a query (it is local: `timeout` does not matter)."""
        try:
            self._rows("SELECT 1")
        except sqlite3.Error as exc:
            return f"the database {self.path} cannot be read: {exc}"
        return None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


_ENSURE_CHAT = "INSERT OR IGNORE INTO chats (chat_id, last_active) VALUES (?, ?)"
_TOUCH = "UPDATE chats SET last_active = max(last_active, ?) WHERE chat_id = ?"


def _put_turn(turn: Turn) -> tuple[str, tuple[Any, ...]]:
    """The statement keeping `turn` as its chat's latest."""
    return f"INSERT OR REPLACE INTO turns ({TURN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", turn_row(turn)
