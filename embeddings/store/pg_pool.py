"""The PostgreSQL connection pool as both stores use it: cheap on the answer path, and every
failure of the database a `DatabaseError` naming SANAD_DATABASE_URL.

Connections are in autocommit mode, so a read of one statement is one round trip (no BEGIN,
no COMMIT, no ROLLBACK when the connection goes back), and `transaction()` opens an explicit
one. Nothing is checked when a connection is taken from the pool (psycopg_pool's `check=`
would cost one more round trip each time). A connection that broke while idle (the server
restarted, or dropped it) shows it at its first command instead: at BEGIN, or at a read,
before anything was done; the pool's idle connections are then checked (`ConnectionPool.check`
replaces the broken ones) and the command tried once more on another connection. A failure
after that, or anywhere else (the server gone, a connection dropped mid-transaction, no
connection within the wait) is raised as `DatabaseError`, the original chained.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from psycopg import Connection
from psycopg.abc import Params
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import DatabaseError, SettingsError
from ..settings import hide_passwords

Conn = Connection[TupleRow]
POOL_WAIT_SECONDS = 30.0  # psycopg_pool's default wait for a connection


class Pool:
    """A pool of autocommit connections to one database, opened on construction."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        max_connections: int = 4,
        connect_timeout: float = 10.0,
        configure: Callable[[Conn], None] | None = None,
    ) -> None:
        self.shown_url = hide_passwords(url)  # the URL as messages may show it
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            open=False,
            name=name,
            kwargs={"autocommit": True},
            configure=configure,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise unreachable(self.shown_url, connect_timeout) from exc

    @contextmanager
    def transaction(self, wait: float | None = None) -> Iterator[Conn]:
        """A connection inside one transaction: committed when the block ends, rolled back when
        it raises. `wait`: seconds to wait for a connection, else 30. A connection that broke
        while idle fails at BEGIN (nothing done yet) and is replaced once."""
        with self._translated(wait), ExitStack() as stack:
            yield self._begin(stack, wait)

    def read(self, sql: str, params: Params = (), wait: float | None = None) -> list[tuple[Any, ...]]:
        """The rows of one statement that changes nothing: one round trip, no transaction
        around it; tried once more on another connection when the first was broken."""
        with self._translated(wait):
            try:
                return self._rows(sql, params, wait)
            except PoolTimeout:
                raise
            except psycopg.OperationalError:
                self._pool.check()  # replaces the idle connections that broke as well
                return self._rows(sql, params, wait)

    def write_lazily(self, sql: str, params: Params = (), wait: float | None = None) -> None:
        """Run one statement in a transaction whose commit does not wait for the disk
        (`synchronous_commit = off`): visible to every session at once like any commit, only
        a crash of the server may lose it (the last fraction of a second of such commits),
        never part of it. The durability of the SQLite store's commits (WAL, synchronous =
        NORMAL), for what may be lost so: a chat's activity and its latest question.
        Sent in one pipeline (one round trip: each one waits for the server's process to be
        scheduled, milliseconds when the cores are busy). Only for a statement that may run
        twice: a connection that broke while idle is replaced and the statement sent again."""
        with self._translated(wait):
            try:
                self._lazily(sql, params, wait)
            except PoolTimeout:
                raise
            except psycopg.OperationalError:
                self._pool.check()
                self._lazily(sql, params, wait)

    def _lazily(self, sql: str, params: Params, wait: float | None) -> None:
        with self._pool.connection(timeout=wait) as conn, conn.pipeline(), conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = off")
            conn.execute(sql, params)

    def check_reachable(self, timeout: float) -> str | None:
        """None if a connection of the pool answers within `timeout` seconds, else why not
        (a connection broken while idle is replaced first, as for any read)."""
        try:
            self.read("SELECT 1", wait=timeout)
        except DatabaseError as exc:
            if isinstance(exc.__cause__, PoolTimeout):
                return f"PostgreSQL at {self.shown_url} did not answer within {timeout:g} s"
            return f"PostgreSQL at {self.shown_url} failed: {hide_passwords(str(exc.__cause__)).strip()}"
        return None

    def close(self) -> None:
        """Close the pool and its connections."""
        self._pool.close()

    def _rows(self, sql: str, params: Params, wait: float | None) -> list[tuple[Any, ...]]:
        with self._pool.connection(timeout=wait) as conn:
            return conn.execute(sql, params).fetchall()

    def _begin(self, stack: ExitStack, wait: float | None) -> Conn:
        """A connection with its transaction begun, both ended by `stack`."""
        for last in (False, True):
            with ExitStack() as attempt:
                conn = attempt.enter_context(self._pool.connection(timeout=wait))
                try:
                    attempt.enter_context(conn.transaction())
                except PoolTimeout:
                    raise
                except psycopg.OperationalError:
                    if last:
                        raise
                else:
                    stack.push(attempt.pop_all())
                    return conn
            self._pool.check()  # the broken one went back (and was discarded); others may be broken too
        raise AssertionError("unreachable")  # the second attempt returns or raises

    @contextmanager
    def _translated(self, wait: float | None) -> Iterator[None]:
        """Raise the database's failures as DatabaseError."""
        try:
            yield
        except PoolTimeout as exc:
            waited = POOL_WAIT_SECONDS if wait is None else wait
            raise database_failed(self.shown_url, f"no connection within {waited:g} s") from exc
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise database_failed(self.shown_url, hide_passwords(str(exc)).strip()) from exc


def database_failed(shown_url: str, detail: str) -> DatabaseError:
    """The error of a database that failed after the store opened: it names the setting and
    what to do, never the password."""
    first_line = detail.splitlines()[0] if detail else "no reason given"
    return DatabaseError(
        f"PostgreSQL at {shown_url} failed ({first_line}); check that the server runs and that "
        "SANAD_DATABASE_URL in .env points at it, then try again"
    )


def unreachable(shown_url: str, timeout: float) -> SettingsError:
    """The error of a database that cannot be reached: it names the setting, never the password."""
    return SettingsError(
        f"cannot connect to PostgreSQL at {shown_url} within {timeout:g} s; "
        "check that the server runs and SANAD_DATABASE_URL in .env (host, port, user, password, database)"
    )
