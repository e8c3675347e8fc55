"""Where the chats' own articles, their focus and the counters of the limits are kept.

    base.py     `ChatStore`, the interface (a Protocol), and the values it hands out (articles,
                button actions, the answers kept for their buttons, feedback)
    sqlite.py   `SQLiteChatStore`: one SQLite file (WAL, versioned schema, secure delete)

A later PostgreSQL store implements the same Protocol and passes the same contract tests
(`tests/test_store_contract.py`). The shared library is not here: it stays files (`Library`).
"""

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
from .sqlite import SCHEMA_VERSION, SQLiteChatStore

__all__ = [
    "SCHEMA_VERSION",
    "Action",
    "ActionKind",
    "ChatStore",
    "ChatSummary",
    "Feedback",
    "KeptAnswer",
    "QuoteRef",
    "QuotedText",
    "SQLiteChatStore",
    "StoredArticle",
    "Vote",
]
