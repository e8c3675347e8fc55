"""What a benchmark run measures and how long it takes: the full run, or `quick` for CI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from embeddings import SanadError
from embeddings.dense_index import FLAT_MAX_PASSAGES
from embeddings.settings import PROJECT_ROOT

DEFAULT_XQUAD = PROJECT_ROOT.parent / "shared" / "eval" / "xquad.ar.json"
FULL_GROWTH = 1_000_000
QUICK_GROWTH = 20_000
# Waves of 30 chats the full run counts: one wave's share swings with the load (0.7-1.5 on
# this shared 2-core machine), so the median of 2 settled little; 6 cost ~10 s more.
FULL_WAVES = 6
# The quick run's 20,000 passages are below index.py's flat limit (50,000); it lowers the
# limit so that the large kind (IVF-PQ, re-ranked) is what it builds, saves and loads.
QUICK_FLAT_MAX = 10_000
# Dense index kinds measured beside the one index.py builds (always measured first): flat is
# exact search, the yardstick of the approximate kinds; hnsw an alternative index.py does not
# build. IVF is not here: it is index.py's own choice above its flat limit.
DENSE_KINDS = ("flat", "hnsw")


class BenchmarkError(SanadError):
    """A step of the benchmark cannot run (the bot would not start, a file is missing, ...)."""


@dataclass(frozen=True)
class BenchOptions:
    """What to run and how long: the full run, or `quick` for CI (small corpora, few repeats)."""

    quick: bool = False
    skip_growth: bool = False
    skip_bot: bool = False
    skip_replicas: bool = False
    growth_passages: int = FULL_GROWTH
    flat_max: int = FLAT_MAX_PASSAGES  # index.py's flat limit in the growth step
    dense_kinds: tuple[str, ...] = ("flat",)
    repeats: int = 3
    build_repeats: int = 2
    build_paragraphs: int | None = None  # None: every XQuAD-ar paragraph
    xquad: Path = DEFAULT_XQUAD
    waves: int = FULL_WAVES
    cold_runs: int = 5  # fresh `ask` processes timed (after one untimed)
    seed: int = 20250917

    def __post_init__(self) -> None:
        unknown = [k for k in self.dense_kinds if k not in DENSE_KINDS]
        if unknown:
            raise ValueError(
                f"dense index kinds {unknown} are not among {DENSE_KINDS} "
                "(index.py's own index, IVF above 50,000 passages, is always measured)"
            )
        if min(self.growth_passages, self.repeats, self.build_repeats, self.waves, self.cold_runs) < 1:
            raise ValueError("growth passages, repeats, build repeats, waves and cold runs must be at least 1")
