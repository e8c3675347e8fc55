"""Figures: what the benchmark prints, as lines to read and as one JSON object."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .options import BenchOptions


@dataclass(frozen=True)
class Figure:
    """One line of the report: a value, its target, and the raw numbers behind it."""

    key: str
    title: str
    value: float | None
    unit: str = ""
    target: float | None = None
    higher_is_better: bool = False
    detail: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, float] | None = None  # several values under the key (the JSON gives them, not `value`)

    @property
    def met(self) -> bool | None:
        """True/False against the target; None without a target or a value."""
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def line(self) -> str:
        """The figure as a person reads it."""
        if self.value is None:
            return f"{self.title:<18} skipped  {self.detail}".rstrip()
        value = f"{self.value:.2f}{self.unit}" if self.value < 100 else f"{self.value:.0f}{self.unit}"
        target = ""
        if self.target is not None:
            sign = "≥" if self.higher_is_better else "≤"
            target = f"  (target {sign} {self.target:g}{self.unit}: {'met' if self.met else 'MISSED'})"
        return f"{self.title:<18} {value}{target}\n{'':<19}{self.detail}"


def skipped(key: str, title: str, why: str) -> Figure:
    """A figure for a step that did not run."""
    return Figure(key, title, None, detail=f"({why})")


def report_lines(figures: Sequence[Figure], seconds: float) -> list[str]:
    """Every figure as a person reads it, then how long the run took and under what load."""
    return [
        *(f.line() for f in figures),
        f"({seconds:.0f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
    ]


def report_json(figures: Sequence[Figure], options: BenchOptions, seconds: float) -> dict[str, Any]:
    """One object: each figure's value under its key, then the raw numbers and the setup."""
    out: dict[str, Any] = {f.key: dict(f.values) if f.values is not None else f.value for f in figures}
    out["backend"] = next((f.raw["backend"] for f in figures if "backend" in f.raw), None)  # the served one
    out["raw"] = {f.key: dict(f.raw) for f in figures}
    out["targets"] = {f.key: f.target for f in figures if f.target is not None}
    out["met"] = {f.key: f.met for f in figures if f.target is not None}
    out["setup"] = {
        "quick": options.quick,
        "growth_passages": None if options.skip_growth else options.growth_passages,
        "growth_synthetic": True,
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "seconds": round(seconds, 1),
    }
    return out
