"""The evaluation data of ../shared/eval (beside the project, as CI lays it out).

Tests that need it call `require_shared()` where they first read it, at import time: without
the folder their module is skipped with a message saying where the data belongs, instead of
breaking the collection of the whole suite.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"


def require_shared(name: str) -> Path:
    """The path of `../shared/eval/NAME`; skips the calling module when it is missing."""
    path = SHARED_EVAL / name
    if not path.is_file():
        pytest.skip(
            f"{path} is missing: put the shared/ folder beside the project (as CI does) to run these tests",
            allow_module_level=True,
        )
    return path


def read_jsonl(name: str) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file of ../shared/eval (skipping the module when it is missing)."""
    lines = require_shared(name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
