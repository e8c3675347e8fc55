"""`python -m bot` as a person runs it: exit codes, messages, and the token never printed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bot_harness import ARTICLES_DIR, PROJECT_ROOT, read_dev_questions

from embeddings import IndexedLibrary, Settings
from testkit.fake_telegram import FakeTelegram

PROCESS_TOKEN = "555000111:process-token_never_printed_anywhere_42"
MINISTER = next(d for d in read_dev_questions() if "وزير الدفاع" in d.q)


def bot_env(**values: str) -> dict[str, str]:
    """A clean environment for the bot process: no inherited TELEGRAM_* or SANAD_* values."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SANAD_", "ADMIN_", "EMBEDDING_"))}
    return {**keep, "PYTHONPATH": str(PROJECT_ROOT), **values}


def run_bot(cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot"], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize(
    ("dotenv", "env", "lines"),
    [
        ("", {}, ["TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather"]),
        ("ADMIN_USER_IDS=1,x\n", {}, ["TELEGRAM_BOT_TOKEN is not set", "ADMIN_USER_IDS='1,x'"]),
        (f"TELEGRAM_BOT_TOKEN={PROCESS_TOKEN}\n", {"ADMIN_USER_IDS": "me"}, ["ADMIN_USER_IDS='me'"]),
        ("", {"TELEGRAM_BOT_TOKEN": PROCESS_TOKEN, "SANAD_TOP_K": "0"}, ["SANAD_TOP_K='0'"]),
    ],
    ids=["no-token", "no-token-and-bad-admins", "token-from-dotenv", "bad-core-setting"],
)
def test_bad_settings_exit_2_with_one_line_each(
    tmp_path: Path, dotenv: str, env: dict[str, str], lines: list[str]
) -> None:
    if dotenv:
        (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    result = run_bot(tmp_path, bot_env(**env))
    assert result.returncode == 2
    assert result.stdout == ""
    printed = result.stderr.strip().splitlines()
    assert len(printed) == len(lines) and all(printed[i].startswith(lines[i]) for i in range(len(lines))), printed
    assert "Traceback" not in result.stderr and PROCESS_TOKEN not in result.stderr


def test_missing_token_says_where_to_get_it_and_where_to_put_it(tmp_path: Path) -> None:
    result = run_bot(tmp_path, bot_env())
    [line] = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert all(part in line for part in ("TELEGRAM_BOT_TOKEN", "@BotFather", ".env", ".env.example"))


def test_rejected_token_exits_2_without_printing_it(tmp_path: Path) -> None:
    with FakeTelegram("999:the-token_the-server-knows_0123456789") as fake:
        result = run_bot(tmp_path, bot_env(TELEGRAM_BOT_TOKEN=PROCESS_TOKEN, TELEGRAM_API_BASE_URL=fake.url))
    assert result.returncode == 2, result.stderr
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in result.stderr
    assert PROCESS_TOKEN not in result.stdout + result.stderr
    assert PROCESS_TOKEN.split(":")[1] not in result.stdout + result.stderr


def test_bot_process_builds_the_index_answers_and_never_prints_the_token(
    tmp_path: Path, engine_settings: Settings
) -> None:
    env = bot_env(
        TELEGRAM_BOT_TOKEN=PROCESS_TOKEN,
        SANAD_ARTICLES_DIR=str(ARTICLES_DIR),
        SANAD_INDEX_DIR=str(tmp_path / "index"),  # missing: the bot must build it first, and say so
        SANAD_MODEL_CACHE=str(engine_settings.model_cache),
        SANAD_DATABASE=str(tmp_path / "sanad.db"),
        SANAD_CHATS_DIR=str(tmp_path / "chats"),
    )
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with FakeTelegram(PROCESS_TOKEN) as fake, out_path.open("w") as out, err_path.open("w") as err:
        # Failures whose descriptions carry the request path, token included: they get logged.
        fake.fail_next("getUpdates", 500, "Internal Server Error at {path}")
        fake.fail_next(
            "sendMessage", 400, "Bad Request: can't parse entities: at {path}", when=lambda p: "parse_mode" in p
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env={**env, "TELEGRAM_API_BASE_URL": fake.url},
            stdout=out,
            stderr=err,
        )
        try:
            fake.wait_until(lambda: len(fake.calls("getUpdates")) > 1 or process.poll() is not None, 180, "polling")
            assert process.poll() is None, err_path.read_text()
            fake.send_text(77, MINISTER.q)
            replies = fake.wait_for_messages(77, timeout=60)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
    stdout, stderr = out_path.read_text(), err_path.read_text()
    assert process.returncode == 0, stderr
    assert PROCESS_TOKEN not in stdout + stderr
    assert "<redacted>" in stderr  # the filter did meet the token, and hid it
    assert "Rebuilding the index" in stderr and stderr.index("Rebuilding the index") < stderr.index("Ready")
    assert MINISTER.must in "".join(sent.plain for sent in replies)


def test_an_unreachable_database_exits_1_naming_the_setting_never_the_password(
    tmp_path: Path, engine_settings: Settings, library: IndexedLibrary
) -> None:
    password = "db-password_never_printed_7"
    env = bot_env(
        TELEGRAM_BOT_TOKEN=PROCESS_TOKEN,
        SANAD_ARTICLES_DIR=str(ARTICLES_DIR),
        SANAD_INDEX_DIR=str(engine_settings.index_dir),  # built by `library`: the bot only loads it
        SANAD_MODEL_CACHE=str(engine_settings.model_cache),
        SANAD_DATABASE_URL=f"postgresql://sanad:{password}@/sanad?host={tmp_path}",  # nothing listens there
    )
    with FakeTelegram(PROCESS_TOKEN) as fake:
        result = run_bot(tmp_path, {**env, "TELEGRAM_API_BASE_URL": fake.url}, timeout=180)
    assert result.returncode == 1, result.stderr
    assert "cannot connect to PostgreSQL" in result.stderr and "SANAD_DATABASE_URL" in result.stderr
    assert password not in result.stdout + result.stderr and "sanad:***@" in result.stderr
