"""The command line as a user runs it: `python -m embeddings build | ask | eval` in a
subprocess, exit code and output checked, row by row."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from embeddings.articles import read_article

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTION = "ما الخطر الذي قال بوتين إنه لا يزال موجودا؟"
DANGER_SENTENCE = (
    "كما حذر الرئيس الروسي من خطر وقوع منظومات الدفاع الجوي المتنقلة والأسلحة عالية الدقة من السوق السوداء "
    "في أوكرانيا في أيدي الإرهابيين، مؤكدا أن هذا الخطر لا يزال موجودا."
)
MINISTER_QUESTION = "ما اسم وزير الدفاع الروسي؟"
TROOPS_QUESTION = "كم عدد الجنود الذين شاركوا في التدريبات؟"  # near topic: the article does not say
MINISTER_SENTENCE = (
    "وفي ذات السياق، تلقى الرئيس الروسي فلاديمير بوتين تقريرا من وزير الدفاع الروسي سيرجي شويجو "
    "عن سير تدريبات قوات الردع الاستراتيجي، التي أثارت قلق الولايات المتحدة الأمريكية."
)
SMALL_SQUAD = {
    "version": "1.1",
    "data": [
        {
            "title": "نهر_النيل",
            "paragraphs": [
                {
                    "context": (
                        "نهر النيل أطول أنهار العالم، ويبلغ طوله نحو 6650 كيلومترا.  ويصب في البحر الأبيض المتوسط."
                    ),
                    "qas": [
                        {"id": "1", "question": "كم يبلغ طول نهر النيل؟", "answers": [{"text": "6650 كيلومترا"}]},
                        {"id": "2", "question": "أين يصب نهر النيل؟", "answers": [{"text": "البحر الأبيض المتوسط"}]},
                    ],
                }
            ],
        },
        {
            "title": "برج خليفة",
            "paragraphs": [
                {
                    "context": "برج خليفة ناطحة سحاب في دبي، افتتح عام 2010 ويبلغ ارتفاعه 828 مترا.",
                    "qas": [
                        {"id": "3", "question": "متى افتتح برج خليفة؟", "answers": [{"text": "2010"}]},
                        {"id": "4", "question": "كم يبلغ ارتفاع برج خليفة؟", "answers": [{"text": "828 مترا"}]},
                    ],
                }
            ],
        },
    ],
}


FOLLOW_UPS = [
    {"first": "ماذا قال بوتين عن السوق السوداء للأسلحة؟", "then": "ومن يهرّبها؟", "must": "الجماعات الإجرامية"},
    {
        "first": "ما الأسلحة التي حذر بوتين من وقوعها في أيدي الإرهابيين؟",
        "then": "ومن أين مصدرها؟",
        "must": "السوق السوداء",
    },
]
SELF_CONTAINED = [
    {"q": QUESTION, "must": "منظومات الدفاع الجوي المتنقلة"},
    {"q": "أين تعمل السوق السوداء للأسلحة؟", "must": "في أوكرانيا"},
]


@dataclass(frozen=True)
class Workspace:
    articles: Path
    index: Path
    squad: Path

    @property
    def follow_ups(self) -> Path:
        return self.squad.parent / "follow-ups.jsonl"

    @property
    def questions(self) -> Path:
        return self.squad.parent / "questions.jsonl"

    def env(self) -> dict[str, str]:
        return {"SANAD_ARTICLES_DIR": str(self.articles), "SANAD_INDEX_DIR": str(self.index)}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(PROJECT_ROOT / "data" / "articles", root / "articles")
    squad = root / "small-squad.json"
    squad.write_text(json.dumps(SMALL_SQUAD, ensure_ascii=False), encoding="utf-8")
    workspace = Workspace(articles=root / "articles", index=root / "index", squad=squad)
    for path, rows in ((workspace.follow_ups, FOLLOW_UPS), (workspace.questions, SELF_CONTAINED)):
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return workspace


Result = subprocess.CompletedProcess[str]


def found_text(result: Result, ws: Workspace) -> None:
    assert result.stdout.startswith("Answer:") and f"«{DANGER_SENTENCE}» [1]" in result.stdout
    assert "[1]" in result.stdout and "paragraph" in result.stdout


def minister_text(result: Result, ws: Workspace) -> None:
    # A name question: the sentence with the name is the answer, in full.
    assert result.stdout.startswith("Answer:") and f"«{MINISTER_SENTENCE}» [1]" in result.stdout


def closest_troops_text(result: Result, ws: Workspace) -> None:
    # The article is about the drills, but no sentence says how many troops took part.
    assert result.stdout.startswith("Closest:") and "«" not in result.stdout
    assert "تدريبات" in result.stdout and "[1]" in result.stdout and "[2]" not in result.stdout


def found_json(result: Result, ws: Workspace) -> None:
    answer = json.loads(result.stdout)
    assert set(answer) == {"question", "kind", "found", "confidence", "quotes"}
    assert answer["question"] == QUESTION and answer["found"] is True and answer["kind"] == "answer"
    assert 0.0 <= answer["confidence"] <= 1.0
    assert 1 <= len(answer["quotes"]) <= 3
    for quote in answer["quotes"]:
        text = read_article(ws.articles / f"{quote['article']}.txt").text
        assert quote["text"] == text[quote["start"] : quote["end"]]
        assert quote["highlight"] == text[quote["highlight_start"] : quote["highlight_end"]]
        assert quote["link"] is None  # the shipped article came from no URL
        assert set(quote["scores"]) == {"fused", "dense", "bm25"}
        assert all(isinstance(v, float) for v in quote["scores"].values())
    assert answer["quotes"][0]["highlight"] == DANGER_SENTENCE


def not_found_json(result: Result, ws: Workspace) -> None:
    answer = json.loads(result.stdout)
    assert answer["found"] is False and answer["kind"] == "not_found" and answer["quotes"] == []


def one_error_line(result: Result, ws: Workspace) -> None:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "question is empty" in errors[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def argparse_rejects_k(result: Result, ws: Workspace) -> None:
    assert "usage:" in result.stderr and "'0' is not a positive whole number" in result.stderr
    assert "Traceback" not in result.stderr


def built_line(result: Result, ws: Workspace) -> None:
    assert f"Built the index: 13 passages from 1 article(s) in {ws.index}" in result.stdout
    assert (ws.index / "manifest.json").is_file()


def missing_eval_file(result: Result, ws: Workspace) -> None:
    assert "error:" in result.stderr and "no-such-eval-file.json" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def small_eval_report(result: Result, ws: Workspace) -> None:
    report = json.loads(result.stdout)
    assert {"questions", "recall@1", "recall@3", "recall@5", "mrr", "headline@1", "answer_rate"} <= set(report)
    assert {"answer_precision", "closest_rate", "unanswerable", "false_answer_rate"} <= set(report)
    assert report["unanswerable"] == 0 and report["false_answer_rate"] is None
    assert report["questions"] == 4 and report["passages"] == 2
    assert report["recall@3"] == report["recall@5"] == 1.0  # two passages: every gold is in the top 2
    assert 0.5 <= report["mrr"] <= 1.0


def follow_ups_json(result: Result, ws: Workspace) -> None:
    report = json.loads(result.stdout)
    assert report["pairs"] == 2 and report["pass_with_context"] == 2 and report["pass_without_context"] == 0
    assert report["controls"] == 2 and report["controls_kept_with_context"] == report["controls_kept_without_context"]
    assert report["controls_resolved"] == 0


def follow_ups_text(result: Result, ws: Workspace) -> None:
    assert "ومن يهرّبها؟" in result.stdout
    assert "pairs whose reply quotes `must`: 0 of 2 without context, 2 with context" in result.stdout


def bad_follow_ups_file(result: Result, ws: Workspace) -> None:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "line 1" in errors[0] and "first, then, must" in errors[0]


CASES = [
    pytest.param(["ask", QUESTION], 0, found_text, id="ask-found"),
    pytest.param(["ask", "--json", QUESTION], 0, found_json, id="ask-json"),
    pytest.param(["ask", MINISTER_QUESTION], 0, minister_text, id="ask-name"),
    pytest.param(["ask", TROOPS_QUESTION], 0, closest_troops_text, id="ask-closest"),
    pytest.param(["ask", "--json", "ما عاصمة فرنسا؟"], 0, not_found_json, id="ask-off-topic"),
    pytest.param(["ask", "   "], 2, one_error_line, id="ask-empty"),
    pytest.param(["ask", "-k", "0", QUESTION], 2, argparse_rejects_k, id="ask-k-0"),
    pytest.param(["build"], 0, built_line, id="build"),
    pytest.param(["eval", "no-such-eval-file.json"], 2, missing_eval_file, id="eval-missing-file"),
    pytest.param(["eval", "{squad}", "--json"], 0, small_eval_report, id="eval-small"),
    pytest.param(
        ["eval-followups", "{follow_ups}", "--questions", "{questions}", "--json"], 0, follow_ups_json, id="follow-ups"
    ),
    pytest.param(["eval-followups", "{follow_ups}"], 0, follow_ups_text, id="follow-ups-text"),
    pytest.param(["eval-followups", "{squad}"], 2, bad_follow_ups_file, id="follow-ups-not-jsonl"),
]


@pytest.mark.parametrize(("args", "code", "check"), CASES)
def test_cli(
    run_cli: Callable[..., Result],
    workspace: Workspace,
    args: list[str],
    code: int,
    check: Callable[[Result, Workspace], None],
) -> None:
    places = {"{squad}": workspace.squad, "{follow_ups}": workspace.follow_ups, "{questions}": workspace.questions}
    argv = [str(places.get(a, a)) for a in args]
    result = run_cli(argv, workspace.env(), cwd=workspace.articles.parent, timeout=600)
    assert result.returncode == code, result.stderr[-3000:]
    check(result, workspace)
