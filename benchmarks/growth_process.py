"""The growth step in a process of its own, on the served backend: `python -m benchmarks.growth_process`.

The benchmark's own process holds sentence-transformers on torch (the floor of the answer
overhead and the build figures), so its RSS is not that of a process serving a million
passages with the default model. This child is: it starts fresh with the served settings
(`SANAD_BACKEND`, the index folder the run built for them, the model's threads as in the bot:
SANAD_ENCODER_THREADS, else one), opens the library as the bot does, and runs `measure_growth`
there, both sides of the latency ratio (shipped article, a million passages) included. Options
come as JSON on stdin; the figures go back as JSON on stdout; progress and errors go to stderr,
which the child shares with the benchmark.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from embeddings import ArticleError, IndexedLibrary, Settings, prepare_process, read_environment
from embeddings.cli import run_command
from embeddings.settings import PROJECT_ROOT

from .cold import child_environment
from .core import QUESTIONS, xquad_articles
from .growth import measure_growth
from .options import BenchmarkError, BenchOptions
from .report import Figure

_RUN_SECONDS = 3600.0  # the full step takes ~10 minutes on a loaded machine; far more is a hang


def growth_command() -> list[str]:
    """The child process run by `measure_growth_apart`."""
    return [sys.executable, "-m", "benchmarks.growth_process"]


def measure_growth_apart(served: Settings, options: BenchOptions) -> list[Figure]:
    """The growth step's figures, measured in a fresh process on the served settings."""
    request = json.dumps(options_to_json(options))
    try:
        run = subprocess.run(
            growth_command(),
            cwd=PROJECT_ROOT,
            env=child_environment(served),
            input=request,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            timeout=_RUN_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkError(f"the growth step did not end within {_RUN_SECONDS:.0f} s") from exc
    if run.returncode != 0:
        raise BenchmarkError(f"the growth step's process failed (exit code {run.returncode}; its stderr is above)")
    return [_figure(item) for item in json.loads(run.stdout)]


def options_to_json(options: BenchOptions) -> dict[str, Any]:
    """The options as JSON values, for the child's stdin."""
    return {**dataclasses.asdict(options), "xquad": str(options.xquad)}


def options_from_json(data: dict[str, Any]) -> BenchOptions:
    """The options `options_to_json` gave."""
    return BenchOptions(**{**data, "xquad": Path(data["xquad"]), "dense_kinds": tuple(data["dense_kinds"])})


def _figure(data: dict[str, Any]) -> Figure:
    return Figure(**data)


def _run(settings: Settings, options: BenchOptions) -> int:
    print(f"bench: growth process: {settings.backend} backend, opening the served library…", file=sys.stderr)
    settings = dataclasses.replace(settings, encoder_threads=settings.server_encoder_threads)  # as `python -m bot`
    library = IndexedLibrary.open(settings, log=lambda _: None)
    small = library.engine
    if not small.articles:
        raise ArticleError(f"no articles in {settings.articles_dir}; the growth step asks about the shipped one")
    questions = QUESTIONS[:3] if options.quick else QUESTIONS
    figures = measure_growth(small, xquad_articles(options.xquad, options.build_paragraphs), options, questions)
    # which model the process served (the report's `backend` is the backends step's)
    served = [dataclasses.replace(f, raw={**f.raw, "model_backend": settings.backend}) for f in figures]
    print(json.dumps([dataclasses.asdict(f) for f in served], ensure_ascii=False))
    library.close()
    return 0


def main() -> int:
    """Read the options on stdin, measure, print the figures as JSON; returns the exit code."""
    prepare_process()
    options = options_from_json(json.loads(sys.stdin.read()))
    return run_command(lambda: _run(Settings.from_env(read_environment()), options))


if __name__ == "__main__":
    sys.exit(main())
