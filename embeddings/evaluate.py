"""Retrieval and answer quality on a SQuAD v1.1 or v2.0 file (XQuAD, ARCD, TyDi-style).

Each `data[]` entry becomes one article whose paragraphs are its contexts, in order, so
every question competes against every paragraph of the file. A returned quote is a hit
when one of the gold answer texts appears in it verbatim. A question marked
`is_impossible`, or without answers, is unanswerable: it must not get kind `answer`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import EvalFileError
from .model import Encoder
from .types import Answer, Article


@dataclass(frozen=True)
class EvalQuestion:
    """A question and the answer texts any of which makes a quote a hit (none: unanswerable)."""

    question: str
    answers: tuple[str, ...]
    article: int = 0  # 0-based index of its data[] entry
    paragraph: int = 0  # 0-based index of its paragraph in the entry

    @property
    def answerable(self) -> bool:
        return any(self.answers)


@dataclass(frozen=True)
class EvalSet:
    articles: tuple[Article, ...]
    questions: tuple[EvalQuestion, ...]


def _slug(title: str, number: int) -> str:
    slug = re.sub(r"[^\w-]+", "-", title, flags=re.UNICODE).strip("-").lower()
    return f"{number:03d}-{slug or 'article'}"


def read_squad(path: Path) -> EvalSet:
    """Articles and questions of a SQuAD v1.1 or v2.0 JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        articles, questions = [], []
        for number, entry in enumerate(data, start=1):
            contexts = [" ".join(p["context"].split()) for p in entry["paragraphs"]]
            title = str(entry.get("title") or f"article {number}").replace("_", " ")
            articles.append(Article(_slug(title, number), title, path.name, "\n".join(contexts)))
            for paragraph_number, paragraph in enumerate(entry["paragraphs"]):
                for qa in paragraph["qas"]:
                    impossible = bool(qa.get("is_impossible", False))
                    gold = () if impossible else tuple(" ".join(a["text"].split()) for a in qa.get("answers", []))
                    questions.append(EvalQuestion(qa["question"], gold, number - 1, paragraph_number))
    except FileNotFoundError as exc:
        raise EvalFileError(f"evaluation file {path} does not exist; check the path") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EvalFileError(
            f"{path} is not SQuAD v1.1/v2.0 JSON (data[].paragraphs[].context/qas[].question/answers[].text): {exc}"
        ) from exc
    if not questions:
        raise EvalFileError(f"{path} holds no questions")
    return EvalSet(tuple(articles), tuple(questions))


def first_hit_rank(answer: Answer, gold: Sequence[str]) -> int | None:
    """1-based rank of the first quote containing a gold answer, or None."""
    for rank, quote in enumerate(answer.quotes, start=1):
        if any(g and g in quote.text for g in gold):
            return rank
    return None


def score_ranks(ranks: Sequence[int | None], k: int) -> dict[str, float | int]:
    """recall@1/3/5 (and @k), and the mean reciprocal rank within the first k."""
    n = len(ranks)
    report: dict[str, float | int] = {"questions": n}
    for cut in sorted({1, 3, 5, k}):
        report[f"recall@{cut}"] = round(sum(1 for r in ranks if r is not None and r <= cut) / n, 4)
    report["mrr"] = round(sum(1.0 / r for r in ranks if r is not None and r <= k) / n, 4)
    return report


def holds_answer(answer: Answer, gold: Sequence[str]) -> bool:
    """True when the first quote's highlighted sentence contains a gold answer."""
    return bool(answer.quotes) and any(g and g in answer.quotes[0].highlight_text for g in gold)


def evaluate(
    ask: Callable[[str], Answer],
    questions: Sequence[EvalQuestion],
    k: int,
    on_question: Callable[[], object] = lambda: None,
    decide: Callable[[str], Answer] | None = None,
) -> dict[str, float | int | None]:
    """Ask every question and score where the first hit appears.

    `ask` answers with abstention off (recall@k, MRR, headline@1 over the answerable
    questions); `decide`, when given, answers as users are answered, for the answer-level
    figures: answer_rate, answer_precision and closest_rate over the answerable questions,
    and false_answer_rate over the unanswerable ones (None when there are none).
    """
    answerable = [q for q in questions if q.answerable]
    ranks, headline = [], 0
    for q in answerable:
        answer = ask(q.question)
        ranks.append(first_hit_rank(answer, q.answers))
        headline += holds_answer(answer, q.answers)
        on_question()
    report: dict[str, float | int | None] = dict(score_ranks(ranks, k)) if ranks else {"questions": 0}
    report["headline@1"] = round(headline / len(answerable), 4) if answerable else None
    if decide is None:
        return report
    kinds, correct = [], 0
    for q in answerable:
        answer = decide(q.question)
        kinds.append(answer.kind)
        correct += answer.kind == "answer" and holds_answer(answer, q.answers)
        on_question()
    false_answers = 0
    unanswerable = [q for q in questions if not q.answerable]
    for q in unanswerable:
        false_answers += decide(q.question).kind == "answer"
        on_question()
    answered = kinds.count("answer")
    report["answer_rate"] = round(answered / len(kinds), 4) if kinds else None
    report["answer_precision"] = round(correct / answered, 4) if answered else None
    report["closest_rate"] = round(kinds.count("closest") / len(kinds), 4) if kinds else None
    report["unanswerable"] = len(unanswerable)
    report["false_answer_rate"] = round(false_answers / len(unanswerable), 4) if unanswerable else None
    return report


class RememberingEncoder:
    """An encoder that embeds each question and each passage text once, however often it is
    asked (the evaluation asks each question twice: abstention off, then as users are
    answered; calibration indexes the same paragraphs in several arrangements)."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._seen: dict[str, np.ndarray] = {}
        self._passages: dict[str, np.ndarray] = {}
        self.name, self.dim = encoder.name, encoder.dim
        self.word_pieces = getattr(encoder, "word_pieces", None)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The question vectors, embedding only the questions not seen before."""
        new = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if new:
            self._seen.update(zip(new, self._encoder.encode_queries(new), strict=True))
        return np.stack([self._seen[t] for t in texts])

    def encode_passages(self, texts: Sequence[str], progress: bool = False, batch_size: int = 16) -> np.ndarray:
        """The passage vectors, embedding only the texts not seen before."""
        new = [t for t in dict.fromkeys(texts) if t not in self._passages]
        if new:
            self._passages.update(zip(new, self._encoder.encode_passages(new, progress=progress), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._passages[t] for t in texts])


def library_split(data: dict[str, Any]) -> dict[str, Any]:
    """A SQuAD v2.0 object from a SQuAD object: the even-numbered `data[]` entries (0-based)
    are the library, and every question of the odd-numbered ones is added, `is_impossible`,
    to the first entry (its article is then not indexed)."""
    entries = data["data"]
    kept = [json.loads(json.dumps(e)) for e in entries[0::2]]
    impossible = [
        {"id": f"{qa.get('id', n)}-unindexed", "question": qa["question"], "answers": [], "is_impossible": True}
        for e in entries[1::2]
        for p in e["paragraphs"]
        for n, qa in enumerate(p["qas"])
    ]
    if kept and impossible:
        kept[0]["paragraphs"][0]["qas"].extend(impossible)
    return {"version": "v2.0", "data": kept}
