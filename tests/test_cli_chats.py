"""`python -m embeddings chats` and `--chat ID` on list / ask / remove: one chat's own articles,
in-process, with a fake encoder in place of the model."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_encoder import FakeEncoder

from embeddings.cli import main
from embeddings.store import SQLiteChatStore
from tests.test_library import copy_seed

Run = Callable[..., tuple[int, str, str]]
CHAT, GROUP = 31, -1001234
PALMS = "تفتتح المدينة حديقة النخيل الكبرى يوم الجمعة.\nتضم الحديقة ثلاثة آلاف نخلة من أصناف نادرة."


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the command line in-process on a temporary library and chats' store: (code, stdout, stderr)."""
    fake = FakeEncoder()
    monkeypatch.setattr("embeddings.indexed_library.load_encoder", lambda model, cache, backend, threads=None: fake)
    for name in [n for n in os.environ if n.startswith("SANAD_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SANAD_ARTICLES_DIR", str(copy_seed(tmp_path / "articles")))
    monkeypatch.setenv("SANAD_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("SANAD_DATABASE", str(tmp_path / "sanad.db"))
    monkeypatch.setenv("SANAD_CHATS_DIR", str(tmp_path / "chats"))
    monkeypatch.setenv("SANAD_ABSTAIN_THRESHOLD", "-1")  # the fake encoder's cosines are not calibrated
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def store(tmp_path: Path) -> SQLiteChatStore:
    """The store the commands read, holding one article in CHAT and none in GROUP."""
    opened = SQLiteChatStore(tmp_path / "sanad.db")
    opened.add_article(CHAT, "حديقة النخيل", "https://example.com/palms", PALMS, "2026-12-01T09:00:00+00:00")
    opened.touch(GROUP, 1_700_000_000.0)
    return opened


def test_chats_lists_ids_articles_and_last_activity(run: Run, store: SQLiteChatStore) -> None:
    code, out, _ = run("chats")
    rows = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and [(r[0], r[1]) for r in rows] == [(str(GROUP), "0"), (str(CHAT), "1")]
    assert rows[0][2] == "2023-11-14T22:13:20+00:00"
    code, out, _ = run("chats", "--json")
    assert code == 0 and json.loads(out)[1] == {"chat": CHAT, "articles": 1, "last_active": rows[1][2]}


def test_list_with_chat_shows_only_that_chats_articles(run: Run, store: SQLiteChatStore) -> None:
    code, out, _ = run("list", "--chat", str(CHAT))
    assert code == 0 and out.split("\t")[0] == "1" and "حديقة النخيل" in out
    code, out, err = run("list", "--chat", str(GROUP))
    assert code == 0 and out == "" and "no articles of its own" in err
    code, out, _ = run("list")
    assert "حديقة النخيل" not in out  # the shared library as before


def test_ask_with_chat_answers_from_its_articles_and_without_from_the_library(run: Run, store: SQLiteChatStore) -> None:
    code, out, _ = run("ask", "--chat", str(CHAT), "--json", "حديقة النخيل نخلة")
    assert code == 0 and "chat/1" in {q["article"] for q in json.loads(out)["quotes"]}
    code, out, _ = run("ask", "--json", "حديقة النخيل نخلة")
    assert code == 0 and "chat/1" not in {q["article"] for q in json.loads(out)["quotes"]}
    code, out, _ = run("ask", "--chat", str(GROUP), "--json", "حديقة النخيل نخلة")
    assert code == 0 and "chat/1" not in {q["article"] for q in json.loads(out)["quotes"]}


def test_remove_with_chat_deletes_the_row_and_the_folder(run: Run, store: SQLiteChatStore, tmp_path: Path) -> None:
    code, _, err = run("remove", "--chat", str(GROUP), "1")
    assert code == 2 and err.startswith("error: chat -1001234 has no article number '1'")
    run("ask", "--chat", str(CHAT), "حديقة")  # builds the chat's index folder
    assert (tmp_path / "chats" / f"chat{CHAT}" / "index").is_dir()
    code, out, _ = run("remove", "--chat", str(CHAT), "1")
    assert code == 0 and out.startswith(f"removed 1 from chat {CHAT}")
    assert store.articles(CHAT) == [] and not (tmp_path / "chats" / f"chat{CHAT}").exists()


def test_without_a_database_chats_says_so(run: Run) -> None:
    code, _, err = run("chats")
    assert code == 2 and "no chats' database" in err and "SANAD_DATABASE" in err
