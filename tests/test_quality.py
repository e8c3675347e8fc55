"""Quality with the real model: the dev questions find their answer in the top 3 quotes,
questions the article cannot answer get "not found", and XQuAD-ar retrieval reaches its floor."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from embeddings import Engine
from embeddings.evaluate import read_squad

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"
if not (SHARED_EVAL / "seed_dev_questions.jsonl").is_file():
    pytest.skip(f"needs the dev questions and XQuAD-ar in {SHARED_EVAL} (../shared)", allow_module_level=True)
DEV_QUESTIONS = [
    json.loads(line) for line in (SHARED_EVAL / "seed_dev_questions.jsonl").read_text().splitlines() if line
]
XQUAD = SHARED_EVAL / "xquad.ar.json"


def test_there_are_twelve_dev_questions() -> None:
    assert len(DEV_QUESTIONS) == 12


@pytest.mark.parametrize("item", DEV_QUESTIONS, ids=[f"dev{n:02d}" for n in range(1, len(DEV_QUESTIONS) + 1)])
def test_dev_question_is_answered_within_the_top_three_quotes(real_engine: Engine, item: dict[str, str]) -> None:
    answer = real_engine.ask(item["q"])
    assert answer.found, f"{item['q']!r} was not answered"
    assert any(item["must"] in q.text for q in answer.quotes[:3]), [q.text[:80] for q in answer.quotes]


@pytest.mark.parametrize("question", ["ما عاصمة فرنسا؟", "What is the capital of France?"])
def test_off_topic_question_is_not_found(real_engine: Engine, question: str) -> None:
    answer = real_engine.ask(question)
    assert not answer.found and answer.quotes == ()


def test_xquad_questions_about_other_articles_are_mostly_not_found(real_engine: Engine) -> None:
    questions = read_squad(XQUAD).questions
    assert len(questions) == 1190
    answered = [q.question for q in questions if real_engine.ask(q.question).found]
    rate = 1 - len(answered) / len(questions)
    assert rate >= 0.90, f"abstained on {rate:.1%}; answered e.g. {answered[:5]}"


@pytest.mark.slow
def test_xquad_retrieval_recall(run_cli: Callable[..., object], tmp_path: Path) -> None:
    result = run_cli(["eval", "../shared/eval/xquad.ar.json", "--json"], {}, cwd=PROJECT_ROOT, timeout=1200)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert {"questions", "recall@1", "recall@3", "recall@5", "mrr"} <= set(report)
    assert report["questions"] == 1190
    assert report["recall@1"] >= 0.90, report
    assert report["recall@3"] >= 0.97, report
