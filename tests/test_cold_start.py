"""A cold `python -m embeddings ask` loads only what answering needs: run for real in a fresh
process over a ready index, it answers without ever importing the page fetcher (httpx), the
article extractor (trafilatura, lxml), PostgreSQL (psycopg), or torch, transformers and
sentence-transformers (the default backend embeds the question with onnxruntime; onnx_encoder.py).
How long it takes is a benchmark (`cold_ask_s`), not a test."""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings import IndexedLibrary, Settings
from embeddings.model import Encoder

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTION = "ما الخطر الذي قال بوتين إنه لا يزال موجودا؟"
NOT_FOR_ASK = (
    "httpx",
    "trafilatura",
    "lxml",
    "psycopg",
    "psycopg_pool",
    "torch",
    "transformers",
    "sentence_transformers",
    "sklearn",
)

# Runs the CLI's own entry point in this process, then prints the top-level packages loaded.
_PROBE = """
import json, runpy, sys
sys.argv = ["embeddings", *json.loads(sys.argv[1])]
try:
    runpy.run_module("embeddings", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code
print(json.dumps({"exit": code, "modules": sorted({name.split(".")[0] for name in sys.modules})}))
"""


@pytest.fixture(scope="module")
def ready_index(real_encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the shipped article by the default backend, built beforehand (a cold `ask`
    only loads it)."""
    index_dir = tmp_path_factory.mktemp("cold") / "index"
    settings = Settings(index_dir=index_dir, model_cache=Settings().model_cache)
    IndexedLibrary.open(settings, encoder=real_encoder, log=logging.getLogger(__name__).info)
    return index_dir


def run_probe(
    index_dir: Path, *args: str, backend: str | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, object], list[str]]:
    """Run `python -m embeddings ARGS` in a fresh process (SANAD_BACKEND=`backend`, or unset: the
    default): the process, its answer (when it printed JSON) and the top-level packages it had
    loaded by the end."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONIOENCODING": "utf-8",
        "SANAD_INDEX_DIR": str(index_dir),
    }
    env.pop("SANAD_DATABASE_URL", None)
    env.pop("SANAD_BACKEND", None)
    if backend is not None:
        env["SANAD_BACKEND"] = backend
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
    )
    output, _, probe_line = done.stdout.rstrip().rpartition("\n")
    probe = json.loads(probe_line)
    answer = json.loads(output) if output.startswith("{") else {}
    return done, {"exit": probe["exit"], **answer}, probe["modules"]


def test_cold_ask_answers_without_the_fetcher_extractor_or_postgres(ready_index: Path) -> None:
    done, answer, modules = run_probe(ready_index, "ask", QUESTION, "--json")
    assert answer["exit"] == 0 and answer["kind"] == "answer", done.stderr
    assert "Rebuilding" not in done.stderr  # it loaded the index, as a cold start does
    assert "faiss" in modules  # the probe saw the command run
    assert [name for name in NOT_FOR_ASK if name in modules] == []


def test_the_probe_sees_what_a_command_imports(
    ready_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `add` of a URL (refused before any request: a private address) loads the fetcher, so
    # the empty list above means something.
    monkeypatch.setenv("SANAD_ARTICLES_DIR", str(tmp_path))
    done, result, modules = run_probe(ready_index, "add", "http://127.0.0.1:9/article")
    assert result["exit"] == 2 and "error:" in done.stderr
    assert "httpx" in modules


def test_the_probe_sees_torch_when_the_backend_is_torch(ready_index: Path, tmp_path: Path) -> None:
    # SANAD_BACKEND=torch answers through sentence-transformers (the index of the default
    # backend is rebuilt for it: another backend, other cosines), so the probe would see torch.
    index = tmp_path / "index"
    shutil.copytree(ready_index, index)
    done, answer, modules = run_probe(index, "ask", QUESTION, "--json", backend="torch")
    assert answer["exit"] == 0 and answer["kind"] == "answer", done.stderr
    assert "Rebuilding" in done.stderr
    assert {"torch", "sentence_transformers"} <= set(modules)


@pytest.mark.parametrize("package", ["embeddings", "embeddings.store", "embeddings.fetch"])
def test_every_exported_name_is_there_on_first_use(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert missing == [] and set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        module.NoSuchName  # noqa: B018 - the look-up is the test


@pytest.mark.parametrize(("setting", "threads"), [(None, 1), ("2", 2)])
def test_entry_points_run_numpy_blas_on_one_thread_unless_told(setting: str | None, threads: int) -> None:
    # numpy's products in the answer's features are small; OPENBLAS_NUM_THREADS still wins.
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("OPENBLAS_NUM_THREADS", None)
    if setting is not None:
        env["OPENBLAS_NUM_THREADS"] = setting
    probe = (
        "import json, numpy, threadpoolctl\n"
        "from embeddings import prepare_process\n"
        "prepare_process()\n"
        "print(json.dumps([i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas']))"
    )
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [threads]
