"""Which store the settings choose: PostgreSQL when SANAD_DATABASE_URL is set, else SQLite."""

from __future__ import annotations

from ..settings import Settings
from .base import ChatStore
from .sqlite import SQLiteChatStore


def open_chat_store(settings: Settings) -> ChatStore:
    """The chats' store of these settings: PostgreSQL at `database_url` when it is set (its
    schema brought up to date), else the SQLite file `database` (created when missing)."""
    if settings.database_url is not None:
        from .postgres import PostgresChatStore  # psycopg only when PostgreSQL is chosen

        return PostgresChatStore(settings.database_url)
    return SQLiteChatStore(settings.database)
