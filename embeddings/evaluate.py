"""Retrieval quality on a SQuAD v1.1 file (XQuAD, ARCD, TyDi-style).

Each `data[]` entry becomes one article whose paragraphs are its contexts, in order, so
every question competes against every paragraph of the file. A returned quote is a hit
when one of the gold answer texts appears in it verbatim.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import EvalFileError
from .types import Answer, Article


@dataclass(frozen=True)
class EvalQuestion:
    """A question and the answer texts any of which makes a quote a hit."""

    question: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class EvalSet:
    articles: tuple[Article, ...]
    questions: tuple[EvalQuestion, ...]


def _slug(title: str, number: int) -> str:
    slug = re.sub(r"[^\w-]+", "-", title, flags=re.UNICODE).strip("-").lower()
    return f"{number:03d}-{slug or 'article'}"


def read_squad(path: Path) -> EvalSet:
    """Articles and questions of a SQuAD v1.1 JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        articles, questions = [], []
        for number, entry in enumerate(data, start=1):
            contexts = [" ".join(p["context"].split()) for p in entry["paragraphs"]]
            title = str(entry.get("title") or f"article {number}").replace("_", " ")
            articles.append(Article(_slug(title, number), title, path.name, "\n".join(contexts)))
            for paragraph in entry["paragraphs"]:
                for qa in paragraph["qas"]:
                    gold = tuple(" ".join(a["text"].split()) for a in qa["answers"])
                    questions.append(EvalQuestion(qa["question"], gold))
    except FileNotFoundError as exc:
        raise EvalFileError(f"evaluation file {path} does not exist; check the path") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EvalFileError(
            f"{path} is not SQuAD v1.1 JSON (data[].paragraphs[].context/qas[].question/answers[].text): {exc}"
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


def evaluate(
    ask: Callable[[str], Answer],
    questions: Sequence[EvalQuestion],
    k: int,
    on_question: Callable[[], object] = lambda: None,
) -> dict[str, float | int]:
    """Ask every question and score where the first hit appears."""
    ranks = []
    for q in questions:
        ranks.append(first_hit_rank(ask(q.question), q.answers))
        on_question()
    return score_ranks(ranks, k)
