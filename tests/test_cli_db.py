"""`python -m embeddings db upgrade | import`, in-process, against a fresh PostgreSQL database:
upgrading is idempotent, importing copies every row of the SQLite store (numbers, focus,
counters, button tokens) and the library folder with its vectors, and refuses a database that
holds anything already. Then the library commands in PostgreSQL mode, with a replica following."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from fake_encoder import FakeEncoder, RecordingEncoder
from polling import wait_until

from embeddings import IndexedLibrary, Settings, SettingsError
from embeddings.cli import main
from embeddings.db_commands import import_all
from embeddings.indexed_library import FolderLibrary
from embeddings.model import Encoder
from embeddings.store import Feedback, KeptAnswer, PostgresChatStore, QuoteRef, SQLiteChatStore
from embeddings.store.pg_schema import SCHEMA_VERSION
from embeddings.store.shared_library import PostgresLibraryStore
from embeddings.store.transfer import LIBRARY_TABLES, TABLES

Run = Callable[..., tuple[int, str, str]]
CHAT, GROUP, USER = 31, -1001234567890, 77
ARTICLES_DIR = Path(__file__).resolve().parents[1] / "data" / "articles"
ARTICLE_ID = "putin-cis-critical-infrastructure.ar"
WATER = (
    "افتتحت وزارة المياه محطة جديدة لتحلية مياه البحر على الساحل الجنوبي بطاقة مئة وخمسين ألف متر مكعب يومياً.\n"
    "وقال وزير المياه إن المشروع سيغطي احتياجات أكثر من نصف مليون نسمة من مياه الشرب.\n"
    "وبلغت تكلفة المحطة نحو ثلاثمئة مليون دولار، واستغرق بناؤها ثلاث سنوات."
)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the command line in-process with SANAD_DATABASE in tmp_path: (code, stdout, stderr)."""
    for name in [n for n in os.environ if n.startswith("SANAD_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SANAD_DATABASE", str(tmp_path / "sanad.db"))
    monkeypatch.setenv("SANAD_ARTICLES_DIR", str(tmp_path / "articles"))  # no shared library unless a test adds one
    monkeypatch.setenv("SANAD_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("SANAD_CHATS_DIR", str(tmp_path / "chats"))
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
    quote = QuoteRef("chat/1", "c" * 64, 1, 0, 12, 0, 12, 0.5, 0.8, 1.5)
    answer = store.put_answer(KeptAnswer(CHAT, "ما العنوان؟", "answer", 0.7, (quote, quote), 1))
    store.put_action(CHAT, "more", "", answer=answer.id)
    store.add_feedback(Feedback(GROUP, "down", 1_800_000_200.0, "ما الخبر؟", "not_found", None, None))
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
    counts = "chats: 3, articles: 3, adds: 1, answers: 1, answer_quotes: 2, actions: 3, feedback: 1"
    assert code == 0 and counts in out and "Importing" in err
    assert _postgres_rows(postgres_url) == _sqlite_rows(sqlite_path)
    imported = PostgresChatStore(postgres_url)
    try:
        assert {owner: imported.articles(owner) for owner in (CHAT, GROUP)} == before
        assert imported.chats() == embedded.chats() and imported.focus(CHAT) == "chat/3"
        assert imported.add_article(CHAT, "t", "s", "بعد النقل.", "2026-12-03").number == 4  # 2 is never reused
        assert (
            imported.kept_answer(CHAT, 1) == embedded.kept_answer(CHAT, 1)
            and imported.feedback() == embedded.feedback()
        )
        assert imported.take_quotes(CHAT, 1, 3) == embedded.kept_answer(CHAT, 1).quotes[1:]  # type: ignore[union-attr]
        later = imported.put_answer(KeptAnswer(CHAT, "س", "closest", None, (), 0))
        assert later.id == 2  # the sequence goes on after the copied ids
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
    library = {t: c for t, c in in_postgres.items() if t.startswith("library_")}  # PostgreSQL's only
    assert in_sqlite == known == {t: c for t, c in in_postgres.items() if t not in library}
    assert set(LIBRARY_TABLES) < set(library)


# --- the shared library in PostgreSQL -------------------------------------------------------------


def _folder_library(tmp_path: Path, encoder: FakeEncoder) -> FolderLibrary:
    """The shipped article and one more in a library folder, its index built with `encoder`."""
    settings = Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index")
    shutil.copytree(ARTICLES_DIR, settings.articles_dir)
    library = FolderLibrary.open_folder(settings, encoder=encoder, log=lambda _: None)
    library.add_article(WATER, "محطة تحلية", "https://example.com/news/water")
    return library


@pytest.mark.parametrize("index_model", ["fake-hash", "another-model"])
def test_db_import_copies_the_library_folder_with_its_vectors(
    tmp_path: Path, postgres_url: str, index_model: str
) -> None:
    folder = _folder_library(tmp_path, FakeEncoder(index_model))
    settings = Settings(
        articles_dir=folder.library.folder, index_dir=folder.index_dir, database=tmp_path / "none.db",
        database_url=postgres_url,
    )  # fmt: skip
    importing, store = FakeEncoder(), PostgresLibraryStore(postgres_url)
    try:
        assert import_all(settings, store, None, encoder=importing) == {"shared library": 2}
        assert store.list() == folder.library.list() and store.head() == 2  # ids, dates: as they were; a change each
    finally:
        store.close()
    # the index's vectors when it was built with the same model; else embedded, each text once
    assert (importing.embedded == []) == (index_model == "fake-hash")
    assert len(importing.embedded) == len(set(importing.embedded))
    replica_encoder = FakeEncoder()
    replica = IndexedLibrary.open(settings, encoder=replica_encoder, log=lambda _: None)
    try:
        assert replica_encoder.embedded == [] and [a.id for a in replica.articles] == [a.id for a in folder.articles]
        if index_model == "fake-hash":
            for article in folder.articles:
                held, built = replica.index.article_sentence_vectors(article.id), folder.index.article_sentence_vectors
                assert np.array_equal(held, built(article.id))
    finally:
        replica.close()


def test_db_import_refuses_a_database_holding_library_rows_before_loading_the_model(
    tmp_path: Path, postgres_url: str
) -> None:
    folder = _folder_library(tmp_path, FakeEncoder())
    settings = Settings(articles_dir=folder.library.folder, index_dir=folder.index_dir, database_url=postgres_url)
    store = PostgresLibraryStore(postgres_url)
    try:
        import_all(settings, store, None, encoder=FakeEncoder())
        never = FakeEncoder(fail=True)
        with pytest.raises(SettingsError, match=r"already holds rows \(library_articles: 2, library_changes: 2\)"):
            import_all(settings, store, None, encoder=never)
        with pytest.raises(SettingsError, match=r"nothing to import.*SANAD_DATABASE.*SANAD_ARTICLES_DIR"):
            import_all(replace(settings, articles_dir=tmp_path / "empty"), store, None, encoder=never)
    finally:
        store.close()


def test_the_library_commands_change_postgresql_and_a_running_replica_follows(
    run: Run, postgres_url: str, tmp_path: Path, real_encoder: Encoder
) -> None:
    _fill(tmp_path / "sanad.db").close()
    shutil.copytree(ARTICLES_DIR, tmp_path / "articles")
    code, out, _ = run("db", "import", url=postgres_url)  # the real model embeds the shipped article
    counts = "chats: 3, articles: 3, adds: 1, answers: 1, answer_quotes: 2, actions: 3, feedback: 1"
    assert code == 0 and counts in out and "shared library: 1 article(s)" in out
    recording = RecordingEncoder(real_encoder)
    replica = IndexedLibrary.open(Settings(database_url=postgres_url), encoder=recording, log=lambda _: None)
    try:
        replica.start_sync()
        assert [a.id for a in replica.articles] == [ARTICLE_ID]
        (tmp_path / "water.txt").write_text(WATER, encoding="utf-8")
        code, out, _ = run("add", "water.txt", "--title", "محطة تحلية")
        assert code == 0 and out.startswith("added ")
        added = out.split()[1].rstrip(":")
        assert wait_until(lambda: added in [a.id for a in replica.articles], 2.0)
        assert replica.ask("كم بلغت تكلفة المحطة؟").quotes[0].article_id == added
        code, out, _ = run("list")
        assert code == 0 and sorted(line.split("\t")[0] for line in out.splitlines()) == sorted([ARTICLE_ID, added])
        assert run("add", "water.txt") == (0, f"already present: {added} (محطة تحلية)\n", "")
        code, out, _ = run("remove", added)
        assert code == 0 and out.startswith(f"removed {added}")
        assert wait_until(lambda: [a.id for a in replica.articles] == [ARTICLE_ID], 2.0)
        assert recording.embedded == []  # the replica read every vector from the database
        code, _, err = run("remove", added)
        assert code == 2 and "no article has the id" in err
        code, _, err = run("build")
        assert code == 2 and "db import" in err
    finally:
        replica.close()
