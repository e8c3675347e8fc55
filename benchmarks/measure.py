"""The measuring itself: interleaved timings, the bare-encode floor, and RSS read from /proc."""

from __future__ import annotations

import os
import socket
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from embeddings.model import Encoder, SentenceTransformerEncoder


def median_ms(samples: Sequence[float]) -> float:
    """The median of samples in seconds, in milliseconds."""
    return statistics.median(samples) * 1000.0


def interleaved(
    calls: Mapping[str, Callable[[str], object]], items: Sequence[str], repeats: int
) -> dict[str, list[float]]:
    """Seconds per call of each function on each item, alternating which goes first, after one
    untimed warm-up round; both sides of a ratio thus see the same machine load."""
    for item in items:
        for call in calls.values():
            call(item)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for round_number in range(repeats):
        for item in items:
            order = list(calls.items())
            for name, call in order if round_number % 2 == 0 else reversed(order):
                start = time.perf_counter()
                call(item)
                samples[name].append(time.perf_counter() - start)
    return samples


def real_model(encoder: Encoder) -> SentenceTransformerEncoder:
    """The sentence-transformers encoder itself: the benchmarks measure the real model only."""
    if not isinstance(encoder, SentenceTransformerEncoder):
        raise TypeError(f"the benchmarks need the real model, not {type(encoder).__name__}")
    return encoder


def bare_encode(encoder: Encoder, kind: str) -> Callable[[Sequence[str]], object]:
    """The floor: sentence-transformers' own `encode` with its defaults (batches of 32) and the
    model's prompt for `kind` ("query" or "passage"), nothing of Sanad around it. It stays put
    when Sanad's settings change, so a ratio below 1 is a real gain over the plain call."""
    real = real_model(encoder)
    prompt = real.query_prompt if kind == "query" else real.passage_prompt
    return lambda texts: real.model.encode(list(texts), prompt_name=prompt)


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024.0
    return values


def reset_peak_rss() -> bool:
    """Start a new peak-RSS measurement for this process (Linux `clear_refs` 5); False where
    the kernel does not allow it, so that the report can say what its peak counts."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14, 15


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now (a child process binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mapped_mb(folder: Path) -> dict[str, float]:
    """Resident MB of this process's mappings of the files under `folder`, by the first part
    of their path there (e.g. "bm25", "vectors.npy"): what a mapped index holds in memory."""
    out: dict[str, float] = {}
    current: str | None = None
    root = str(folder.resolve())
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and not fields[0].endswith(":"):  # a mapping's header line: range, perms, ..., path
            path = fields[5] if len(fields) >= 6 else ""
            current = Path(path).relative_to(root).parts[0] if path.startswith(root + "/") else None
        elif current is not None and fields and fields[0] == "Rss:":
            out[current] = out.get(current, 0.0) + int(fields[1]) / 1024.0
    return {k: round(v, 1) for k, v in sorted(out.items())}
