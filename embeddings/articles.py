"""Reading articles from disk: a `.txt` file of UTF-8 text, with an optional `.json`
sidecar of the same name holding its title, source, date added and (since the library
writes it) the text's checksum, which reading does not need. `library.py` writes them.

Also the shape of a stored article's text, shared by the library and extraction: one
paragraph per line (`one_paragraph_per_line`), and the title an article without one gets,
its first line cut at `TITLE_CHARS` (`first_line_title`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .errors import ArticleError
from .types import Article

ARTICLE_SUFFIX = ".txt"
SIDECAR_SUFFIX = ".json"
TITLE_CHARS = 80  # a title taken from the first line is cut there


def one_paragraph_per_line(text: str) -> str:
    """`text` with each line stripped, runs of spaces made one space, and blank lines dropped."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def first_line_title(text: str) -> str:
    """The title of an article that has none: its first non-blank line, cut at TITLE_CHARS."""
    return text.strip().split("\n", 1)[0][:TITLE_CHARS].strip()


def _read_metadata(path: Path) -> dict[str, str]:
    sidecar = path.with_suffix(SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArticleError(f"{sidecar} is not valid UTF-8 JSON ({exc}); fix or delete it") from exc
    if not isinstance(data, dict):
        raise ArticleError(f"{sidecar} must hold a JSON object with title, source and added")
    return {k: str(v) for k, v in data.items() if k in {"title", "source", "added"}}


def read_article(path: Path) -> Article:
    """One article from a text file; the title defaults to the file's first line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ArticleError(f"article file {path} does not exist; check the path") from exc
    except UnicodeDecodeError as exc:
        raise ArticleError(f"article file {path} is not UTF-8 text; convert it (e.g. iconv -t UTF-8)") from exc
    except OSError as exc:
        raise ArticleError(f"cannot read article file {path}: {exc.strerror}") from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ArticleError(f"article file {path} is empty; give it the article's text")
    meta = _read_metadata(path)
    return Article(
        id=path.name.removesuffix(ARTICLE_SUFFIX),
        title=meta.get("title") or first_line_title(text),
        source=meta.get("source") or path.name,
        text=text,
        added=meta.get("added", ""),
    )


def read_articles(paths: Iterable[Path]) -> list[Article]:
    """Articles from files, in the order given; duplicate ids are refused."""
    articles = [read_article(p) for p in paths]
    seen: dict[str, Article] = {}
    for article in articles:
        if article.id in seen:
            raise ArticleError(f"two article files are named {article.id}{ARTICLE_SUFFIX}; rename one of them")
        seen[article.id] = article
    return articles


def article_files(folder: Path) -> list[Path]:
    """The article files of a folder, sorted by name."""
    if not folder.is_dir():
        raise ArticleError(f"articles folder {folder} does not exist; create it or set SANAD_ARTICLES_DIR in .env")
    return sorted(folder.glob(f"*{ARTICLE_SUFFIX}"))
