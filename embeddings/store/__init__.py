"""Where the chats' own articles, their focus and the counters of the limits are kept.

    base.py      `ChatStore`, the interface (a Protocol), and the values it hands out (articles,
                 button actions, the answers kept for their buttons, feedback)
    sqlite.py    `SQLiteChatStore`: one SQLite file (WAL, versioned schema, secure delete)
    postgres.py  `PostgresChatStore`: PostgreSQL (psycopg 3, a pool, versioned migrations)
    choose.py    `open_chat_store`: PostgreSQL when SANAD_DATABASE_URL is set, else SQLite
    transfer.py  `import_sqlite`: copies an SQLite store into an empty PostgreSQL one

Both implementations pass the same contract tests (`tests/test_store_contract.py`). The
shared library is not here yet: it stays files (`Library`).

The names are imported on first use (`../_lazy.py`): the SQLite store never loads psycopg.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .base import (
        Action,
        ActionKind,
        ChatStore,
        ChatSummary,
        Feedback,
        KeptAnswer,
        QuotedText,
        QuoteRef,
        StoredArticle,
        Vote,
    )
    from .choose import open_chat_store
    from .postgres import PostgresChatStore
    from .sqlite import SCHEMA_VERSION, SQLiteChatStore

__all__ = [
    "SCHEMA_VERSION",
    "Action",
    "ActionKind",
    "ChatStore",
    "ChatSummary",
    "Feedback",
    "KeptAnswer",
    "PostgresChatStore",
    "QuoteRef",
    "QuotedText",
    "SQLiteChatStore",
    "StoredArticle",
    "Vote",
    "open_chat_store",
]

_EXPORTS = {
    "SCHEMA_VERSION": ".sqlite",
    "Action": ".base",
    "ActionKind": ".base",
    "ChatStore": ".base",
    "ChatSummary": ".base",
    "Feedback": ".base",
    "KeptAnswer": ".base",
    "PostgresChatStore": ".postgres",
    "QuoteRef": ".base",
    "QuotedText": ".base",
    "SQLiteChatStore": ".sqlite",
    "StoredArticle": ".base",
    "Vote": ".base",
    "open_chat_store": ".choose",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
