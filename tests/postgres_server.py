"""One real PostgreSQL 16 (with pgvector) per test run, from the `pgserver` wheel: no system
install. The server listens only on a Unix socket in its temporary data folder; every test
that asks gets a database of its own, created empty and dropped afterwards.

When the server cannot start, the tests that need it are skipped saying why, except in CI
(CI=true), where they fail: there, PostgreSQL mode must be tested, not silently left out.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql


class PostgresServer:
    """A running pgserver instance and what the tests do with it."""

    def __init__(self, handle: Any, folder: Path) -> None:
        self._handle, self.folder = handle, folder

    def pause(self) -> None:
        """Stop the server, keeping its data (only for a server started with cleanup="stop")."""
        assert self._handle.cleanup_mode == "stop", "pause() would delete the data of this server"
        self._handle.cleanup()

    def resume(self) -> None:
        """Start the paused server again, on the same socket and data."""
        import pgserver

        self._handle = pgserver.get_server(self.folder / "data", cleanup_mode="stop")

    def url(self, database: str = "postgres") -> str:
        """The URL of one of the server's databases (`postgresql://postgres:@/NAME?host=SOCKET_DIR`)."""
        return str(self._handle.get_uri(database))

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new empty database for the block; its URL. Dropped afterwards, connections or not."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield self.url(name)
        finally:
            self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(statement)

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        self._handle.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres(cleanup: str = "delete") -> PostgresServer:
    """Start PostgreSQL in a new temporary folder (outside pytest's, whose permissions pytest
    resets: as root, pgserver runs the server as its own user, which must reach the folder).
    `cleanup="stop"` makes a server that `pause()` stops and `resume()` starts again."""
    folder = Path(tempfile.mkdtemp(prefix="sanad-pg-"))
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers); harmless
            warnings.simplefilter("ignore")
            import pgserver

            handle = pgserver.get_server(folder / "data", cleanup_mode=cleanup)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return PostgresServer(handle, folder)


def postgres_or_skip(start: Callable[[], PostgresServer] = start_postgres) -> PostgresServer:
    """The started server; without one, skip (fail under CI=true) saying why."""
    try:
        return start()
    except Exception as exc:  # noqa: BLE001 - any failure to start is reported the same way
        message = f"pgserver could not start PostgreSQL ({type(exc).__name__}: {exc})"
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"{message}; CI=true, so the PostgreSQL tests fail instead of being skipped")
        pytest.skip(f"{message}; install the dev extras (pip install -e '.[dev]') to run them")
