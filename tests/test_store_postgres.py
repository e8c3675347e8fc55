"""What only the PostgreSQL store does: replicas sharing one database (concurrent adds, two
processes migrating at once), the versioned schema, connection errors that keep the password
to themselves, and SANAD_DATABASE_URL. The behaviour both stores share is in
test_store_contract.py."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from postgres_server import PostgresServer, postgres_or_skip, start_postgres

from embeddings import DatabaseError, Settings, SettingsError, hide_passwords
from embeddings.cli import run_command
from embeddings.settings import database_url_secrets
from embeddings.store import PostgresChatStore, SQLiteChatStore, UpdateClaim, open_chat_store
from embeddings.store.pg_schema import MIGRATIONS, SCHEMA_VERSION

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OWNER = -1001234567890  # a group: chat ids beyond 32 bits
T = TypeVar("T")


def _together(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(i)` in `count` threads released at the same moment; their results."""
    start = threading.Barrier(count)

    def run(i: int) -> T:
        start.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_two_replicas_adding_for_one_owner_never_get_the_same_number(postgres_url: str) -> None:
    replicas = [PostgresChatStore(postgres_url), PostgresChatStore(postgres_url)]  # two pools: other connections
    try:

        def add_many(i: int) -> list[int]:
            store = replicas[i % 2]
            return [store.add_article(OWNER, "t", "s", f"text {i}-{n}", "2026-01-01").number for n in range(25)]

        numbers = [n for batch in _together(4, add_many) for n in batch]
        assert sorted(numbers) == list(range(1, 101))
        assert [a.number for a in replicas[0].articles(OWNER)] == list(range(1, 101))
        assert replicas[1].add_article(OWNER, "t", "s", "one more", "2026-01-01").number == 101
    finally:
        for store in replicas:
            store.close()


def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    stores = _together(4, lambda _: PostgresChatStore(postgres_url))
    try:
        assert sorted(s.migrated_from for s in stores) == [0, SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION]
        with psycopg.connect(postgres_url) as conn:
            rows = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert [v for (v,) in rows] == list(range(1, SCHEMA_VERSION + 1)) == list(range(1, len(MIGRATIONS) + 1))
    finally:
        for store in stores:
            store.close()


def test_a_newer_schema_is_refused(postgres_url: str) -> None:
    PostgresChatStore(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with pytest.raises(SettingsError, match=r"newer than this Sanad.*SANAD_DATABASE_URL"):
        PostgresChatStore(postgres_url)


def test_an_unreachable_server_names_the_setting_and_hides_the_password(tmp_path: Path) -> None:
    url = f"postgresql://sanad:hunter2-secret@/sanad?host={tmp_path}"  # no server listens there
    with pytest.raises(SettingsError) as caught:
        PostgresChatStore(url, connect_timeout=1)
    message = str(caught.value)
    assert "SANAD_DATABASE_URL" in message and "sanad:***@" in message and "hunter2" not in message


def test_the_settings_choose_postgresql_only_when_the_url_is_set(postgres_url: str, tmp_path: Path) -> None:
    chosen = open_chat_store(Settings(database=tmp_path / "x.db", database_url=postgres_url))
    embedded = open_chat_store(Settings(database=tmp_path / "x.db"))
    try:
        assert isinstance(chosen, PostgresChatStore) and isinstance(embedded, SQLiteChatStore)
        chosen.add_article(5, "t", "s", "in postgres", "2026-01-01")
        assert embedded.articles(5) == [] and [a.text for a in chosen.articles(5)] == ["in postgres"]
    finally:
        chosen.close()
        embedded.close()


# --- updates claimed by replicas -----------------------------------------------------------------


def test_an_update_another_live_replica_holds_is_busy_for_the_others(postgres_url: str) -> None:
    holder, other = PostgresChatStore(postgres_url), PostgresChatStore(postgres_url)
    try:
        states = _together(4, lambda i: (holder if i % 2 else other).claim_update(9001).state)
        # One replica won; the others are refused (its own second claim is for it to prevent).
        assert sorted(states) == ["busy", "busy", "claimed", "claimed"]
        winner, loser = (holder, other) if holder.claim_update(9002).state == "claimed" else (other, holder)
        assert loser.claim_update(9002).state == "busy"
        winner.finish_update(9002, done=False)
        assert loser.claim_update(9002).state == "claimed"  # failed: anyone may retry it
    finally:
        holder.close()
        other.close()


def test_the_claim_of_a_killed_replica_is_taken_over_at_once(postgres_url: str) -> None:
    code = (
        "import os, sys\n"
        "from embeddings.store import PostgresChatStore\n"
        "store = PostgresChatStore(sys.argv[1])\n"
        "assert store.claim_update(9100).state == 'claimed'\n"
        "os.kill(os.getpid(), 9)\n"
    )
    survivor = PostgresChatStore(postgres_url)
    try:
        killed = subprocess.run([sys.executable, "-c", code, postgres_url], cwd=PROJECT_ROOT, check=False)
        assert killed.returncode == -signal.SIGKILL
        claim = _retry_while_busy(lambda: survivor.claim_update(9100))
        assert claim == UpdateClaim("claimed", 2)
    finally:
        survivor.close()


def _retry_while_busy(claim: Callable[[], UpdateClaim], tries: int = 50) -> UpdateClaim:
    """The claim, asked again while busy: the server notices a killed client's socket at once,
    but its backend needs a moment to exit and release the locks."""
    for _ in range(tries):
        found = claim()
        if found.state != "busy":
            return found
        time.sleep(0.1)
    return found


def test_one_replica_leads_a_role_until_it_closes(postgres_url: str) -> None:
    first, second = PostgresChatStore(postgres_url), PostgresChatStore(postgres_url)
    try:
        assert first.try_lead("set-webhook") and not second.try_lead("set-webhook")
        assert second.try_lead("another role")
        first.close()
        assert second.try_lead("set-webhook")
    finally:
        second.close()


def test_a_stopped_server_is_reported_unreachable_without_the_password(tmp_path: Path) -> None:
    server = start_postgres(cleanup="stop")
    url = server.url().replace("postgres:@", "postgres:hunter2-secret@")
    store = PostgresChatStore(url)
    try:
        assert store.check_reachable(timeout=5) is None
        server.pause()
        reason = store.check_reachable(timeout=1)
        assert reason is not None and "PostgreSQL at" in reason and "hunter2" not in reason, reason
        server.resume()
        assert _retry_while_unreachable(store) is None
    finally:
        store.close()
        server.stop()


def test_a_restart_between_two_questions_costs_no_error() -> None:
    server = start_postgres(cleanup="stop")
    store = PostgresChatStore(server.url())
    try:
        store.add_article(OWNER, "t", "s", "before the restart", "2026-12-01T09:00:00+00:00")
        steps: list[Callable[[], object]] = [
            lambda: store.add_article(OWNER, "t", "s", "after a restart", "2026-12-01T09:00:00+00:00"),  # BEGIN
            lambda: store.chat_state(OWNER),  # a read of one statement
            lambda: store.record_question(OWNER, active=1_000.0, turn=None),  # a write that may run twice
        ]
        for step in steps:
            server.pause()
            server.resume()
            step()  # its connection broke while idle: replaced, not reported
        assert [number for number, _ in store.chat_state(OWNER).article_keys] == [1, 2]
    finally:
        store.close()
        server.stop()


def test_a_database_failing_after_start_is_a_sanad_error_naming_the_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_postgres(cleanup="stop")
    store = PostgresChatStore(server.url().replace("postgres:@", "postgres:hunter2-secret@"))
    try:
        store.add_article(OWNER, "t", "s", "kept", "2026-12-01T09:00:00+00:00")
        server.pause()
        steps: list[Callable[[], object]] = [
            lambda: store.chat_state(OWNER),
            lambda: store.record_question(OWNER, active=1_000.0, turn=None),
            lambda: store.add_article(OWNER, "t", "s", "lost", "2026-12-01T09:00:00+00:00"),
        ]
        for step in steps:
            with pytest.raises(DatabaseError) as raised:
                step()
            shown = str(raised.value)
            assert shown.startswith("PostgreSQL at ") and "SANAD_DATABASE_URL" in shown, shown
            assert "try again" in shown and "hunter2" not in shown, shown
        assert run_command(lambda: len(store.chat_state(OWNER).article_keys)) == 2  # the CLI's edge
        printed = capsys.readouterr().err
        assert printed.startswith("error: PostgreSQL at ") and "SANAD_DATABASE_URL" in printed, printed
        server.resume()
        assert _retry_while_unreachable(store) is None
        assert [number for number, _ in store.chat_state(OWNER).article_keys] == [1]
    finally:
        store.close()
        server.stop()


def _retry_while_unreachable(store: PostgresChatStore, seconds: float = 60) -> str | None:
    """The pool reconnects with a backoff: reachable again within `seconds` of a restart."""
    deadline = time.monotonic() + seconds
    reason = store.check_reachable(timeout=2)
    while reason is not None and time.monotonic() < deadline:
        time.sleep(0.5)
        reason = store.check_reachable(timeout=2)
    return reason


def _no_server() -> PostgresServer:
    raise OSError("initdb: cannot run here")


@pytest.mark.parametrize("ci", ["true", ""])
def test_without_a_server_the_tests_skip_saying_why_except_in_ci_where_they_fail(
    ci: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", ci)
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(outcome, match=r"pgserver could not start PostgreSQL \(OSError: initdb: cannot run here\)"):
        postgres_or_skip(_no_server)


# --- SANAD_DATABASE_URL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://sanad:pw@db.internal:5432/sanad",
        "postgres://sanad@localhost/sanad?sslmode=require",
        "postgresql://postgres:@/sanad?host=/run/postgresql",
    ],
)
def test_a_postgresql_url_is_accepted_as_it_is(url: str) -> None:
    assert Settings.from_env({"SANAD_DATABASE_URL": f"  {url} "}).database_url == url
    assert Settings.from_env({"SANAD_DATABASE_URL": ""}).database_url is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://sanad:topsecret9@db/sanad", "is not a postgresql:// URL"),
        ("sanad.db", "is not a postgresql:// URL"),
        ("postgresql://sanad:topsecret9@db:99999/sanad", "cannot be read"),
        ("postgresql://sanad:topsecret9@db/sanad?colour=blue", "cannot be read"),
    ],
)
def test_a_wrong_url_names_the_setting_and_the_fix_never_the_password(url: str, problem: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"SANAD_DATABASE_URL": url})
    message = str(caught.value)
    assert message.startswith("SANAD_DATABASE_URL=") and problem in message and "topsecret9" not in message
    assert "postgresql://sanad:PASSWORD@localhost:5432/sanad" in message and "SQLite" in message


def test_the_password_is_a_secret_and_never_in_the_settings_repr() -> None:
    settings = Settings.from_env({"SANAD_DATABASE_URL": "postgresql://sanad:p%40ss-word@db/sanad"})
    assert "p%40ss" not in repr(settings) and set(settings.secrets()) == {"p%40ss-word", "p@ss-word"}
    assert database_url_secrets("postgresql://db/sanad?password=s3cret") == ("s3cret",)
    assert Settings().secrets() == ()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://sanad:s3cret@db:5432/x", "postgresql://sanad:***@db:5432/x"),
        ("failed: postgres://u:a/b@h/x (retry)", "failed: postgres://u:***@h/x (retry)"),
        ("host=db password=s3cret dbname=x", "host=db password=*** dbname=x"),
        ("postgresql://db/x?sslmode=require&password=s3cret", "postgresql://db/x?sslmode=require&password=***"),
        ("postgresql://sanad@db/x and https://example.com/a", "postgresql://sanad@db/x and https://example.com/a"),
    ],
)
def test_hide_passwords_hides_them_and_nothing_else(text: str, shown: str) -> None:
    assert hide_passwords(text) == shown
