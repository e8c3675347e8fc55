"""`python -m embeddings db upgrade | import`: the PostgreSQL store of SANAD_DATABASE_URL.

`upgrade` applies the schema migrations this Sanad knows (what opening the store does
anyway: a replica starting up, or any command); `import` copies the embedded SQLite store
(SANAD_DATABASE, or the file given) into an empty PostgreSQL database.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .errors import SettingsError
from .settings import DATABASE_URL_EXAMPLE, Settings

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
    from .store.postgres import SCHEMA_VERSION, PostgresChatStore

    store = PostgresChatStore(_database_url(settings, "upgrade"))
    store.close()
    if store.migrated_from == SCHEMA_VERSION:
        print(f"{store.shown_url}: schema version {SCHEMA_VERSION}, already up to date")
    else:
        print(f"{store.shown_url}: schema version {SCHEMA_VERSION} (was {store.migrated_from})")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the SQLite store into the (empty) PostgreSQL one, with a progress bar."""
    from .store.postgres import PostgresChatStore
    from .store.transfer import import_sqlite

    source = Path(args.source).expanduser() if args.source else settings.database
    store = PostgresChatStore(_database_url(settings, "import"))
    try:
        counts = import_sqlite(source, store, progress=True)
    finally:
        store.close()
    copied = ", ".join(f"{table}: {count}" for table, count in counts.items())
    print(f"imported {source} into {store.shown_url} ({copied})")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `db` command and its actions to the CLI's subcommands."""
    db = sub.add_parser("db", help="the PostgreSQL store (SANAD_DATABASE_URL): upgrade its schema, import SQLite")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply the schema migrations (idempotent)")
    upgrade.set_defaults(run=cmd_upgrade)
    copy = actions.add_parser("import", help="copy the SQLite store into an empty PostgreSQL database")
    copy.add_argument("source", nargs="?", metavar="SQLITE_FILE", help="the SQLite file (default: SANAD_DATABASE)")
    copy.set_defaults(run=cmd_import)
