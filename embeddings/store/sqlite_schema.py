"""The SQLite store's schema, versioned: `PRAGMA user_version` is the version of a file, and
`MIGRATIONS[n]` takes it from version n to n + 1 (one script, run in one transaction).
"""

from __future__ import annotations

SCHEMA_VERSION = 4

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE chats (
        chat_id     INTEGER PRIMARY KEY,
        next_number INTEGER NOT NULL DEFAULT 1,
        focus       TEXT,
        last_active REAL NOT NULL
    );
    CREATE TABLE articles (
        owner    INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
        number   INTEGER NOT NULL,
        title    TEXT NOT NULL,
        source   TEXT NOT NULL,
        text     TEXT NOT NULL,
        added    TEXT NOT NULL,
        checksum TEXT NOT NULL,
        PRIMARY KEY (owner, number)
    );
    CREATE INDEX articles_by_checksum ON articles(owner, checksum);
    CREATE TABLE adds (user_id INTEGER NOT NULL, at REAL NOT NULL);
    CREATE INDEX adds_by_user ON adds(user_id, at);
    CREATE TABLE actions (
        token   TEXT PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
        kind    TEXT NOT NULL,
        target  TEXT NOT NULL,
        payload TEXT NOT NULL,
        created REAL NOT NULL
    );
    """,
    # 1 -> 2: the answers behind the buttons under an answer, and the feedback on them.
    """
    CREATE TABLE answers (
        id         INTEGER PRIMARY KEY,
        chat_id    INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
        question   TEXT NOT NULL,
        kind       TEXT NOT NULL,
        confidence REAL,
        shown      INTEGER NOT NULL,
        created    REAL NOT NULL
    );
    CREATE INDEX answers_by_created ON answers(created);
    CREATE TABLE answer_quotes (
        answer_id       INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        rank            INTEGER NOT NULL,
        article_id      TEXT NOT NULL,
        checksum        TEXT NOT NULL,
        paragraph       INTEGER NOT NULL,
        start           INTEGER NOT NULL,
        stop            INTEGER NOT NULL,
        highlight_start INTEGER NOT NULL,
        highlight_end   INTEGER NOT NULL,
        fused           REAL NOT NULL,
        dense           REAL NOT NULL,
        lexical         REAL NOT NULL,
        PRIMARY KEY (answer_id, rank)
    );
    CREATE INDEX answer_quotes_by_article ON answer_quotes(article_id);
    ALTER TABLE actions ADD COLUMN answer INTEGER REFERENCES answers(id) ON DELETE CASCADE;
    CREATE INDEX actions_by_answer ON actions(answer);
    CREATE TABLE feedback (
        id              INTEGER PRIMARY KEY,
        chat_id         INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
        at              REAL NOT NULL,
        vote            TEXT NOT NULL,
        question        TEXT NOT NULL,
        kind            TEXT NOT NULL,
        confidence      REAL,
        article_id      TEXT,
        title           TEXT,
        source          TEXT,
        paragraph       INTEGER,
        start           INTEGER,
        stop            INTEGER,
        highlight_start INTEGER,
        highlight_end   INTEGER,
        passage         TEXT,
        sentence        TEXT
    );
    CREATE INDEX feedback_by_time ON feedback(at);
    CREATE INDEX feedback_by_article ON feedback(chat_id, article_id);
    """,
    # 2 -> 3: each chat's latest question, for follow-ups (conversation.py)
    """
    CREATE TABLE turns (
        chat_id        INTEGER PRIMARY KEY REFERENCES chats(chat_id) ON DELETE CASCADE,
        question       TEXT NOT NULL,
        topic          TEXT NOT NULL,
        asked          REAL NOT NULL,
        focus          TEXT NOT NULL,
        article_id     TEXT NOT NULL,
        passage_start  INTEGER NOT NULL,
        passage_end    INTEGER NOT NULL,
        sentence_start INTEGER NOT NULL,
        sentence_end   INTEGER NOT NULL
    );
    """,
    # 3 -> 4: Telegram updates claimed and handled (webhook mode); `worker` is the claiming
    # store's random id while `state` is 'claimed', NULL once 'failed' or 'done'.
    """
    CREATE TABLE updates (
        update_id INTEGER PRIMARY KEY,
        state     TEXT NOT NULL,
        worker    INTEGER,
        attempts  INTEGER NOT NULL,
        changed   REAL NOT NULL
    );
    CREATE INDEX updates_by_changed ON updates(changed);
    """,
)
