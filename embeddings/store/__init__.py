"""Where the chats' own articles, their focus and the counters of the limits are kept.

    base.py      `ChatStore`, the interface (a Protocol), and the values it hands out
    sqlite.py    `SQLiteChatStore`: one SQLite file (WAL, versioned schema, secure delete)
    postgres.py  `PostgresChatStore`: PostgreSQL (psycopg 3, a pool, versioned migrations)
    choose.py    `open_chat_store`: PostgreSQL when SANAD_DATABASE_URL is set, else SQLite
    transfer.py  `import_sqlite`: copies an SQLite store into an empty PostgreSQL one

Both implementations pass the same contract tests (`tests/test_store_contract.py`). The
shared library is not here yet: it stays files (`Library`).
"""

from .base import Action, ActionKind, ChatStore, ChatSummary, StoredArticle, UpdateClaim, UpdateState
from .choose import open_chat_store
from .postgres import PostgresChatStore
from .sqlite import SCHEMA_VERSION, SQLiteChatStore

__all__ = [
    "SCHEMA_VERSION",
    "Action",
    "ActionKind",
    "ChatStore",
    "ChatSummary",
    "PostgresChatStore",
    "SQLiteChatStore",
    "StoredArticle",
    "UpdateClaim",
    "UpdateState",
    "open_chat_store",
]
