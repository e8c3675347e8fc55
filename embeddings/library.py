"""The article library: the articles folder, with adding, listing and removing.

Each article is two files in the folder, written atomically (a temporary file, then
`os.replace`; the text first, then its sidecar):

    <id>.txt    the text, one paragraph per line, UTF-8
    <id>.json   {"title", "source", "added", "checksum"}  (sha256 of the text)

Older sidecars without `checksum` (and texts without a sidecar) are read as before. New ids
are a short ASCII slug of the source URL, file name or title, plus the start of the text's
checksum (`reuters-putin-3f9a2c`), so they are readable, filename-safe and unique.

The same article is never stored twice: adding a text already present (same checksum once
spaces and line breaks are tidied) or a URL already present returns the stored article.
A `Library` does not lock: one writer at a time (the engine serialises its writes).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from .articles import (
    ARTICLE_SUFFIX,
    SIDECAR_SUFFIX,
    article_files,
    first_line_title,
    one_paragraph_per_line,
    read_article,
)
from .errors import ArticleError, ArticleNotFoundError
from .types import Article, text_checksum

LIST_HINT = "see the ids with: python -m embeddings list"
MAX_SLUG_CHARS = 40
HASH_CHARS = 6
_WORD = re.compile(r"[a-z0-9]+")
_PAGE_SUFFIXES = (".html", ".htm", ".php", ".aspx", ".asp", ".jsp", ".shtml")
_TEMP_SUFFIX = ".tmp"


def is_url(source: str) -> bool:
    """True for an http or https URL (the sources compared when looking for duplicates)."""
    return urlsplit(source.strip()).scheme.lower() in ("http", "https")


def url_key(url: str) -> str:
    """A URL as compared for duplicates: scheme and host lower case, no fragment, no final '/'."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"


def content_key(text: str) -> str:
    """The identity of an article's content for duplicates: the checksum of its tidied text."""
    return text_checksum(one_paragraph_per_line(text))


def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _WORD.findall(folded)


def _url_words(url: str) -> list[str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    words = [] if re.fullmatch(r"[0-9.:]+", host) or "." not in host else _ascii_words(host.split(".")[0])
    segments = [s for s in unquote(parts.path).split("/") if s]
    if segments:
        last = segments[-1]
        for suffix in _PAGE_SUFFIXES:
            last = last.removesuffix(suffix)
        words += _ascii_words(last)
    return words


def _slug(title: str, source: str) -> str:
    """A readable ASCII slug from the URL, else the file name, else the title; "article" if none."""
    candidates = [_url_words(source)] if is_url(source) else [_ascii_words(PurePosixPath(source).stem)]
    candidates.append(_ascii_words(title))
    words = next((w for w in candidates if w), ["article"])
    slug = ""
    for word in words:
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > MAX_SLUG_CHARS:
            break
        slug = longer
    return slug or words[0][:MAX_SLUG_CHARS]


def new_article_id(title: str, source: str, checksum: str, taken: set[str]) -> str:
    """A filename-safe id not in `taken`: slug, a dash, and the first hex digits of the checksum."""
    slug = _slug(title, source)
    for length in range(HASH_CHARS, len(checksum) + 1, 2):
        candidate = f"{slug}-{checksum[:length]}"
        if candidate not in taken:
            return candidate
    raise ArticleError(f"cannot find a free id for {slug!r}; remove an article ({LIST_HINT})")


def _write_atomic(path: Path, content: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class Library:
    """The articles of one folder: list them, add one, remove one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def list(self) -> list[Article]:
        """Every article, sorted by id; raises ArticleError if the folder does not exist.
        An article removed while the folder is read is left out, not an error."""
        articles = []
        for path in article_files(self.folder):
            try:
                articles.append(read_article(path))
            except ArticleError as exc:
                if not isinstance(exc.__cause__, FileNotFoundError):
                    raise
        return articles

    def get(self, article_id: str) -> Article:
        """The article with this id; ArticleNotFoundError names the command listing the ids."""
        for article in self.list() if self.folder.is_dir() else []:
            if article.id == article_id:
                return article
        raise ArticleNotFoundError(f"no article has the id {article_id!r} in {self.folder}; {LIST_HINT}")

    def find(self, *, text: str | None = None, source: str | None = None) -> Article | None:
        """The stored article with the same text (once tidied) or the same source URL, if any."""
        if not self.folder.is_dir():
            return None
        content = content_key(text) if text is not None else None
        url = url_key(source) if source is not None and is_url(source) else None
        for article in self.list():
            if content is not None and content_key(article.text) == content:
                return article
            if url is not None and is_url(article.source) and url_key(article.source) == url:
                return article
        return None

    def add(self, text: str, title: str, source: str) -> tuple[Article, bool]:
        """Store an article; returns (article, True), or (the stored one, False) for a duplicate."""
        text = one_paragraph_per_line(text)
        if not text:
            raise ArticleError(f"the article from {source or 'the input'} has no text; give it the article's text")
        existing = self.find(text=text, source=source)
        if existing is not None:
            return existing, False
        self.folder.mkdir(parents=True, exist_ok=True)
        checksum = text_checksum(text)
        taken = {p.name.removesuffix(ARTICLE_SUFFIX) for p in article_files(self.folder)}
        article_id = new_article_id(title, source, checksum, taken)
        title = " ".join(title.split()) or first_line_title(text)
        added = datetime.now(UTC).isoformat(timespec="seconds")
        sidecar = {"title": title, "source": source, "added": added, "checksum": checksum}
        path = self.folder / f"{article_id}{ARTICLE_SUFFIX}"
        try:
            _write_atomic(path, text)
            _write_atomic(path.with_suffix(SIDECAR_SUFFIX), json.dumps(sidecar, ensure_ascii=False, indent=2) + "\n")
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise ArticleError(f"cannot write the article to {self.folder}: {exc.strerror or exc}") from exc
        return Article(article_id, title, source, text, added), True

    def remove(self, article_id: str) -> Article:
        """Delete an article's files (the text first, then its sidecar); returns what was removed."""
        article = self.get(article_id)
        path = self.folder / f"{article.id}{ARTICLE_SUFFIX}"
        try:
            path.unlink()
            path.with_suffix(SIDECAR_SUFFIX).unlink(missing_ok=True)
        except OSError as exc:
            raise ArticleError(f"cannot delete {path}: {exc.strerror or exc}") from exc
        return article
