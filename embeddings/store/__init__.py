"""Where the chats' own articles, their focus and the counters of the limits are kept, and,
in PostgreSQL, the shared library.

    base.py            `ChatStore`, the interface (a Protocol), and the values it hands out (articles,
                       button actions, the answers kept for their buttons, feedback, turns)
    sqlite.py          `SQLiteChatStore`: one SQLite file (WAL, versioned schema, secure delete)
    postgres.py        `PostgresChatStore`: PostgreSQL (psycopg 3, a pool, versioned migrations)
                       (its pool, schema and worker session: pg_pool.py, pg_schema.py, pg_workers.py)
    shared_library.py  `PostgresLibraryStore`: the shared library's articles, vectors (pgvector)
                       and change sequence in PostgreSQL (without the setting: files, `Library`)
    choose.py          `open_chat_store`: PostgreSQL when SANAD_DATABASE_URL is set, else SQLite
    transfer.py        `import_stores`: copies the SQLite store and the library folder into an
                       empty PostgreSQL database

Both chat stores pass the same contract tests (`tests/test_store_contract.py`).

The names are imported on first use (`../_lazy.py`): the SQLite store never loads psycopg.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .base import (
        Action,
        ActionKind,
        ChatState,
        ChatStore,
        ChatSummary,
        Feedback,
        KeptAnswer,
        QuotedText,
        QuoteRef,
        StoredArticle,
        UpdateClaim,
        UpdateState,
        Vote,
    )
    from .choose import open_chat_store
    from .postgres import PostgresChatStore
    from .shared_library import PostgresLibraryStore
    from .sqlite import SQLiteChatStore
    from .sqlite_schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "Action",
    "ActionKind",
    "ChatState",
    "ChatStore",
    "ChatSummary",
    "Feedback",
    "KeptAnswer",
    "PostgresChatStore",
    "PostgresLibraryStore",
    "QuoteRef",
    "QuotedText",
    "SQLiteChatStore",
    "StoredArticle",
    "UpdateClaim",
    "UpdateState",
    "Vote",
    "open_chat_store",
]

_EXPORTS = {
    "SCHEMA_VERSION": ".sqlite_schema",
    "Action": ".base",
    "ActionKind": ".base",
    "ChatState": ".base",
    "ChatStore": ".base",
    "ChatSummary": ".base",
    "Feedback": ".base",
    "KeptAnswer": ".base",
    "PostgresChatStore": ".postgres",
    "PostgresLibraryStore": ".shared_library",
    "QuoteRef": ".base",
    "QuotedText": ".base",
    "SQLiteChatStore": ".sqlite",
    "StoredArticle": ".base",
    "UpdateClaim": ".base",
    "UpdateState": ".base",
    "Vote": ".base",
    "open_chat_store": ".choose",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
