"""Which replica does what, in PostgreSQL: each store's worker session, and through it the
claims on Telegram updates and the roles one replica leads (`PostgresChatStore` uses it).

Telegram updates (schema version 5): the ones replicas claimed and handled (webhook mode).
Each store is a worker with a random id, and holds a session advisory lock on that id on a
connection of its own for as long as it is open. A claim names its worker; another replica
finding it tries that worker's lock: if it gets it, the worker's session is gone (the
replica was killed, or lost its database), and the claim is taken over; if not, it is busy.
So a replica killed mid-answer loses no update, without waiting for any timeout.
"""

from __future__ import annotations

import secrets
import threading
import zlib
from collections.abc import Sequence
from contextlib import suppress

import psycopg

from .base import UpdateClaim
from .pg_pool import Conn

UPDATE_DAYS = 2  # Telegram keeps an update 24 hours; a handled one is remembered this long
CLAIM_WAIT_SECONDS = 5.0  # a claim waits no longer for a connection: Telegram retries the update anyway
# Two-key advisory locks (their space is apart from pg_schema's one-key MIGRATION_LOCK's):
WORKER_LOCKS = 0x53414E57  # "SANW", worker id: held by each open store's worker session
LEAD_LOCKS = 0x53414E4C  # "SANL", crc32 of a role: held by the store that leads it


class WorkerSession:
    """A store's worker: its ids (the current one last) and the connection, opened on first
    need, that holds the current id's advisory lock and any role it leads. Thread-safe."""

    def __init__(self, url: str, connect_timeout: float) -> None:
        self._url, self._connect_timeout = url, connect_timeout
        self._ids: list[int] = [secrets.randbits(31)]
        self._session: Conn | None = None
        self._lock = threading.Lock()

    @property
    def ids(self) -> tuple[int, ...]:
        """Every id this store has been a worker under, the current one last (a new one
        when a broken session still held the lock on the old)."""
        return tuple(self._ids)

    def worker(self) -> int:
        """This store's worker id, its lock held by a live session (reopened when it broke)."""
        with self._lock:
            session = self._session
            if session is not None and not session.closed:
                try:
                    session.execute("SELECT 1")  # a session that broke (server restart) shows it here
                    return self._ids[-1]
                except psycopg.Error:
                    session.close()
            session = psycopg.connect(self._url, autocommit=True, connect_timeout=max(1, int(self._connect_timeout)))
            row = session.execute("SELECT pg_try_advisory_lock(%s, %s)", (WORKER_LOCKS, self._ids[-1])).fetchone()
            if not (row and row[0]):  # the broken session still holds it on the server: a new id
                self._ids.append(secrets.randbits(31))
                session.execute("SELECT pg_advisory_lock(%s, %s)", (WORKER_LOCKS, self._ids[-1]))
            self._session = session
            return self._ids[-1]

    def try_lead(self, role: str) -> bool:
        """True if this store now holds the role's lock (until closed, or its session breaks)."""
        self.worker()
        with self._lock:
            assert self._session is not None  # opened by worker()
            row = self._session.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LEAD_LOCKS, zlib.crc32(role.encode()) & 0x7FFFFFFF)
            ).fetchone()
        return bool(row and row[0])

    def close(self) -> None:
        """Close the session (the worker's claims become takeable, its roles free)."""
        with self._lock:
            if self._session is not None:
                # Released here, not when the server notices the closed socket: a replica
                # taking over the role right after this close must find the locks free.
                with suppress(psycopg.Error):
                    self._session.execute("SELECT pg_advisory_unlock_all()")
                self._session.close()
                self._session = None


def claim_update(conn: Conn, update_id: int, worker: int, mine: Sequence[int], now: float) -> UpdateClaim:
    """Claim an update for `worker` in the transaction of `conn`: new, failed, one of `mine`
    (this store's worker ids), or of a worker whose session is gone."""
    conn.execute("DELETE FROM updates WHERE changed < %s", (now - UPDATE_DAYS * 86_400,))
    conn.execute(
        "INSERT INTO updates (update_id, state, attempts, changed) VALUES (%s, 'new', 0, %s) "
        "ON CONFLICT (update_id) DO NOTHING",
        (update_id, now),
    )
    row = conn.execute(
        "SELECT state, worker, attempts FROM updates WHERE update_id = %s FOR UPDATE", (update_id,)
    ).fetchone()
    if row is None:  # pruned meanwhile by a claim that saw it as two days old: cannot happen
        raise RuntimeError(f"update {update_id} vanished while claimed")
    state, holder, attempts = row
    if state == "done":
        return UpdateClaim("done", 0)
    if state == "claimed" and holder not in mine and not _gone(conn, int(holder)):
        return UpdateClaim("busy", 0)
    conn.execute(
        "UPDATE updates SET state = 'claimed', worker = %s, attempts = attempts + 1, changed = %s WHERE update_id = %s",
        (worker, now, update_id),
    )
    return UpdateClaim("claimed", int(attempts) + 1)


def finish_update(conn: Conn, update_id: int, mine: Sequence[int], *, done: bool, now: float) -> None:
    """End a claim of one of `mine`: done (never handled again), or failed (the next claim takes it)."""
    conn.execute(
        "UPDATE updates SET state = %s, worker = NULL, changed = %s "
        "WHERE update_id = %s AND state = 'claimed' AND worker = ANY(%s)",
        ("done" if done else "failed", now, update_id, list(mine)),
    )


def _gone(conn: Conn, worker: int) -> bool:
    """True if no session holds the worker's lock (taken and released with the transaction)."""
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (WORKER_LOCKS, worker)).fetchone()
    return bool(row and row[0])
