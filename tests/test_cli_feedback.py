"""`python -m embeddings feedback export`: the 👍/👎 presses as JSONL, in-process on a real store."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from embeddings.cli import main
from embeddings.feedback import FIELDS
from embeddings.store import Feedback, PostgresChatStore, QuotedText, SQLiteChatStore

Run = Callable[..., tuple[int, str, str]]
PASSAGE = "افتتحت المدينة حديقة جديدة. وتضم الحديقة ثلاثة آلاف نخلة."
SENTENCE_AT = PASSAGE.index("وتضم")
DEC_1, DEC_3 = (datetime(2026, 12, day, 9, tzinfo=UTC).timestamp() for day in (1, 3))


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    for name in [n for n in os.environ if n.startswith("SANAD_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SANAD_DATABASE", str(tmp_path / "sanad.db"))
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def presses(tmp_path: Path) -> None:
    """Two presses: 👍 on a quoted sentence on December 1st, 👎 on a not_found on December 3rd."""
    store = SQLiteChatStore(tmp_path / "sanad.db")
    start = 40
    quote = QuotedText(
        "chat/1",
        "حديقة النخيل",
        "https://example.com/palms",
        2,
        start,
        start + len(PASSAGE),
        start + SENTENCE_AT,
        start + len(PASSAGE),
        PASSAGE,
        PASSAGE[SENTENCE_AT:],
    )
    store.add_feedback(Feedback(31, "up", DEC_1, "كم نخلة في الحديقة؟", "answer", 0.81, quote))
    store.add_feedback(Feedback(-1005, "down", DEC_3, "ما عاصمة فرنسا؟", "not_found", 0.02, None))
    store.close()


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_export_writes_one_object_per_press_with_the_quoted_text(run: Run, presses: None) -> None:
    code, out, _ = run("feedback", "export")
    up, down = lines(out)
    assert code == 0 and list(up) == list(FIELDS) and list(down) == list(FIELDS)
    assert up["vote"] == "up" and up["kind"] == "answer" and up["question"] == "كم نخلة في الحديقة؟"
    assert (up["article"], up["paragraph"], up["start"], up["highlight_start"]) == ("chat/1", 2, 40, 40 + SENTENCE_AT)
    assert up["passage"] == PASSAGE and up["sentence"] == "وتضم الحديقة ثلاثة آلاف نخلة."
    assert PASSAGE[int(str(up["answer_start"])) :].startswith(str(up["sentence"]))  # SQuAD's answer_start
    assert up["at"] == "2026-12-01T09:00:00+00:00" and up["chat"] == 31 and up["confidence"] == 0.81
    assert down["vote"] == "down" and down["kind"] == "not_found" and down["article"] is None
    assert down["passage"] is None and down["sentence"] is None


@pytest.mark.parametrize(
    ("since", "votes"),
    [
        ("2026-12-01", ["up", "down"]),
        ("2026-12-02", ["down"]),
        ("2026-12-03T10:00", []),
        ("2026-12-03T11:00+03:00", ["down"]),
    ],
)
def test_since_keeps_the_presses_from_that_time_on(run: Run, presses: None, since: str, votes: list[str]) -> None:
    code, out, _ = run("feedback", "export", "--since", since)
    assert code == 0 and [line["vote"] for line in lines(out)] == votes


def test_out_writes_a_file(run: Run, presses: None, tmp_path: Path) -> None:
    code, out, err = run("feedback", "export", "--out", str(tmp_path / "presses.jsonl"))
    assert code == 0 and out == "" and "Wrote 2 press(es)" in err
    assert len(lines((tmp_path / "presses.jsonl").read_text(encoding="utf-8"))) == 2


def test_a_bad_date_or_no_database_is_an_error_saying_what_to_do(
    run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run("feedback", "export")
    assert code == 2 and "no chats' database" in err and "SANAD_DATABASE" in err
    with pytest.raises(SystemExit) as exited:
        main(["feedback", "export", "--since", "yesterday"])
    assert exited.value.code == 2 and "2026-12-01" in capsys.readouterr().err


def test_export_reads_postgresql_when_the_url_is_set(
    run: Run, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PostgresChatStore(postgres_url)
    store.add_feedback(Feedback(31, "up", DEC_1, "كم نخلة في الحديقة؟", "closest", 0.4, None))
    store.close()
    monkeypatch.setenv("SANAD_DATABASE_URL", postgres_url)
    code, out, _ = run("feedback", "export")
    assert code == 0 and [(line["vote"], line["kind"]) for line in lines(out)] == [("up", "closest")]
