"""The chats' store in PostgreSQL: psycopg 3, a connection pool, versioned migrations.

Several processes (bot replicas, the CLI) may share one database. Every method is one
transaction on a connection of the pool. A chat's next number is taken with `UPDATE chats
... RETURNING` on the chat's row, which PostgreSQL keeps locked until the transaction ends:
two adds for one owner, from any two processes, never get the same number (and the
(owner, number) key would refuse a duplicate anyway).

The schema and its migrations are in `pg_schema.py`; the worker session behind the claims on
Telegram updates and the roles a replica leads, in `pg_workers.py`.

A deleted row's text is gone for every query at once, but PostgreSQL, unlike the SQLite
store, does not overwrite it on disk: it stays in dead tuples until VACUUM reuses the space,
and in the write-ahead log and any backup.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, cast

from ..conversation import Turn
from ..settings import hide_passwords
from ..types import AnswerKind, text_checksum
from .base import (
    ACTION_DAYS,
    OWN_PREFIX,
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
)
from .pg_pool import Conn, Pool
from .pg_schema import migrate
from .pg_workers import CLAIM_WAIT_SECONDS, WorkerSession, claim_update, finish_update
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

QUESTION_WAIT_SECONDS = 5.0  # a question's read and write wait no longer: the user is told to try again

_ENSURE_CHAT = "INSERT INTO chats (chat_id, last_active) VALUES (%s, %s) ON CONFLICT (chat_id) DO NOTHING"
# The chat's row, its activity noted when the third value is true (else only made if missing):
_TOUCH = (
    "INSERT INTO chats (chat_id, last_active) VALUES (%s, %s) ON CONFLICT (chat_id) "
    "DO UPDATE SET last_active = greatest(chats.last_active, excluded.last_active) WHERE %s"
)
_TURN_FIELDS = TURN_COLUMNS.split(", ")
# The chat's row and its turn in one statement: the turn's foreign key is checked at its end.
_TOUCH_AND_TURN = (
    f"WITH chat AS ({_TOUCH}) INSERT INTO turns ({TURN_COLUMNS}) VALUES ({', '.join(['%s'] * len(_TURN_FIELDS))}) "
    f"ON CONFLICT (chat_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _TURN_FIELDS[1:])}"
)
# One row whatever the chat has: its focus, its articles' numbers and checksums, its turn, and
# the focused article when it is one of its own.
_CHAT_STATE = (
    "SELECT c.focus, "
    "ARRAY(SELECT number FROM articles WHERE owner = q.chat ORDER BY number), "
    "ARRAY(SELECT checksum FROM articles WHERE owner = q.chat ORDER BY number), "
    f"{', '.join(f't.{c}' for c in _TURN_FIELDS)}, {', '.join(f'f.{c}' for c in ARTICLE_COLUMNS.split(', '))} "
    "FROM (SELECT %(chat)s::bigint AS chat) q "
    "LEFT JOIN chats c ON c.chat_id = q.chat "
    "LEFT JOIN turns t ON t.chat_id = q.chat "
    f"LEFT JOIN articles f ON f.owner = q.chat AND c.focus = '{OWN_PREFIX}' || f.number"
)


class PostgresChatStore:
    """`ChatStore` in a PostgreSQL database (SANAD_DATABASE_URL), brought to the current
    schema on open. Thread-safe; several processes may share the database."""

    def __init__(self, url: str, *, max_connections: int = 4, connect_timeout: float = 10.0) -> None:
        self.shown_url = hide_passwords(url)  # the URL as messages may show it
        self._workers = WorkerSession(url, connect_timeout)  # holds the worker lock (and any lead)
        self._pool = Pool(url, name="sanad", max_connections=max_connections, connect_timeout=connect_timeout)
        try:
            self.migrated_from = self._migrate()  # the schema version found on open
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def transaction(self, wait: float | None = None) -> Iterator[Conn]:
        """A connection of the pool inside one transaction: committed when the block ends,
        rolled back when it raises. `wait`: seconds to wait for a connection, else the pool's
        30. The database failing raises DatabaseError."""
        with self._pool.transaction(wait) as conn:
            yield conn

    def _migrate(self) -> int:
        """Apply the missing migrations under the advisory lock; returns the version found."""
        with self.transaction() as conn:
            return migrate(conn, self.shown_url)

    def _rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """The rows of one reading statement (one round trip, no transaction around it)."""
        return self._pool.read(sql, params)

    # --- articles --------------------------------------------------------------------------

    def add_article(self, owner: int, title: str, source: str, text: str, added: str) -> StoredArticle:
        """Store an article for `owner` under its next number."""
        checksum = text_checksum(text)
        with self.transaction() as conn:
            conn.execute(_ENSURE_CHAT, (owner, time.time()))
            # The row stays locked until commit: a concurrent add for this owner waits, then
            # reads the number this one left.
            number = int(
                _one(
                    conn,
                    "UPDATE chats SET next_number = next_number + 1 WHERE chat_id = %s RETURNING next_number - 1",
                    owner,
                )
            )
            conn.execute(
                f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (owner, number, title, source, text, added, checksum),
            )
        return StoredArticle(owner, number, title, source, text, added, checksum)

    def articles(self, owner: int) -> list[StoredArticle]:
        """The owner's articles, by number."""
        rows = self._rows(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE owner = %s ORDER BY number", owner)
        return [article_from_row(row) for row in rows]

    def article(self, owner: int, number: int) -> StoredArticle | None:
        """One of the owner's articles, or None (also when it is another owner's)."""
        rows = self._rows(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE owner = %s AND number = %s", owner, number)
        return article_from_row(rows[0]) if rows else None

    def find_article(
        self, owner: int, *, checksum: str | None = None, source: str | None = None
    ) -> StoredArticle | None:
        """The owner's article with this checksum or this exact source, if any."""
        rows = self._rows(
            f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE owner = %s AND (checksum = %s OR source = %s) "
            "ORDER BY number LIMIT 1",
            owner,
            checksum,
            source,
        )
        return article_from_row(rows[0]) if rows else None

    def article_keys(self, owner: int) -> list[tuple[int, str]]:
        """(number, checksum) of each of the owner's articles, by number (cheap: no texts)."""
        rows = self._rows("SELECT number, checksum FROM articles WHERE owner = %s ORDER BY number", owner)
        return [(int(number), str(checksum)) for number, checksum in rows]

    def count_articles(self, owner: int) -> int:
        """How many articles the owner has."""
        return int(self._rows("SELECT count(*) FROM articles WHERE owner = %s", owner)[0][0])

    def delete_article(self, owner: int, number: int) -> StoredArticle | None:
        """Delete one of the owner's articles, its buttons, the focus on it, the turn about it
        and the feedback on it (the kept answers' quotes of it forget its checksum); returns it."""
        with self.transaction() as conn:
            rows = conn.execute(
                f"DELETE FROM articles WHERE owner = %s AND number = %s RETURNING {ARTICLE_COLUMNS}", (owner, number)
            ).fetchall()
            if not rows:
                return None
            found = article_from_row(rows[0])
            target = found.article().id
            conn.execute("DELETE FROM actions WHERE chat_id = %s AND target = %s", (owner, target))
            conn.execute("UPDATE chats SET focus = NULL WHERE chat_id = %s AND focus = %s", (owner, target))
            # The kept answers keep their ranks (their buttons then say the article is gone), not
            # the fingerprint of a text that is no more.
            conn.execute(
                "UPDATE answer_quotes SET checksum = '' WHERE article_id = %s "
                "AND answer_id IN (SELECT id FROM answers WHERE chat_id = %s)",
                (target, owner),
            )
            conn.execute("DELETE FROM feedback WHERE chat_id = %s AND article_id = %s", (owner, target))
            conn.execute(
                "DELETE FROM turns WHERE chat_id = %s AND (article_id = %s OR focus = %s)", (owner, target, target)
            )
        return found

    def delete_owner(self, owner: int) -> int:
        """Delete everything of the owner; returns the number of articles deleted."""
        with self.transaction() as conn:
            count = conn.execute("DELETE FROM articles WHERE owner = %s", (owner,)).rowcount
            conn.execute("DELETE FROM chats WHERE chat_id = %s", (owner,))  # cascades to its buttons and turn
        return max(count, 0)

    # --- focus, activity, counters ----------------------------------------------------------

    def focus(self, chat_id: int) -> str | None:
        """The collection id of the chat's focused article, if any."""
        rows = self._rows("SELECT focus FROM chats WHERE chat_id = %s", chat_id)
        return cast(str | None, rows[0][0]) if rows else None

    def set_focus(self, chat_id: int, article_id: str | None) -> None:
        """Focus the chat on an article (its collection id), or on none."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO chats (chat_id, last_active, focus) VALUES (%s, %s, %s) "
                "ON CONFLICT (chat_id) DO UPDATE SET focus = excluded.focus",
                (chat_id, time.time(), article_id),
            )

    def record_add(self, user_id: int, at: float) -> None:
        """Count one article added by a user at `at`; counts older than a day are pruned."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM adds WHERE at < %s", (at - 86_400,))
            conn.execute("INSERT INTO adds (user_id, at) VALUES (%s, %s)", (user_id, at))

    def adds_since(self, user_id: int, since: float) -> int:
        """How many articles the user added at or after `since`."""
        return int(self._rows("SELECT count(*) FROM adds WHERE user_id = %s AND at >= %s", user_id, since)[0][0])

    def touch(self, chat_id: int, at: float) -> None:
        """Note activity in a chat."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO chats (chat_id, last_active) VALUES (%s, %s) ON CONFLICT (chat_id) "
                "DO UPDATE SET last_active = greatest(chats.last_active, excluded.last_active)",
                (chat_id, at),
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
        with self.transaction() as conn:
            conn.execute("DELETE FROM actions WHERE created < %s", (now - ACTION_DAYS * 86_400,))
            conn.execute(_ENSURE_CHAT, (chat_id, now))
            conn.execute(
                "INSERT INTO actions (token, chat_id, kind, target, payload, created, answer) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (token, chat_id, kind, target, payload, now, answer),
            )
        return token

    def action(self, token: str) -> Action | None:
        """The action of a token, or None if unknown (or expired)."""
        since = time.time() - ACTION_DAYS * 86_400
        rows = self._rows(
            f"SELECT {ACTION_COLUMNS} FROM actions WHERE token = %s AND created >= %s",
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
        with self.transaction() as conn:
            conn.execute("DELETE FROM answers WHERE created < %s", (now - ACTION_DAYS * 86_400,))
            conn.execute(_ENSURE_CHAT, (answer.chat_id, now))
            answer_id = int(
                _one(
                    conn,
                    "INSERT INTO answers (chat_id, question, kind, confidence, shown, created) "
                    "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                    answer.chat_id,
                    answer.question,
                    answer.kind,
                    answer.confidence,
                    answer.shown,
                    now,
                )
            )
            with conn.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO answer_quotes (answer_id, rank, {QUOTE_COLUMNS}) VALUES ({', '.join(['%s'] * 12)})",
                    [(answer_id, rank, *quote_row(ref)) for rank, ref in enumerate(answer.quotes)],
                )
        return replace(answer, id=answer_id, created=now)

    def kept_answer(self, chat_id: int, answer_id: int) -> KeptAnswer | None:
        """The kept answer, or None if unknown, expired, or another chat's."""
        with self.transaction() as conn:
            return _kept(conn, chat_id, answer_id)

    def take_quotes(self, chat_id: int, answer_id: int, count: int) -> tuple[QuoteRef, ...] | None:
        """The next `count` quotes not shown yet, marked shown in the same transaction (the
        answer's row stays locked until it ends: two presses never get the same ones)."""
        with self.transaction() as conn:
            kept = _kept(conn, chat_id, answer_id, lock=True)
            if kept is None:
                return None
            taken = kept.quotes[kept.shown : kept.shown + max(count, 0)]
            conn.execute("UPDATE answers SET shown = %s WHERE id = %s", (kept.shown + len(taken), kept.id))
        return taken

    def add_feedback(self, feedback: Feedback) -> None:
        """Store one press of 👍 or 👎."""
        with self.transaction() as conn:
            conn.execute(_ENSURE_CHAT, (feedback.chat_id, feedback.at))
            conn.execute(
                f"INSERT INTO feedback ({FEEDBACK_COLUMNS}) VALUES ({', '.join(['%s'] * 16)})", feedback_row(feedback)
            )

    def feedback(self, since: float = 0.0) -> list[Feedback]:
        """Every press at or after `since`, oldest first, all chats."""
        rows = self._rows(f"SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE at >= %s ORDER BY at, id", since)
        return [feedback_from_row(row) for row in rows]

    # --- turns ------------------------------------------------------------------------------

    def put_turn(self, turn: Turn) -> None:
        """Keep the chat's latest question (its turn replaces the one before)."""
        self.record_question(turn.chat_id, active=None, turn=turn)

    def last_turn(self, chat_id: int) -> Turn | None:
        """The chat's latest question, if it has one."""
        rows = self._rows(f"SELECT {TURN_COLUMNS} FROM turns WHERE chat_id = %s", chat_id)
        return turn_from_row(rows[0]) if rows else None

    def chat_state(self, chat_id: int) -> ChatState:
        """What a question in the chat needs (focus, article keys, latest turn, the focused own
        article): one statement, so one round trip and one snapshot."""
        rows = self._pool.read(_CHAT_STATE, {"chat": chat_id}, wait=QUESTION_WAIT_SECONDS)
        focus, numbers, checksums, *rest = rows[0]
        turn, focused = rest[: len(_TURN_FIELDS)], rest[len(_TURN_FIELDS) :]
        return ChatState(
            cast(str | None, focus),
            tuple((int(n), str(c)) for n, c in zip(numbers, checksums, strict=True)),
            turn_from_row(tuple(turn)) if turn[0] is not None else None,
            article_from_row(tuple(focused)) if focused[0] is not None else None,
        )

    def record_question(self, chat_id: int, *, active: float | None, turn: Turn | None) -> None:
        """After a question, in one statement: note activity at `active`, keep `turn` as the
        latest. Its commit does not wait for the disk (`Pool.write_lazily`): the answer is not
        held up by an fsync, and a crash of the server may lose only that."""
        at = active if active is not None else turn.asked if turn is not None else time.time()
        chat = (chat_id, at, active is not None)
        if turn is None:
            self._pool.write_lazily(_TOUCH, chat, wait=QUESTION_WAIT_SECONDS)
        else:
            self._pool.write_lazily(_TOUCH_AND_TURN, (*chat, *turn_row(turn)), wait=QUESTION_WAIT_SECONDS)

    # --- Telegram updates ----------------------------------------------------------------------

    def claim_update(self, update_id: int) -> UpdateClaim:
        """Claim an update: new, failed, this store's, or of a worker whose session is gone."""
        worker, now = self._workers.worker(), time.time()
        with self.transaction(wait=CLAIM_WAIT_SECONDS) as conn:
            return claim_update(conn, update_id, worker, self._workers.ids, now)

    def finish_update(self, update_id: int, *, done: bool) -> None:
        """End this store's claim: done (never handled again), or failed (the next claim takes it)."""
        with self.transaction(wait=CLAIM_WAIT_SECONDS) as conn:
            finish_update(conn, update_id, self._workers.ids, done=done, now=time.time())

    def try_lead(self, role: str) -> bool:
        """True if this store now holds the role's lock (until closed, or its session breaks)."""
        return self._workers.try_lead(role)

    def check_reachable(self, timeout: float) -> str | None:
        """None if a connection of the pool answers within `timeout` seconds, else why not."""
        return self._pool.check_reachable(timeout)

    def close(self) -> None:
        """Close the pool, its connections and the worker's session (its claims become takeable)."""
        self._workers.close()
        self._pool.close()


def _one(conn: Conn, sql: str, *params: Any) -> Any:
    """The single value a statement returns."""
    row = conn.execute(sql, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from: {sql}")  # a bug: each caller's statement returns one row
    return row[0]


def _kept(conn: Conn, chat_id: int, answer_id: int, *, lock: bool = False) -> KeptAnswer | None:
    """The chat's kept answer (with `lock`, its row locked until the transaction ends)."""
    since = time.time() - ACTION_DAYS * 86_400
    row = conn.execute(
        "SELECT question, kind, confidence, shown, created FROM answers "
        "WHERE id = %s AND chat_id = %s AND created >= %s" + (" FOR UPDATE" if lock else ""),
        (answer_id, chat_id, since),
    ).fetchone()
    if row is None:
        return None
    question, kind, confidence, shown, created = row
    quotes = conn.execute(f"SELECT {QUOTE_COLUMNS} FROM answer_quotes WHERE answer_id = %s ORDER BY rank", (answer_id,))
    return KeptAnswer(
        chat_id,
        str(question),
        cast(AnswerKind, kind),
        None if confidence is None else float(confidence),
        tuple(quote_ref_from_row(q) for q in quotes.fetchall()),
        int(shown),
        answer_id,
        float(created),
    )
