"""`python -m embeddings db upgrade | import`, in-process, against a fresh PostgreSQL database:
upgrading is idempotent, importing copies every row of the SQLite store (numbers, focus,
counters, button tokens) and refuses a database that holds anything already."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from embeddings.cli import main
from embeddings.store import PostgresChatStore, SQLiteChatStore
from embeddings.store.postgres import SCHEMA_VERSION
from embeddings.store.transfer import TABLES

Run = Callable[..., tuple[int, str, str]]
CHAT, GROUP, USER = 31, -1001234567890, 77


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the command line in-process with SANAD_DATABASE in tmp_path: (code, stdout, stderr)."""
    for name in [n for n in os.environ if n.startswith("SANAD_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SANAD_DATABASE", str(tmp_path / "sanad.db"))
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, url: str | None = None) -> tuple[int, str, str]:
        if url is not None:
            monkeypatch.setenv("SANAD_DATABASE_URL", url)
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def _fill(path: Path) -> SQLiteChatStore:
    """An SQLite store with a bit of everything: a gap in the numbers, a group, focus,
    counters, activity and buttons."""
    store = SQLiteChatStore(path)
    for n in range(3):
        store.add_article(CHAT, f"عنوان {n}", f"https://example.com/{n}", f"نص المقال {n}.", "2026-12-01T09:00:00Z")
    store.delete_article(CHAT, 2)
    store.add_article(GROUP, "مجموعة", "group.txt", "نص المجموعة.", "2026-12-02T09:00:00+00:00")
    store.set_focus(CHAT, "chat/3")
    store.record_add(USER, 1_800_000_000.5)
    store.touch(GROUP, 1_800_000_123.25)
    store.touch(5, 1_700_000_000.0)  # a chat with activity only
    store.put_action(CHAT, "forget", "chat/1")
    store.put_action(GROUP, "search_all", "", payload="ما الخبر؟")
    return store


def _rows(fetch: Callable[[str], list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {table: sorted(fetch(f"SELECT {', '.join(columns)} FROM {table}")) for table, columns in TABLES}


def _sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(path)
    try:
        return _rows(lambda q: db.execute(q).fetchall())
    finally:
        db.close()


def _postgres_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return _rows(lambda q: conn.execute(q).fetchall())


def test_db_upgrade_migrates_once_then_has_nothing_to_do(run: Run, postgres_url: str) -> None:
    code, out, err = run("db", "upgrade", url=postgres_url)
    assert (code, err) == (0, "") and f"schema version {SCHEMA_VERSION} (was 0)" in out
    code, out, _ = run("db", "upgrade", url=postgres_url)
    assert code == 0 and "already up to date" in out
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (SCHEMA_VERSION,)


@pytest.mark.parametrize("action", ["upgrade", "import"])
def test_db_commands_without_the_url_say_which_setting(run: Run, action: str) -> None:
    code, out, err = run("db", action)
    assert code == 2 and out == "" and err.startswith("error: ") and "SANAD_DATABASE_URL" in err


def test_db_import_copies_every_row_and_the_bot_carries_on(run: Run, postgres_url: str, tmp_path: Path) -> None:
    sqlite_path = tmp_path / "sanad.db"
    embedded = _fill(sqlite_path)
    before = {owner: embedded.articles(owner) for owner in (CHAT, GROUP)}
    code, out, err = run("db", "import", url=postgres_url)
    assert code == 0 and "chats: 3, articles: 3, adds: 1, actions: 2" in out and "Importing" in err
    assert _postgres_rows(postgres_url) == _sqlite_rows(sqlite_path)
    imported = PostgresChatStore(postgres_url)
    try:
        assert {owner: imported.articles(owner) for owner in (CHAT, GROUP)} == before
        assert imported.chats() == embedded.chats() and imported.focus(CHAT) == "chat/3"
        assert imported.add_article(CHAT, "t", "s", "بعد النقل.", "2026-12-03").number == 4  # 2 is never reused
    finally:
        imported.close()
        embedded.close()


def test_db_import_refuses_a_database_that_holds_anything(run: Run, postgres_url: str, tmp_path: Path) -> None:
    _fill(tmp_path / "sanad.db").close()
    assert run("db", "import", url=postgres_url)[0] == 0
    before = _postgres_rows(postgres_url)
    code, out, err = run("db", "import", url=postgres_url)
    assert code == 2 and out == "" and "already holds rows (chats: 3, articles: 3" in err and "new database" in err
    assert _postgres_rows(postgres_url) == before


def test_db_import_of_a_missing_file_says_so(run: Run, postgres_url: str, tmp_path: Path) -> None:
    code, _, err = run("db", "import", str(tmp_path / "nothing.db"), url=postgres_url)
    assert code == 2 and "no SQLite store at" in err and not (tmp_path / "nothing.db").exists()


def test_the_chats_commands_read_postgresql_when_the_url_is_set(run: Run, postgres_url: str, tmp_path: Path) -> None:
    _fill(tmp_path / "sanad.db").close()
    embedded = run("chats", "--json")
    run("db", "import", url=postgres_url)
    (tmp_path / "sanad.db").unlink()
    assert run("chats", "--json") == embedded
    code, out, _ = run("list", "--chat", str(CHAT))
    assert code == 0 and [line.split("\t")[0] for line in out.splitlines()] == ["1", "3"]


def test_import_knows_every_table_and_column_of_both_stores(tmp_path: Path, postgres_url: str) -> None:
    SQLiteChatStore(tmp_path / "sanad.db").close()
    PostgresChatStore(postgres_url).close()
    known = {table: list(columns) for table, columns in TABLES}
    db = sqlite3.connect(tmp_path / "sanad.db")
    names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    in_sqlite = {n: [c[1] for c in db.execute(f"PRAGMA table_info({n})")] for n in names}
    db.close()
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name <> 'schema_version' ORDER BY table_name, ordinal_position"
        ).fetchall()
    in_postgres: dict[str, list[str]] = {}
    for table, column in rows:
        in_postgres.setdefault(table, []).append(column)
    assert in_sqlite == known == in_postgres
