"""`python -m embeddings db upgrade | import`: the PostgreSQL store of SANAD_DATABASE_URL.

`upgrade` applies the schema migrations this Sanad knows (what opening the store does
anyway: a replica starting up, or any command); `import` copies the embedded SQLite store
(SANAD_DATABASE, or the file given) and the shared library's folder (SANAD_ARTICLES_DIR, with
the vectors of SANAD_INDEX_DIR when the model matches) into an empty PostgreSQL database.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from .engine import RetrievalConfig
from .errors import SettingsError
from .library import Library
from .model import Encoder, load_encoder
from .settings import DATABASE_URL_EXAMPLE, Settings

if TYPE_CHECKING:
    from .store.shared_library import PostgresLibraryStore

# psycopg is imported by the commands themselves: building the CLI's parser (every command,
# `ask` included) must not load it.


def _database_url(settings: Settings, command: str) -> str:
    if settings.database_url is None:
        raise SettingsError(
            f"db {command} works on PostgreSQL, and SANAD_DATABASE_URL is not set; set it in .env, "
            f"e.g. SANAD_DATABASE_URL={DATABASE_URL_EXAMPLE} (the SQLite store upgrades itself when opened)"
        )
    return settings.database_url


def cmd_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the PostgreSQL schema up to date (nothing to do: says so, exit code 0)."""
    from .store.pg_schema import SCHEMA_VERSION
    from .store.postgres import PostgresChatStore

    store = PostgresChatStore(_database_url(settings, "upgrade"))
    store.close()
    if store.migrated_from == SCHEMA_VERSION:
        print(f"{store.shown_url}: schema version {SCHEMA_VERSION}, already up to date")
    else:
        print(f"{store.shown_url}: schema version {SCHEMA_VERSION} (was {store.migrated_from})")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the SQLite store and the library folder into the (empty) PostgreSQL database."""
    from .store.shared_library import PostgresLibraryStore
    from .store.transfer import LIBRARY_COUNT

    explicit = args.source is not None
    source = Path(args.source).expanduser() if explicit else settings.database
    chosen = source if explicit or source.is_file() else None
    store = PostgresLibraryStore(_database_url(settings, "import"))
    try:
        counts = import_all(settings, store, chosen, progress=True)
    finally:
        store.close()
    library = counts.pop(LIBRARY_COUNT, 0)
    copied = [f"{source} ({', '.join(f'{table}: {count}' for table, count in counts.items())})"] if chosen else []
    copied.append(f"{settings.articles_dir} (shared library: {library} article(s))")
    print(f"imported into {store.shown_url}: {'; '.join(copied)}")
    return 0


def import_all(
    settings: Settings,
    store: PostgresLibraryStore,
    source: Path | None,
    *,
    encoder: Encoder | None = None,
    progress: bool = False,
) -> dict[str, int]:
    """What `db import` does: the SQLite store `source` (None: none) and the articles of
    `settings.articles_dir` copied into `store`'s empty database; the model is loaded only
    when there are articles, and embeds only those the index folder has no vectors for."""
    from .store.shared_library import VectorSpace
    from .store.transfer import import_stores, library_import, refuse_non_empty

    articles = Library(settings.articles_dir).list() if settings.articles_dir.is_dir() else []
    if source is None and not articles:
        raise SettingsError(
            f"nothing to import: no SQLite store at {settings.database} (SANAD_DATABASE) and no articles in "
            f"{settings.articles_dir} (SANAD_ARTICLES_DIR); point them at what to copy"
        )
    refuse_non_empty(store)  # before the model loads and anything is embedded
    library = None
    if articles:
        encoder = encoder or load_encoder(
            settings.model, settings.model_cache, settings.backend, settings.encoder_threads
        )
        chunking = RetrievalConfig().chunking
        space = store.space(VectorSpace(encoder.name, encoder.dim, chunking))
        library = library_import(articles, settings.index_dir, encoder, chunking, space, progress=progress)
    return import_stores(store, source, library, progress=progress)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `db` command and its actions to the CLI's subcommands."""
    db = sub.add_parser("db", help="the PostgreSQL store (SANAD_DATABASE_URL): upgrade its schema, import SQLite")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply the schema migrations (idempotent)")
    upgrade.set_defaults(run=cmd_upgrade)
    copy = actions.add_parser(
        "import", help="copy the SQLite store and the library folder (with vectors) into an empty PostgreSQL database"
    )
    copy.add_argument("source", nargs="?", metavar="SQLITE_FILE", help="the SQLite file (default: SANAD_DATABASE)")
    copy.set_defaults(run=cmd_import)
