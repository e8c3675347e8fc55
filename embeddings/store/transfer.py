"""Copying the embedded stores into PostgreSQL (`python -m embeddings db import`): the SQLite
store of the chats, and the shared library's folder with its vectors.

The chats' store goes table by table and row for row: article numbers, the next number of
each chat, focus, add counters and button tokens stay as they were, so the bot carries on
where it stopped (and the chats' index folders still match their articles). The library's
articles keep their ids and dates; their vectors come from the index folder when it was built
with the same model and chunking (nothing embedded), else they are embedded. Everything goes
in one PostgreSQL transaction, one change per article (a replica already running picks them
up). The target must be empty: the copy never merges, and a failed copy leaves nothing.

Both chats' stores have the same tables with the same columns. `TABLES` lists them in the
order their foreign keys need; a test checks it against both schemas, so a table added to one
store but not to the other (or not here) fails the tests rather than being left behind. The
shared library's tables are PostgreSQL's only (`LIBRARY_TABLES` are those checked empty).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql
from tqdm import tqdm

from ..errors import IndexStateError, SettingsError
from ..index import build_index
from ..index_files import read_index
from ..lexical import Analyzer
from ..model import Encoder
from ..passages import Chunking
from ..types import Article
from .pg_pool import Conn
from .rows import FEEDBACK_COLUMNS, QUOTE_COLUMNS
from .shared_library import LIBRARY_LOCK, ArticleVectors, PostgresLibraryStore, vectors_by_article
from .sqlite import SQLiteChatStore

TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chats", ("chat_id", "next_number", "focus", "last_active")),
    ("articles", ("owner", "number", "title", "source", "text", "added", "checksum")),
    ("adds", ("user_id", "at")),
    ("answers", ("id", "chat_id", "question", "kind", "confidence", "shown", "created")),
    ("answer_quotes", ("answer_id", "rank", *QUOTE_COLUMNS.split(", "))),
    ("actions", ("token", "chat_id", "kind", "target", "payload", "created", "answer")),
    ("feedback", ("id", *FEEDBACK_COLUMNS.split(", "))),
    (
        "turns",
        (
            "chat_id",
            "question",
            "topic",
            "asked",
            "focus",
            "article_id",
            "passage_start",
            "passage_end",
            "sentence_start",
            "sentence_end",
        ),
    ),
    ("updates", ("update_id", "state", "worker", "attempts", "changed")),
)
IDENTITIES = ("answers", "feedback")  # their `id` comes from PostgreSQL's sequence after the copy
LIBRARY_TABLES = ("library_articles", "library_changes")
LIBRARY_COUNT = "shared library"  # the key of the library's articles in the counts


@dataclass(frozen=True)
class LibraryImport:
    """The shared library's articles to copy, each with its vectors in `space`."""

    space: int
    items: tuple[tuple[Article, ArticleVectors], ...]


def library_import(
    articles: Sequence[Article],
    index_dir: Path,
    encoder: Encoder,
    chunking: Chunking,
    space: int,
    *,
    progress: bool = False,
) -> LibraryImport:
    """The articles with their vectors: those of the index in `index_dir` where it holds them
    (same model, chunking and text), the others embedded."""
    try:
        previous = read_index(index_dir)
    except IndexStateError:
        previous = None
    index = build_index(articles, encoder, Analyzer(), chunking, progress=progress, previous=previous)
    return LibraryImport(space, tuple(zip(articles, vectors_by_article(index, articles).values(), strict=True)))


def refuse_non_empty(target: PostgresLibraryStore) -> None:
    """Raise SettingsError when the target database holds any row of the chats or the library."""
    with target.transaction() as conn:
        _refuse_non_empty(conn, target.shown_url)


def import_stores(
    target: PostgresLibraryStore,
    source: Path | None,
    library: LibraryImport | None = None,
    *,
    progress: bool = False,
) -> dict[str, int]:
    """Copy every row of the SQLite store `source` (None: no chats to copy) and the articles of
    `library` into the empty database of `target`, in one transaction; returns the rows copied
    per table (and the library's articles under LIBRARY_COUNT). Raises SettingsError (nothing
    copied) when `source` is missing or the target holds anything already."""
    if source is not None and not source.is_file():
        raise SettingsError(f"no SQLite store at {source} to import; set SANAD_DATABASE to the file (or give its path)")
    with target.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIBRARY_LOCK,))  # first, as every library write
        names = sql.SQL(", ").join(sql.Identifier(table) for table in [*(t for t, _ in TABLES), *LIBRARY_TABLES])
        # Writers wait until the copy commits; readers go on. Nobody slips a row in after the check.
        conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(names))
        _refuse_non_empty(conn, target.shown_url)
        counts = _copy_sqlite(conn, source, progress) if source is not None else {}
        if library is not None:
            target.import_articles(conn, library.items, library.space)
            counts[LIBRARY_COUNT] = len(library.items)
    return counts


def _copy_sqlite(conn: Conn, source: Path, progress: bool) -> dict[str, int]:
    SQLiteChatStore(source).close()  # brings an older file up to the schema `TABLES` describes
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)) as db:
        db.execute("BEGIN")  # one snapshot of all the tables
        counts = {table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table, _ in TABLES}
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
        for table in IDENTITIES:  # the next id after the copied ones, not one of them again
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, 'id'), coalesce(max(id), 0) + 1, false) FROM {}"
                ).format(sql.Literal(table), sql.Identifier(table))
            )
        db.execute("COMMIT")
    return counts


def _refuse_non_empty(conn: Conn, shown_url: str) -> None:
    held = []
    for table in [*(t for t, _ in TABLES), *LIBRARY_TABLES]:
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
