"""Command line: `python -m benchmarks [--json] [--quick] [--skip-growth] [--skip-bot] [--skip-replicas] ...`.

Prints each figure with its target and the raw medians (or, with --json, one JSON object on
stdout and the lines on stderr); exit code 0, or 2 with one `error: ...` line when a step
cannot run, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from embeddings import Settings, prepare_process, read_environment
from embeddings.cli import positive_int, run_command
from embeddings.dense_index import FLAT_MAX_PASSAGES

from .options import (
    DEFAULT_XQUAD,
    DENSE_KINDS,
    FULL_GROWTH,
    FULL_WAVES,
    QUICK_FLAT_MAX,
    QUICK_GROWTH,
    BenchmarkError,
    BenchOptions,
)
from .report import report_json, report_lines
from .run import run_bench


def parser() -> argparse.ArgumentParser:
    """The benchmark's flags."""
    bench = argparse.ArgumentParser(
        prog="python -m benchmarks", description="measure speed, size and growth as ratios to the model's floor"
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--quick", action="store_true", help=f"small CI run: {QUICK_GROWTH:,} passages, 1 repeat")
    bench.add_argument("--skip-growth", action="store_true", help=f"skip the {FULL_GROWTH:,}-passage growth step")
    bench.add_argument("--skip-bot", action="store_true", help="skip starting `python -m bot` (memory, throughput)")
    bench.add_argument(
        "--skip-replicas",
        action="store_true",
        help="skip PostgreSQL mode (pgserver): answer latency beside the embedded store, 1 and 2 bot replicas",
    )
    bench.add_argument("--growth-passages", type=positive_int, default=None, metavar="N", help="growth corpus size")
    bench.add_argument(
        "--dense",
        default="flat",
        metavar="KINDS",
        help=f"FAISS index kinds to measure beside index.py's own, of {','.join(DENSE_KINDS)} (default flat)",
    )
    bench.add_argument(
        "--repeats", type=positive_int, default=None, metavar="N", help="rounds over the questions (default 3)"
    )
    bench.add_argument(
        "--build-repeats", type=positive_int, default=None, metavar="N", help="builds (and bare encodes) to average (2)"
    )
    bench.add_argument(
        "--build-paragraphs", type=positive_int, default=None, metavar="N", help="XQuAD-ar paragraphs (default all)"
    )
    bench.add_argument("--xquad", default=str(DEFAULT_XQUAD), metavar="FILE.json", help="the XQuAD-ar file")
    return bench


def options_from(args: argparse.Namespace) -> BenchOptions:
    """The options the parsed arguments ask for; --quick picks the small CI sizes."""
    quick = bool(args.quick)
    growth = args.growth_passages or (QUICK_GROWTH if quick else FULL_GROWTH)
    try:
        return BenchOptions(
            quick=quick,
            skip_growth=args.skip_growth,
            skip_bot=args.skip_bot,
            skip_replicas=args.skip_replicas,
            growth_passages=growth,
            flat_max=QUICK_FLAT_MAX if quick else FLAT_MAX_PASSAGES,
            dense_kinds=tuple(k.strip() for k in args.dense.split(",") if k.strip()),
            repeats=args.repeats or (1 if quick else 3),
            build_repeats=args.build_repeats or (1 if quick else 2),
            build_paragraphs=args.build_paragraphs or (12 if quick else None),
            xquad=Path(args.xquad),
            waves=1 if quick else FULL_WAVES,
            cold_runs=1 if quick else 5,
        )
    except ValueError as exc:
        raise BenchmarkError(f"benchmarks: {exc}") from exc


def _progress(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the benchmark and print the figures (or one JSON object)."""
    options = options_from(args)
    started = time.perf_counter()
    figures = run_bench(settings, options, _progress)
    seconds = time.perf_counter() - started
    lines = "\n".join(report_lines(figures, seconds))
    if args.json:  # the lines still go to stderr, beside the progress
        print(lines, file=sys.stderr, flush=True)
        print(json.dumps(report_json(figures, options, seconds), ensure_ascii=False))
    else:
        print(lines)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m benchmarks`: parse, run, report; returns the exit code."""
    args = parser().parse_args(argv)
    prepare_process()
    return run_command(lambda: run(args, Settings.from_env(read_environment())))
