"""How well follow-up questions are answered, with and without the previous turn.

A follow-up file is JSON lines of `{"first": ..., "then": ..., "must": ...}`: after asking
`first`, the reply to `then` must contain `must`. Each pair is asked twice: `then` alone (no
context), and `then` resolved with the turn `first` left (conversation.py), as a chat would.
A pair *passes* when the reply quotes `must` (kind `answer` or `closest`); it is *answered* when
the kind is `answer` and the first quote holds `must`.

Controls (optional, the dev questions' `{"q": ..., "must": ...}`): each self-contained question
is asked right after an unrelated one (the question half the list away), with context on; it
keeps its answer when the first quote still holds `must` — a new question must not be pulled
towards the old one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .conversation import Ask, FollowUp, answer_in_turn, follow_up, next_turn
from .errors import EvalFileError
from .indexed_library import IndexedLibrary
from .settings import Settings
from .types import Answer

Terms = Callable[[str], list[str]]
_CHAT = 0  # the evaluation plays one chat
_GAP_SECONDS = 5.0  # the follow-up comes this long after the first question


@dataclass(frozen=True)
class FollowUpPair:
    """A question, a follow-up of it, and what the follow-up's reply must quote."""

    first: str
    then: str
    must: str


@dataclass(frozen=True)
class PairResult:
    """One pair, asked without and with context."""

    pair: FollowUpPair
    alone: Answer
    resolved: Answer
    leaned: bool  # the follow-up was resolved with the first question's turn


@dataclass(frozen=True)
class ControlResult:
    """A self-contained question asked right after an unrelated one, without and with context."""

    question: str
    must: str
    after: str
    alone: Answer
    with_context: Answer
    leaned: bool


def passes(answer: Answer, must: str) -> bool:
    """The reply quotes `must` (an answer or the closest passage)."""
    return answer.kind != "not_found" and any(must in quote.text for quote in answer.quotes)


def answered(answer: Answer, must: str) -> bool:
    """Kind `answer`, and the first quote holds `must`."""
    return answer.kind == "answer" and bool(answer.quotes) and must in answer.quotes[0].text


def read_jsonl(path: Path, fields: Sequence[str]) -> list[dict[str, str]]:
    """The objects of a JSON-lines file, each with the string `fields`; EvalFileError otherwise."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalFileError(f"cannot read {path}: {exc.strerror or exc}; give a JSON-lines file") from exc
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{path} line {number} is not JSON ({exc.msg}); one object per line") from exc
        if not isinstance(row, dict) or not all(isinstance(row.get(f), str) and row[f] for f in fields):
            raise EvalFileError(f"{path} line {number} needs the string fields {', '.join(fields)}")
        rows.append({f: row[f] for f in fields})
    if not rows:
        raise EvalFileError(f"{path} holds no objects; one JSON object per line, with {', '.join(fields)}")
    return rows


def read_pairs(path: Path) -> list[FollowUpPair]:
    """The pairs of a follow-up file (first, then, must)."""
    return [FollowUpPair(r["first"], r["then"], r["must"]) for r in read_jsonl(path, ("first", "then", "must"))]


def ask_after(ask: Ask, terms_of: Terms, first: str, then: str) -> tuple[Answer, bool]:
    """`then` asked right after `first` in one chat (resolved with its turn when it leans back,
    as `ChatCollections.ask` does), and whether it was resolved."""
    asked = 1_000_000.0
    turn = next_turn(_CHAT, first, asked, "", ask(first, None), None)
    leaned = follow_up(then, turn, now=asked + _GAP_SECONDS, focus="", window=600.0, terms_of=terms_of)
    answer, used = answer_in_turn(ask, then, leaned)
    return answer, used is not None


def evaluate_pairs(ask: Ask, terms_of: Terms, pairs: Sequence[FollowUpPair]) -> list[PairResult]:
    """Each pair's follow-up asked alone and after its first question."""
    results = []
    for pair in pairs:
        resolved, leaned = ask_after(ask, terms_of, pair.first, pair.then)
        results.append(PairResult(pair, ask(pair.then, None), resolved, leaned))
    return results


def evaluate_controls(ask: Ask, terms_of: Terms, questions: Sequence[tuple[str, str]]) -> list[ControlResult]:
    """Each (question, must) asked alone and right after the question half the list away."""
    results = []
    for number, (question, must) in enumerate(questions):
        after = questions[(number + len(questions) // 2) % len(questions)][0]
        with_context, leaned = ask_after(ask, terms_of, after, question)
        results.append(ControlResult(question, must, after, ask(question, None), with_context, leaned))
    return results


def summary(pairs: Sequence[PairResult], controls: Sequence[ControlResult]) -> dict[str, int]:
    """The counts: pairs passing / answered without and with context; controls keeping their answer."""
    figures = {
        "pairs": len(pairs),
        "pass_without_context": sum(passes(r.alone, r.pair.must) for r in pairs),
        "pass_with_context": sum(passes(r.resolved, r.pair.must) for r in pairs),
        "answered_without_context": sum(answered(r.alone, r.pair.must) for r in pairs),
        "answered_with_context": sum(answered(r.resolved, r.pair.must) for r in pairs),
        "resolved_with_context": sum(r.leaned for r in pairs),
    }
    if controls:
        figures |= {
            "controls": len(controls),
            "controls_kept_without_context": sum(answered(r.alone, r.must) for r in controls),
            "controls_kept_with_context": sum(answered(r.with_context, r.must) for r in controls),
            "controls_resolved": sum(r.leaned for r in controls),
        }
    return figures


def _pair_line(result: PairResult) -> str:
    must = result.pair.must
    marks = [
        f"{name} {answer.kind}{'+' if passes(answer, must) else '-'}"
        for name, answer in (("alone", result.alone), ("with context", result.resolved))
    ]
    return f"{result.pair.then}  [{', '.join(marks)}{'' if result.leaned else ', answered alone'}]"


def cmd_eval_followups(args: argparse.Namespace, settings: Settings) -> int:
    """Ask each pair's follow-up alone and after its first question; print both counts."""
    pairs = read_pairs(Path(args.file))
    controls = [(r["q"], r["must"]) for r in read_jsonl(Path(args.questions), ("q", "must"))] if args.questions else []
    engine = IndexedLibrary.open(settings, log=lambda m: print(m, file=sys.stderr, flush=True)).engine

    def ask(question: str, leaned: FollowUp | None) -> Answer:
        return engine.ask(question, follow_up=leaned)

    results = evaluate_pairs(ask, engine.analyzer.terms, pairs)
    checked = evaluate_controls(ask, engine.analyzer.terms, controls) if controls else []
    figures = summary(results, checked)
    if args.json:
        print(json.dumps({"file": str(args.file), "articles": len(engine.articles), **figures}))
        return 0
    for result in results:
        print(_pair_line(result))
    print(
        f"pairs whose reply quotes `must`: {figures['pass_without_context']} of {len(pairs)} without context, "
        f"{figures['pass_with_context']} with context (kind answer with `must` in the first quote: "
        f"{figures['answered_without_context']} / {figures['answered_with_context']})"
    )
    if checked:
        print(
            f"self-contained questions right after an unrelated one, `must` in the first quote: "
            f"{figures['controls_kept_without_context']} of {len(checked)} alone, "
            f"{figures['controls_kept_with_context']} with context on "
            f"({figures['controls_resolved']} resolved as follow-ups)"
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `eval-followups` command to the CLI's subcommands."""
    ev = sub.add_parser("eval-followups", help="measure follow-up questions without and with the previous turn")
    ev.add_argument(
        "file", metavar="FILE.jsonl", help="lines of {first, then, must}, e.g. ../shared/eval/seed_dev_followups.jsonl"
    )
    ev.add_argument(
        "--questions",
        metavar="DEV.jsonl",
        help="lines of {q, must}: also check that these keep their answer asked right after an unrelated one",
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(run=cmd_eval_followups)
