"""Evaluation arithmetic: where the first quote holding a gold answer ranks, recall@k and MRR,
and reading SQuAD v1.1 files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.errors import EvalFileError
from embeddings.evaluate import EvalQuestion, evaluate, first_hit_rank, read_squad, score_ranks
from embeddings.types import Answer, Quote, Scores, Span


def quote(text: str) -> Quote:
    return Quote("a", "t", "s", 1, 0, len(text), text, Span(0, len(text)), Scores(0.0, 0.0, 0.0))


def answer(*texts: str) -> Answer:
    return Answer(question="q", found=bool(texts), quotes=tuple(quote(t) for t in texts))


@pytest.mark.parametrize(
    ("quotes", "gold", "rank"),
    [
        (("القاهرة عاصمة مصر.", "النيل نهر."), ["القاهرة"], 1),
        (("لا شيء هنا.", "النيل أطول نهر.", "النيل مرة أخرى."), ["أطول نهر"], 2),
        (("أ.", "ب.", "ج."), ["غائب", "ج"], 3),
        (("لا شيء هنا.",), ["غائب"], None),
        ((), ["أي شيء"], None),
        (("نص.",), [""], None),  # an empty gold text matches nothing
    ],
)
def test_first_hit_rank(quotes: tuple[str, ...], gold: list[str], rank: int | None) -> None:
    assert first_hit_rank(answer(*quotes), gold) == rank


def test_score_ranks_recall_and_mrr() -> None:
    report = score_ranks([1, 2, None, 4], k=5)
    assert report == {"questions": 4, "recall@1": 0.25, "recall@3": 0.5, "recall@5": 0.75, "mrr": 0.4375}


def test_mrr_counts_only_ranks_within_k() -> None:
    report = score_ranks([1, 2, None, 4], k=3)
    assert report["mrr"] == 0.375  # (1 + 1/2) / 4; rank 4 is past the cut
    assert set(report) == {"questions", "recall@1", "recall@3", "recall@5", "mrr"}


def test_a_larger_k_adds_its_own_recall() -> None:
    report = score_ranks([1, 7, 10], k=10)
    assert report["recall@10"] == 1.0 and report["recall@5"] == round(1 / 3, 4)
    assert report["mrr"] == round((1 + 1 / 7 + 1 / 10) / 3, 4)


def test_evaluate_asks_every_question_and_scores_it() -> None:
    replies = {"one": answer("الجواب هنا."), "two": answer("لا.", "الجواب هنا."), "three": answer()}
    ticks: list[None] = []
    questions = [EvalQuestion(q, ("الجواب",)) for q in replies]
    report = evaluate(replies.__getitem__, questions, k=5, on_question=lambda: ticks.append(None))
    assert report["recall@1"] == round(1 / 3, 4) and report["recall@3"] == round(2 / 3, 4)
    assert report["mrr"] == 0.5 and len(ticks) == 3


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_read_squad_makes_one_article_per_entry(tmp_path: Path) -> None:
    data = {
        "data": [
            {
                "title": "Nile_River",
                "paragraphs": [
                    {
                        "context": " النيل  نهر\nطويل. ",
                        "qas": [{"question": "ما النيل؟", "answers": [{"text": "نهر  طويل"}]}],
                    },
                    {"context": "يصب في البحر.", "qas": [{"question": "أين يصب؟", "answers": [{"text": "البحر"}]}]},
                ],
            },
            {"paragraphs": [{"context": "برج عال.", "qas": []}]},
        ]
    }
    evalset = read_squad(write_json(tmp_path / "set.json", data))
    assert [a.text for a in evalset.articles] == ["النيل نهر طويل.\nيصب في البحر.", "برج عال."]
    assert [a.title for a in evalset.articles] == ["Nile River", "article 2"]
    assert len({a.id for a in evalset.articles}) == 2
    assert evalset.questions == (EvalQuestion("ما النيل؟", ("نهر طويل",)), EvalQuestion("أين يصب؟", ("البحر",), 0, 1))


def test_read_squad_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EvalFileError, match="does not exist") as info:
        read_squad(tmp_path / "absent.json")
    assert "absent.json" in str(info.value)


@pytest.mark.parametrize(
    "content",
    ['{"data": [{"paragraphs": [{"qas": []}]}]}', "not json", '{"version": "1.1"}', '{"data": 5}'],
    ids=["no-context", "not-json", "no-data", "data-not-a-list"],
)
def test_read_squad_refuses_other_json(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalFileError, match=r"is not SQuAD v1\.1/v2\.0 JSON"):
        read_squad(path)


def test_read_squad_refuses_a_file_without_questions(tmp_path: Path) -> None:
    path = write_json(tmp_path / "empty.json", {"data": [{"paragraphs": [{"context": "نص.", "qas": []}]}]})
    with pytest.raises(EvalFileError, match="holds no questions"):
        read_squad(path)


V2 = {
    "version": "v2.0",
    "data": [
        {
            "title": "النيل",
            "paragraphs": [
                {
                    "context": "النيل أطول نهر في أفريقيا. يمر بمصر.",
                    "qas": [
                        {"id": "1", "question": "ما أطول نهر؟", "answers": [{"text": "النيل", "answer_start": 0}]},
                        {"id": "2", "question": "كم طول الأمازون؟", "answers": [], "is_impossible": True},
                    ],
                }
            ],
        }
    ],
}
ANSWER_KEYS = {
    "questions", "recall@1", "recall@3", "recall@5", "mrr", "headline@1", "answer_rate", "answer_precision",
    "closest_rate", "unanswerable", "false_answer_rate",
}  # fmt: skip


def test_squad_v2_unanswerable_questions_are_read_as_such(tmp_path: Path) -> None:
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(V2, ensure_ascii=False), encoding="utf-8")
    questions = read_squad(path).questions
    assert [q.answerable for q in questions] == [True, False]


def test_answer_level_figures_count_kinds() -> None:
    questions = [EvalQuestion("a", ("النيل",)), EvalQuestion("b", ("مصر",)), EvalQuestion("c", ())]
    replies = {
        "a": answer("النيل أطول نهر."),
        "b": Answer(question="b", found=False, quotes=(quote("لا شيء"),), kind="closest"),
        "c": answer("شيء ما."),
    }
    report = evaluate(lambda q: replies[q], questions, 5, decide=lambda q: replies[q])
    assert set(report) == ANSWER_KEYS
    assert (report["questions"], report["unanswerable"]) == (2, 1)
    assert report["answer_rate"] == 0.5 and report["answer_precision"] == 1.0 and report["closest_rate"] == 0.5
    assert report["false_answer_rate"] == 1.0 and report["headline@1"] == 0.5


def test_false_answer_rate_is_null_without_unanswerable_questions() -> None:
    report = evaluate(lambda q: answer("النيل"), [EvalQuestion("a", ("النيل",))], 5, decide=lambda q: answer("النيل"))
    assert report["false_answer_rate"] is None and report["unanswerable"] == 0


def test_library_split_indexes_even_entries_and_asks_the_odd_ones_as_unanswerable() -> None:
    from embeddings.evaluate import library_split

    data = json.loads((Path(__file__).resolve().parent.parent.parent / "shared/eval/xquad.ar.json").read_text())
    split = library_split(data)
    odd_questions = sum(len(p["qas"]) for e in data["data"][1::2] for p in e["paragraphs"])
    impossible = [qa for e in split["data"] for p in e["paragraphs"] for qa in p["qas"] if qa.get("is_impossible")]
    assert len(split["data"]) == 24 and len(impossible) == odd_questions == 578
