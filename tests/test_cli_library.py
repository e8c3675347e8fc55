"""`python -m embeddings add | list | remove | build` on a temporary library, pages from a real
HTTP server on 127.0.0.1, and a fake encoder in place of the model (it records what it embeds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_encoder import FakeEncoder

from embeddings.cli import main
from embeddings.library import Library
from tests.fetch_server import PARAGRAPHS, TITLE, FetchTestServer
from tests.test_library import SATELLITE, SEED_ID, copy_seed

PROJECT_ROOT = Path(__file__).resolve().parents[1]
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def encoder(monkeypatch: pytest.MonkeyPatch) -> FakeEncoder:
    """The fake encoder every command of the test gets instead of the model."""
    fake = FakeEncoder()
    monkeypatch.setattr("embeddings.indexed_library.load_encoder", lambda model, cache, backend, threads=None: fake)
    monkeypatch.setattr("embeddings.cli.load_encoder", lambda model, cache, backend, threads=None: fake)
    return fake


@pytest.fixture
def library_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder: FakeEncoder) -> Path:
    """A library holding the seed article, its index folder empty; no .env, no SANAD_* from outside."""
    for name in [n for n in os.environ if n.startswith("SANAD_")]:
        monkeypatch.delenv(name)
    folder = copy_seed(tmp_path / "articles")
    monkeypatch.setenv("SANAD_ARTICLES_DIR", str(folder))
    monkeypatch.setenv("SANAD_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.fixture
def run(library_dir: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the command line in-process: (exit code, stdout, stderr)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def error_line(err: str) -> str:
    """The one `error:` line of stderr (progress lines may come before it)."""
    [line] = [line for line in err.splitlines() if line.startswith("error: ")]
    assert err.rstrip().endswith(line)
    return line


def ids(library_dir: Path) -> list[str]:
    return [a.id for a in Library(library_dir).list()]


# --- add ---------------------------------------------------------------------------------------


def test_add_a_file_prints_its_id_and_title(run: Run, library_dir: Path) -> None:
    code, out, _ = run("add", str(SATELLITE))
    [article] = [a for a in Library(library_dir).list() if a.id != SEED_ID]
    assert code == 0 and out == f"added {article.id}: {article.title}\n"
    assert article.id.startswith("weather-satellite-ar-") and article.title.startswith("وكالة الفضاء الوطنية")
    assert article.source == SATELLITE.name


def test_add_with_a_title(run: Run, library_dir: Path) -> None:
    code, out, _ = run("add", str(SATELLITE), "--title", "Weather satellite launched")
    [article] = [a for a in Library(library_dir).list() if a.id != SEED_ID]
    assert code == 0 and article.title == "Weather satellite launched"
    assert out == f"added {article.id}: Weather satellite launched\n"


def test_same_text_twice_is_already_present(run: Run, library_dir: Path, tmp_path: Path) -> None:
    run("add", str(SATELLITE))
    copy = tmp_path / "copy.md"
    copy.write_bytes(SATELLITE.read_bytes().replace(b"\n", b"\r\n\r\n"))
    code, out, _ = run("add", str(copy))
    [added] = [i for i in ids(library_dir) if i != SEED_ID]
    assert code == 0 and out.startswith(f"already present: {added} (")
    assert len(ids(library_dir)) == 2


def test_add_embeds_only_the_new_article(
    run: Run, encoder: FakeEncoder, pages: FetchTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("add", str(SATELLITE))  # the first command builds the seed's index, then adds
    encoder.passage_calls.clear()
    monkeypatch.setenv("SANAD_ALLOW_PRIVATE_URLS", "true")
    code, _, _ = run("add", f"{pages.base_url}/article")
    assert code == 0 and encoder.embedded == [TITLE, *PARAGRAPHS]  # the h1, then the paragraphs


def test_private_address_refused_unless_allowed(
    run: Run, library_dir: Path, pages: FetchTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{pages.base_url}/article"
    code, out, err = run("add", url)
    assert code == 2 and out == ""
    line = error_line(err)
    assert url in line and "loopback address" in line and "SANAD_ALLOW_PRIVATE_URLS=true" in line
    assert ids(library_dir) == [SEED_ID]
    monkeypatch.setenv("SANAD_ALLOW_PRIVATE_URLS", "true")
    code, out, _ = run("add", url)
    [article] = [a for a in Library(library_dir).list() if a.id != SEED_ID]
    assert code == 0 and out == f"added {article.id}: {article.title}\n" and article.source == url
    assert article.text == "\n".join([TITLE, *PARAGRAPHS])


def test_same_url_twice_is_already_present(
    run: Run, library_dir: Path, pages: FetchTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANAD_ALLOW_PRIVATE_URLS", "true")
    run("add", f"{pages.base_url}/article")
    [added] = [i for i in ids(library_dir) if i != SEED_ID]
    for url in (f"{pages.base_url}/article/", f"{pages.base_url}/chain/2"):  # the same URL; redirects to it
        code, out, _ = run("add", url)
        assert code == 0 and out.startswith(f"already present: {added} ("), url
    assert len(ids(library_dir)) == 2


@pytest.mark.parametrize(
    ("target", "env", "message"),
    [
        ("/pdf", {"SANAD_ALLOW_PRIVATE_URLS": "true"}, "it is application/pdf, and only HTML and plain-text pages"),
        ("/digits", {"SANAD_ALLOW_PRIVATE_URLS": "true"}, "are Arabic or Latin letters, and an article needs"),
        ("/busy", {"SANAD_ALLOW_PRIVATE_URLS": "true"}, "the server answered 503"),
        ("ftp://127.0.0.1/article.txt", {}, "only http and https URLs can be fetched, not ftp ones"),
        ("missing.txt", {}, "missing.txt is not a file; give a .txt, .md or .html file, or an http(s) URL"),
        ("report.pdf", {}, "only .txt, .md and .html files can be added, not a .pdf file"),
        ("/article", {"SANAD_ALLOW_PRIVATE_URLS": "maybe"}, "SANAD_ALLOW_PRIVATE_URLS='maybe' is neither true nor"),
    ],
    ids=["pdf-page", "not-text", "http-503", "ftp", "no-file", "pdf-file", "bad-setting"],
)
def test_add_refusals_exit_2_with_one_error_line(
    run: Run,
    library_dir: Path,
    pages: FetchTestServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    target: str,
    env: dict[str, str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n")
    code, out, err = run("add", pages.base_url + target if target.startswith("/") else target)
    assert code == 2 and out == ""
    assert message in error_line(err)
    assert ids(library_dir) == [SEED_ID]


def test_process_refuses_a_loopback_url_without_the_setting(tmp_path: Path, pages: FetchTestServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_")}
    env |= {
        "PYTHONPATH": str(PROJECT_ROOT),
        "SANAD_ARTICLES_DIR": str(copy_seed(tmp_path / "articles")),
        "SANAD_INDEX_DIR": str(tmp_path / "index"),
    }
    url = f"{pages.base_url}/article"
    result = subprocess.run(
        [sys.executable, "-m", "embeddings", "add", url],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    line = error_line(result.stderr)
    assert line.startswith(f"error: Refused {url}: its host 127.0.0.1 is a loopback address")
    assert "set SANAD_ALLOW_PRIVATE_URLS=true" in line and "Traceback" not in result.stderr
    assert not (tmp_path / "index").exists()  # refused before the model was loaded


# --- list, remove, build -----------------------------------------------------------------------


def test_list_prints_id_added_title_and_source(run: Run) -> None:
    run("add", str(SATELLITE))
    code, out, _ = run("list")
    rows = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and [row[0] for row in rows] == sorted(row[0] for row in rows) and len(rows) == 2
    seed = next(row for row in rows if row[0] == SEED_ID)
    assert seed[1] == "2026-11-28" and seed[2].startswith("بوتين") and seed[3].startswith("Sanad seed article")
    added = next(row for row in rows if row[0] != SEED_ID)
    assert added[1].startswith("20") and added[3] == SATELLITE.name


def test_list_json(run: Run, library_dir: Path) -> None:
    code, out, _ = run("list", "--json")
    [seed] = json.loads(out)
    assert code == 0 and seed["id"] == SEED_ID and set(seed) == {"id", "title", "source", "added", "checksum"}
    assert seed["checksum"] == Library(library_dir).get(SEED_ID).checksum


def test_remove_then_the_article_is_gone(run: Run, library_dir: Path, encoder: FakeEncoder) -> None:
    run("add", str(SATELLITE))
    [added] = [a for a in Library(library_dir).list() if a.id != SEED_ID]
    encoder.passage_calls.clear()
    code, out, _ = run("remove", added.id)
    assert code == 0 and out == f"removed {added.id}: {added.title}\n"
    assert ids(library_dir) == [SEED_ID] and encoder.passage_calls == []
    code, out, err = run("remove", added.id)
    assert code == 2 and f"no article has the id '{added.id}'" in error_line(err)
    assert "see the ids with: python -m embeddings list" in err


def test_build_rebuilds_everything_from_the_stored_articles(run: Run, encoder: FakeEncoder) -> None:
    run("add", str(SATELLITE))
    encoder.passage_calls.clear()
    code, out, _ = run("build")
    assert code == 0 and out.startswith("Built the index: ") and "from 2 article(s)" in out
    seed_and_new = len(encoder.embedded)
    code, out, _ = run("ask", "كم يزن القمر الصناعي؟", "--json")
    assert code == 0 and encoder.embedded[seed_and_new:] == []  # ask finds the built index fresh
    assert json.loads(out)["question"] == "كم يزن القمر الصناعي؟"
