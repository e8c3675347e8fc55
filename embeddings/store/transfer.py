"""Copying the embedded SQLite store into PostgreSQL (`python -m embeddings db import`).

Table by table and row for row, in one PostgreSQL transaction: article numbers, the next
number of each chat, focus, add counters and button tokens stay as they were, so the bot
carries on where it stopped (and the chats' index folders still match their articles). The
target must be empty: the copy never merges two stores, and a failed copy leaves nothing.

Both stores have the same tables with the same columns. `TABLES` lists them in the order
their foreign keys need; a test checks it against both schemas, so a table added to one
store but not to the other (or not here) fails the tests rather than being left behind.
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from psycopg import sql
from tqdm import tqdm

from ..errors import SettingsError
from .postgres import Conn, PostgresChatStore
from .sqlite import SQLiteChatStore

TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chats", ("chat_id", "next_number", "focus", "last_active")),
    ("articles", ("owner", "number", "title", "source", "text", "added", "checksum")),
    ("adds", ("user_id", "at")),
    ("actions", ("token", "chat_id", "kind", "target", "payload", "created")),
    ("updates", ("update_id", "state", "worker", "attempts", "changed")),
)


def import_sqlite(source: Path, target: PostgresChatStore, *, progress: bool = False) -> dict[str, int]:
    """Copy every row of the SQLite store `source` into the empty PostgreSQL store `target`;
    returns the rows copied per table. Raises SettingsError (nothing copied) when `source`
    is missing or `target` holds anything already."""
    if not source.is_file():
        raise SettingsError(f"no SQLite store at {source} to import; set SANAD_DATABASE to the file (or give its path)")
    SQLiteChatStore(source).close()  # brings an older file up to the schema `TABLES` describes
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)) as db:
        db.execute("BEGIN")  # one snapshot of all the tables
        counts = {table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table, _ in TABLES}
        with target.transaction() as conn:
            names = sql.SQL(", ").join(sql.Identifier(table) for table, _ in TABLES)
            # Writers wait until the copy commits; readers go on. Nobody slips a row in after the check.
            conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(names))
            _refuse_non_empty(conn, target.shown_url)
            total = sum(counts.values())
            with tqdm(total=total, desc="Importing", unit="row", file=sys.stderr, disable=not progress) as bar:
                for table, columns in TABLES:
                    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                    )
                    with conn.cursor() as cursor, cursor.copy(statement) as copy:
                        for row in db.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                            copy.write_row(row)
                            bar.update()
        db.execute("COMMIT")
    return counts


def _refuse_non_empty(conn: Conn, shown_url: str) -> None:
    held = []
    for table, _ in TABLES:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        count = int(row[0]) if row is not None else 0
        if count:
            held.append(f"{table}: {count}")
    if held:
        raise SettingsError(
            f"the PostgreSQL database {shown_url} already holds rows ({', '.join(held)}); db import copies only into "
            "an empty database (it never merges two stores): point SANAD_DATABASE_URL at a new database "
            "(e.g. createdb sanad_new), or empty this one first"
        )
