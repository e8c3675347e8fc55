"""PostgreSQL mode, measured: one server from the `pgserver` wheel (PostgreSQL 16 with pgvector,
in a temporary folder, no system install), the shipped article imported into it as
`python -m embeddings db import` does, and the answer latency of PostgreSQL mode beside the
embedded default.

Both sides answer the same questions through `ChatCollections.ask`, the bot's answer path
(the chat's activity noted, its focus and previous turn read, the new turn stored): the
embedded side over the folder library and a SQLite store, the PostgreSQL side over the
library built from the database's vectors and the PostgreSQL store. Each question is asked in
a new chat on both sides, so no answer leans on a previous one.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from itertools import count
from pathlib import Path

from embeddings import ChatCollections, IndexedLibrary, Settings
from embeddings.db_commands import import_all
from embeddings.store import PostgresLibraryStore

from .measure import interleaved, median_ms
from .options import BenchmarkError
from .report import Figure

PGSERVER_HINT = (
    "the replicas step needs PostgreSQL from the pgserver wheel, a dev dependency: "
    "pip install -e '.[dev]' (or pip install 'pgserver>=0.1.4'); or pass --skip-replicas"
)


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for the block, listening on a Unix socket in a temporary folder; the
    URL of its `postgres` database. The folder is deleted afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="sanad-bench-pg-"))  # outside /tmp's private dirs: pgserver's user reads it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns at import without XDG_RUNTIME_DIR
            try:
                from pgserver.postgres_server import get_server
            except ImportError as exc:
                raise BenchmarkError(f"benchmarks: {PGSERVER_HINT}") from exc
            try:
                server = get_server(folder / "data", cleanup_mode="delete")
            except Exception as exc:  # whatever pgserver raises, the same advice
                failed = f"pgserver could not start PostgreSQL ({exc})"
                raise BenchmarkError(f"benchmarks: {failed}; {PGSERVER_HINT}") from exc
        try:
            yield str(server.get_uri("postgres"))
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def import_shipped(settings: Settings, url: str, library: IndexedLibrary) -> None:
    """Copy the articles of `settings.articles_dir` into the empty database at `url`, with the
    vectors of the index `library` built (nothing is embedded again)."""
    target = PostgresLibraryStore(url)
    try:
        import_all(replace(settings, database_url=url), target, None, encoder=library.engine.encoder)
    finally:
        target.close()


def measure_postgres_answer(
    settings: Settings, embedded: IndexedLibrary, url: str, questions: Sequence[str], repeats: int
) -> Figure:
    """Median `ChatCollections.ask` in PostgreSQL mode over the embedded default, interleaved."""
    with tempfile.TemporaryDirectory(prefix="sanad-bench-stores-") as folder:
        local = replace(settings, database=Path(folder) / "sanad.db", chats_dir=Path(folder) / "chats")
        in_database = replace(local, database_url=url, chats_dir=Path(folder) / "pg-chats")
        replicated = IndexedLibrary.open(in_database, encoder=embedded.engine.encoder, log=lambda _: None)
        replicated.start_sync()  # as a replica runs: its LISTEN thread beside the answers
        sqlite_chats = ChatCollections.open(local, embedded)
        postgres_chats = ChatCollections.open(in_database, replicated)
        try:
            samples = interleaved(
                {"embedded": _asker(sqlite_chats), "postgres": _asker(postgres_chats)}, questions, repeats
            )
        finally:
            postgres_chats.close()
            sqlite_chats.close()
            replicated.close()
    embedded_ms, postgres_ms = median_ms(samples["embedded"]), median_ms(samples["postgres"])
    return Figure(
        "postgres_answer_ratio",
        "PostgreSQL answer",
        postgres_ms / embedded_ms,
        "x",
        1.1,
        detail=f"ChatCollections.ask {postgres_ms:.1f} ms with PostgreSQL / {embedded_ms:.1f} ms embedded "
        f"(SQLite, index folder); medians of {len(samples['postgres'])}, a new chat per question",
        raw={"postgres_ms": postgres_ms, "embedded_ms": embedded_ms, "samples": len(samples["postgres"])},
    )


def _asker(chats: ChatCollections) -> Callable[[str], object]:
    """Ask each question in a new chat (the same numbers on both sides)."""
    chat_ids = count(700_001)
    return lambda question: chats.ask(next(chat_ids), question)
