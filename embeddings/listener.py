"""Following a PostgreSQL channel: a background thread with a connection of its own that
LISTENs and calls `wake` for every notification, and also when it (re)connects and every
`resync_seconds`, so a notification missed while disconnected is never waited for.

The thread never dies of a database error: a lost connection (server restart, network,
`pg_terminate_backend`) is retried after 0.25 s, then twice as long each time up to
`max_retry_seconds`, and `wake(None)` runs once LISTEN is back (the caller catches up then).
`stop()` returns within about WAIT_SECONDS. Counters are read from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from .settings import hide_passwords

WAIT_SECONDS = 0.5  # how long one wait for notifications lasts (and so how soon stop() is seen)
FIRST_RETRY_SECONDS = 0.25
APPLICATION_NAME = "sanad-listener"  # as pg_stat_activity shows the connection

Wake = Callable[[int | None], None]  # the number a notification carried, or None: catch up
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListenerStatus:
    """What the listener did so far."""

    listening: bool  # connected, LISTEN done
    notifications: int  # received
    reconnects: int  # connections made after the first
    backend_pid: int | None  # the server process of the current connection


class ChangeListener:
    """A thread LISTENing on `channel` at `url` that calls `wake` (see the module docstring)."""

    def __init__(
        self,
        url: str,
        channel: str,
        wake: Wake,
        *,
        resync_seconds: float = 30.0,
        max_retry_seconds: float = 5.0,
        connect_timeout: int = 10,
    ) -> None:
        self._url, self._channel, self._wake = url, channel, wake
        self._resync, self._max_retry, self._connect_timeout = resync_seconds, max_retry_seconds, connect_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listening = False
        self._notifications = 0
        self._connections = 0
        self._backend_pid: int | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sanad-listener", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for it (its connection is closed)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> ListenerStatus:
        """The counters, now."""
        return ListenerStatus(self._listening, self._notifications, max(0, self._connections - 1), self._backend_pid)

    def _run(self) -> None:
        delay = FIRST_RETRY_SECONDS
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._url,
                    autocommit=True,
                    application_name=APPLICATION_NAME,
                    connect_timeout=self._connect_timeout,
                ) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._connections += 1
                    self._backend_pid, self._listening = conn.info.backend_pid, True
                    if self._connections > 1:
                        logger.info("Listening for library changes again; catching up")
                    self._wake(None)  # whatever was committed before LISTEN
                    delay = FIRST_RETRY_SECONDS
                    self._listen(conn)
            except Exception as exc:  # the thread outlives any failure, and says so
                if self._stop.is_set():
                    break
                level = logging.WARNING if isinstance(exc, psycopg.Error) else logging.ERROR
                logger.log(
                    level,
                    "Lost the library changes' connection (%s); answering from memory, retrying in %.2g s",
                    hide_passwords(f"{type(exc).__name__}: {exc}".strip()),
                    delay,
                    exc_info=not isinstance(exc, psycopg.Error),
                )
            finally:
                self._listening, self._backend_pid = False, None
            self._stop.wait(delay)
            delay = min(delay * 2, self._max_retry)

    def _listen(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        synced = time.monotonic()
        while not self._stop.is_set():
            for notify in conn.notifies(timeout=WAIT_SECONDS):
                self._notifications += 1
                self._wake(_number(notify.payload))
                synced = time.monotonic()
                if self._stop.is_set():
                    return
            if time.monotonic() - synced >= self._resync:
                self._wake(None)
                synced = time.monotonic()


def _number(payload: str) -> int | None:
    """The change number a notification carries (None when it is not one: catch up anyway)."""
    return int(payload) if payload.isascii() and payload.isdigit() else None
