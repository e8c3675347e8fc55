"""Cold start: `python -m embeddings ask QUESTION` in a fresh process, start to exit.

The one absolute figure of the benchmark (the issue's target is seconds a user waits, not a
ratio): the median wall time of a few fresh processes over the index the run built (the
shipped article), after one untimed run that leaves the files in the OS page cache — a
cold process, not a cold disk. Beside it, the median CPU seconds of the same processes
(what a loaded machine does not inflate as much), the peak RSS, and, from one more run under
`python -X importtime`, the import seconds of the top-level packages.
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from embeddings import EXAMPLE_QUESTION, Settings
from embeddings.settings import PROJECT_ROOT

from .measure import rss_mb
from .options import BenchmarkError
from .report import Figure

COLD_ASK_TARGET_S = 3.0
_KINDS = ("Answer:", "Closest:", "Not found:")
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")  # self, cumulative, depth, name
_RUN_SECONDS = 300.0  # a missing model is converted first (about 20 s); far more is a hang


@dataclass(frozen=True)
class ColdRun:
    """One fresh `ask` process: wall and CPU seconds, peak RSS, what it wrote on stderr."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stderr: str


def ask_command(question: str = EXAMPLE_QUESTION) -> list[str]:
    """The command measured, as a user types it (`.venv/bin/python -m embeddings ask ...`)."""
    return [sys.executable, "-m", "embeddings", "ask", question]


def _environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),
            "PYTHONIOENCODING": "utf-8",
            "SANAD_ARTICLES_DIR": str(settings.articles_dir),
            "SANAD_INDEX_DIR": str(settings.index_dir),
            "SANAD_MODEL_CACHE": str(settings.model_cache),
            "EMBEDDING_MODEL": settings.model,
            "SANAD_BACKEND": settings.backend,
        }
    )
    env.pop("SANAD_DATABASE_URL", None)  # the folder library whose index the run built, as the other steps
    return env


def run_cold(settings: Settings, *python_flags: str) -> ColdRun:
    """Run the command once in a fresh process; raise when it does not answer from the index
    as it is (a rebuild inside the timed process would measure something else)."""
    command = ask_command()
    command[1:1] = list(python_flags)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=_environment(settings), stdout=out, stderr=err)
        status, cpu, peak = _wait(process, started + _RUN_SECONDS)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if status != 0 or not stdout.startswith(_KINDS):
        raise BenchmarkError(f"the cold ask failed (exit code {status}): {stderr[-1500:]}")
    if "Rebuilding the index" in stderr:
        raise BenchmarkError(f"the cold ask rebuilt the index in {settings.index_dir}: {stderr[-500:]}")
    return ColdRun(wall, cpu, peak, stderr)


def _wait(process: subprocess.Popen[bytes], deadline: float) -> tuple[int, float, float]:
    """The child's exit code, CPU seconds (`wait4`; `Popen.wait` does not give them) and peak
    RSS in MB, read from /proc while it runs (`wait4`'s peak would count the benchmark's own
    memory, which the child shares between fork and exec); killed past the deadline."""
    peak = 0.0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage.ru_utime + usage.ru_stime, peak
        with contextlib.suppress(OSError):  # between its exit and reaping it
            peak = max(peak, rss_mb(process.pid).get("VmHWM", 0.0))
        if time.perf_counter() > deadline:
            process.kill()
            process.wait()
            raise BenchmarkError(f"the cold ask did not end within {_RUN_SECONDS:.0f} s")
        time.sleep(0.005)


def import_seconds(importtime_log: str, top: int = 8) -> dict[str, float]:
    """From a `python -X importtime` log: `total` seconds of imports, then the `top` top-level
    packages by the self time of all their modules."""
    total, by_package = 0.0, dict[str, float]()
    for line in importtime_log.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        self_s, cumulative_s = int(match[1]) / 1e6, int(match[2]) / 1e6
        if not match[3]:  # imported by no other module: its cumulative time counts once
            total += cumulative_s
        package = match[4].split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + self_s
    largest = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    return {"total": round(total, 3), **{name: round(seconds, 3) for name, seconds in largest}}


def measure_cold_ask(settings: Settings, runs: int) -> Figure:
    """Median wall seconds of `runs` fresh `ask` processes (after one untimed), with CPU
    seconds, peak RSS and the import breakdown beside it."""
    run_cold(settings)  # untimed: the model and index files into the page cache
    measured = [run_cold(settings) for _ in range(runs)]
    imports = import_seconds(run_cold(settings, "-X", "importtime").stderr)
    wall = statistics.median(r.wall_s for r in measured)
    cpu = statistics.median(r.cpu_s for r in measured)
    peak = max(r.peak_rss_mb for r in measured)
    heaviest = ", ".join(f"{name} {seconds:.2f}" for name, seconds in list(imports.items())[1:4])
    return Figure(
        "cold_ask_s",
        "cold ask",
        wall,
        " s",
        COLD_ASK_TARGET_S,
        detail=f"`python -m embeddings ask` ({settings.backend}) in a fresh process, median of {runs}: "
        f"CPU {cpu:.2f} s, peak RSS {peak:.0f} MB; imports {imports['total']:.2f} s ({heaviest} s); "
        f"load average {os.getloadavg()[0]:.1f}",
        raw={
            "runs_s": [round(r.wall_s, 3) for r in measured],
            "cpu_s": round(cpu, 3),
            "peak_rss_mb": round(peak, 1),
            "import_s": imports,
            "command": " ".join(["python", *ask_command()[1:]]),
        },
    )
