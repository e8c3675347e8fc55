"""The shared library in PostgreSQL: its articles, their passages and vectors, and the
changes that replicas follow (schema version 4, see `postgres.py`).

    library_articles      id, title, source, text, added, checksum, content_key, url_key
    library_spaces        space, model, dim, chunking: what a set of vectors was made with
    library_passages_<N>  article_id, position, paragraph, start, end, vector vector(dim)
    library_sentences_<N> article_id, passage, position, start, end, vector vector(dim)
    library_changes       seq, kind (add | remove), article_id, at

Vectors depend on the model and on how passages are cut, so each space (model, dimension,
chunking) has two tables of its own, typed `vector(dim)`, created the first time a process
uses the space; deleting an article deletes its rows in every space (foreign keys). A
passage's sentences are its spans, so they are stored once per passage, as in the index.

Every write (add, remove, import) takes LIBRARY_LOCK, an advisory lock held until commit,
before it takes its change number, then writes its rows and the change row and NOTIFYs
CHANNEL with the number. Since the lock comes before the number, changes commit in the order
of their numbers: a replica that applied every change up to n and reads those above n never
misses one that commits later. The lock also makes duplicate detection and new ids exact
across processes. A notification reaches only connections listening when it is committed;
a replica that was not listening catches up from `library_changes` (`changes_since`).

Vectors travel through pgvector's psycopg adapter (numpy arrays in, `Vector`s out, binary).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

from ..articles import first_line_title
from ..errors import ArticleNotFoundError
from ..index import SearchIndex
from ..library import content_key, is_url, new_article_id, url_key
from ..passages import Chunking
from ..settings import hide_passwords
from ..types import Article, Passage, Span, text_checksum
from .pg_pool import Conn, Pool, unreachable
from .pg_schema import migrate

CHANNEL = "sanad_library"
LIBRARY_LOCK = 0x53414E4142  # held by every write to the shared library until it commits
LIST_HINT = "see the ids with: python -m embeddings list"
ChangeKind = Literal["add", "remove"]
_ARTICLE = "id, title, source, text, added"


@dataclass(frozen=True)
class VectorSpace:
    """What a set of vectors was made with: the model (its name and dimension) and the
    chunking that cut the passages."""

    model: str
    dim: int
    chunking: Chunking

    def chunking_key(self) -> str:
        """The chunking as stored (a JSON object, keys sorted)."""
        return json.dumps(asdict(self.chunking), sort_keys=True)


@dataclass(frozen=True)
class ArticleVectors:
    """One article's passages (numbered from 0) with one vector per passage and one per
    sentence of each passage, passages in order."""

    passages: tuple[Passage, ...]
    vectors: np.ndarray  # (passages, dim)
    sentence_vectors: np.ndarray  # (sentences of all the passages, dim)

    @classmethod
    def of(cls, index: SearchIndex, article_id: str) -> ArticleVectors:
        """The vectors `index` holds for one of its articles."""
        own = [p for p in index.passages if p.article_id == article_id]
        return cls(
            tuple(replace(p, id=i) for i, p in enumerate(own)),
            index.article_vectors(article_id),
            index.article_sentence_vectors(article_id),
        )


@dataclass(frozen=True)
class Change:
    """One change of the shared library, by its number in the sequence."""

    seq: int
    kind: ChangeKind
    article_id: str
    at: float  # when it was committed, seconds since the epoch (the database's clock)


@dataclass(frozen=True)
class LibraryRows:
    """Articles as one snapshot of the database saw them (by id), the vectors of those that
    have them in one space, and the number of the last change that snapshot holds."""

    seq: int
    articles: tuple[Article, ...]
    vectors: Mapping[str, ArticleVectors]


def vectors_by_article(index: SearchIndex, articles: Sequence[Article]) -> dict[str, ArticleVectors]:
    """What `index` holds for each of `articles`, by id."""
    return {a.id: ArticleVectors.of(index, a.id) for a in articles}


def _configure(conn: Conn) -> None:
    register_vector(conn)  # autocommit: its type look-ups leave no transaction open


class PostgresLibraryStore:
    """The shared library's rows in a PostgreSQL database (SANAD_DATABASE_URL), brought to
    the current schema on open. Thread-safe; many processes may share the database."""

    def __init__(self, url: str, *, max_connections: int = 4, connect_timeout: float = 10.0) -> None:
        self.url = url  # for the listener's own connection; holds the password: never shown
        self.shown_url = hide_passwords(url)
        try:
            # Migrate first, on a connection of its own: the pool's connections need the
            # pgvector type, which a new database gets from the migration.
            with psycopg.connect(url, connect_timeout=max(1, round(connect_timeout))) as conn, conn.transaction():
                self.migrated_from = migrate(conn, self.shown_url)
        except psycopg.OperationalError as exc:
            raise unreachable(self.shown_url, connect_timeout) from exc
        self._pool = Pool(
            url,
            name="sanad-library",
            max_connections=max_connections,
            connect_timeout=connect_timeout,
            configure=_configure,
        )
        self._spaces: dict[VectorSpace, int] = {}
        self._spaces_lock = threading.Lock()

    def close(self) -> None:
        """Close the pool and its connections."""
        self._pool.close()

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """A connection of the pool (vectors adapted) inside one transaction (DatabaseError when
        the database fails)."""
        with self._pool.transaction() as conn:
            yield conn

    @contextmanager
    def _snapshot(self) -> Iterator[Conn]:
        """A read-only transaction that sees one state of the database throughout."""
        with self.transaction() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn

    # --- spaces ------------------------------------------------------------------------------

    def space(self, space: VectorSpace) -> int:
        """The number of a vector space, registered (with its two tables) on first use."""
        with self._spaces_lock:
            known = self._spaces.get(space)
            if known is not None:
                return known
            with self.transaction() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIBRARY_LOCK,))
                key = (space.model, space.dim, space.chunking_key())
                row = conn.execute(
                    "SELECT space FROM library_spaces WHERE model = %s AND dim = %s AND chunking = %s", key
                ).fetchone()
                if row is None:
                    row = conn.execute(
                        "INSERT INTO library_spaces (model, dim, chunking) VALUES (%s, %s, %s) RETURNING space", key
                    ).fetchone()
                number = int(cast(tuple[Any, ...], row)[0])
                for statement in _space_tables(number, space.dim):
                    conn.execute(statement)
            self._spaces[space] = number
            return number

    # --- reading -----------------------------------------------------------------------------

    def list(self) -> list[Article]:
        """Every article, by id."""
        with self.transaction() as conn:
            return _articles(conn, None)

    def get(self, article_id: str) -> Article:
        """The article with this id; ArticleNotFoundError names the command listing the ids."""
        with self.transaction() as conn:
            found = _articles(conn, [article_id])
        if not found:
            raise ArticleNotFoundError(f"no article has the id {article_id!r} in the shared library; {LIST_HINT}")
        return found[0]

    def find(self, *, text: str | None = None, source: str | None = None) -> Article | None:
        """The stored article with the same text (once tidied) or the same source URL, if any."""
        with self.transaction() as conn:
            return _find(conn, text, source)

    def head(self) -> int:
        """The number of the last change (0: none yet)."""
        with self.transaction() as conn:
            return _head(conn)

    def state(self, space: int) -> LibraryRows:
        """Every article, with its vectors in `space` where it has them, as of one moment."""
        with self._snapshot() as conn:
            seq = _head(conn)
            return LibraryRows(seq, tuple(_articles(conn, None)), _vectors(conn, space, None))

    def changes_since(self, seq: int, space: int) -> tuple[tuple[Change, ...], LibraryRows]:
        """The changes after number `seq`, in order, and, as of the last of them, the
        articles they touch that still exist (with their vectors in `space`)."""
        with self._snapshot() as conn:
            rows = conn.execute(
                "SELECT seq, kind, article_id, extract(epoch FROM at) FROM library_changes WHERE seq > %s ORDER BY seq",
                (seq,),
            ).fetchall()
            changes = tuple(Change(int(n), cast(ChangeKind, k), str(a), float(at)) for n, k, a, at in rows)
            if not changes:
                return (), LibraryRows(seq, (), {})
            ids = sorted({c.article_id for c in changes})
            return changes, LibraryRows(changes[-1].seq, tuple(_articles(conn, ids)), _vectors(conn, space, ids))

    # --- writing -----------------------------------------------------------------------------

    def add(self, text: str, title: str, source: str, vectors: ArticleVectors, space: int) -> tuple[Article, bool]:
        """Store an article (its text already one paragraph per line) with its vectors, as one
        change; returns (article, True), or (the stored one, False) for a duplicate."""
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIBRARY_LOCK,))
            existing = _find(conn, text, source)
            if existing is not None:
                return existing, False
            taken = {str(i) for (i,) in conn.execute("SELECT id FROM library_articles")}
            article_id = new_article_id(title, source, text_checksum(text), taken)
            title = " ".join(title.split()) or first_line_title(text)
            article = Article(article_id, title, source, text, datetime.now(UTC).isoformat(timespec="seconds"))
            _insert(conn, article, vectors, space)
        return article, True

    def import_articles(self, conn: Conn, items: Sequence[tuple[Article, ArticleVectors]], space: int) -> None:
        """Store articles as they are (ids, dates) with their vectors, one change each, in the
        caller's transaction (`db import`)."""
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIBRARY_LOCK,))
        for article, vectors in items:
            _insert(conn, article, vectors, space)

    def remove(self, article_id: str) -> Article:
        """Delete an article and its vectors, as one change; returns it."""
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIBRARY_LOCK,))
            row = conn.execute(f"DELETE FROM library_articles WHERE id = %s RETURNING {_ARTICLE}", (article_id,))
            found = row.fetchone()
            if found is None:
                raise ArticleNotFoundError(f"no article has the id {article_id!r} in the shared library; {LIST_HINT}")
            _change(conn, "remove", article_id)
        return _article(found)

    def put_vectors(self, space: int, article: Article, vectors: ArticleVectors) -> bool:
        """Store the vectors of an article embedded by a replica of another model (no change:
        the library is the same); False when the article is gone or changed meanwhile."""
        with self.transaction() as conn:
            held = conn.execute(
                "SELECT 1 FROM library_articles WHERE id = %s AND checksum = %s FOR SHARE",
                (article.id, article.checksum),
            ).fetchone()
            if held is None:
                return False
            _write_vectors(conn, space, article.id, vectors, skip_existing=True)
        return True


def _space_tables(space: int, dim: int) -> tuple[sql.Composed, ...]:
    passages, sentences = _tables(space)
    return (
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            "article_id text NOT NULL REFERENCES library_articles (id) ON DELETE CASCADE, "
            'position integer NOT NULL, paragraph integer NOT NULL, start integer NOT NULL, "end" integer NOT NULL, '
            "vector vector({}) NOT NULL, PRIMARY KEY (article_id, position))"
        ).format(passages, sql.Literal(dim)),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            "article_id text NOT NULL, passage integer NOT NULL, position integer NOT NULL, start integer NOT NULL, "
            '"end" integer NOT NULL, vector vector({}) NOT NULL, PRIMARY KEY (article_id, passage, position), '
            "FOREIGN KEY (article_id, passage) REFERENCES {} (article_id, position) ON DELETE CASCADE)"
        ).format(sentences, sql.Literal(dim), passages),
    )


def _tables(space: int) -> tuple[sql.Identifier, sql.Identifier]:
    return sql.Identifier(f"library_passages_{space}"), sql.Identifier(f"library_sentences_{space}")


def _head(conn: Conn) -> int:
    row = conn.execute("SELECT coalesce(max(seq), 0) FROM library_changes").fetchone()
    return int(cast(tuple[Any, ...], row)[0])


def _article(row: Sequence[Any]) -> Article:
    article_id, title, source, text, added = row
    return Article(str(article_id), str(title), str(source), str(text), str(added))


def _articles(conn: Conn, ids: Sequence[str] | None) -> list[Article]:
    if ids is None:
        rows = conn.execute(f"SELECT {_ARTICLE} FROM library_articles ORDER BY id").fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_ARTICLE} FROM library_articles WHERE id = ANY(%s) ORDER BY id", (list(ids),)
        ).fetchall()
    return [_article(row) for row in rows]


def _find(conn: Conn, text: str | None, source: str | None) -> Article | None:
    content = content_key(text) if text is not None else None
    url = url_key(source) if source is not None and is_url(source) else None
    if content is None and url is None:
        return None
    row = conn.execute(
        f"SELECT {_ARTICLE} FROM library_articles WHERE content_key = %s OR url_key = %s ORDER BY id LIMIT 1",
        (content, url),
    ).fetchone()
    return _article(row) if row is not None else None


def _insert(conn: Conn, article: Article, vectors: ArticleVectors, space: int) -> None:
    url = url_key(article.source) if is_url(article.source) else None
    conn.execute(
        f"INSERT INTO library_articles ({_ARTICLE}, checksum, content_key, url_key) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (article.id, article.title, article.source, article.text, article.added, article.checksum,
         content_key(article.text), url),
    )  # fmt: skip
    _write_vectors(conn, space, article.id, vectors, skip_existing=False)
    _change(conn, "add", article.id)


def _change(conn: Conn, kind: ChangeKind, article_id: str) -> int:
    """Record a change (the caller holds LIBRARY_LOCK) and notify at commit; its number."""
    row = conn.execute(
        "INSERT INTO library_changes (kind, article_id) VALUES (%s, %s) RETURNING seq", (kind, article_id)
    ).fetchone()
    seq = int(cast(tuple[Any, ...], row)[0])
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(seq)))
    return seq


def _write_vectors(conn: Conn, space: int, article_id: str, vectors: ArticleVectors, *, skip_existing: bool) -> None:
    passages, sentences = _tables(space)
    conflict = sql.SQL(" ON CONFLICT DO NOTHING" if skip_existing else "")
    rows = np.cumsum([0] + [len(p.sentences) for p in vectors.passages])
    with conn.cursor() as cursor:
        cursor.executemany(
            sql.SQL('INSERT INTO {} (article_id, position, paragraph, start, "end", vector) '
                    "VALUES (%s, %s, %s, %s, %s, %b){}").format(passages, conflict),
            [(article_id, i, p.paragraph, p.start, p.end, vectors.vectors[i]) for i, p in enumerate(vectors.passages)],
        )  # fmt: skip
        cursor.executemany(
            sql.SQL('INSERT INTO {} (article_id, passage, position, start, "end", vector) '
                    "VALUES (%s, %s, %s, %s, %s, %b){}").format(sentences, conflict),
            [
                (article_id, i, j, span.start, span.end, vectors.sentence_vectors[rows[i] + j])
                for i, p in enumerate(vectors.passages)
                for j, span in enumerate(p.sentences)
            ],
        )  # fmt: skip


def _vectors(conn: Conn, space: int, ids: Sequence[str] | None) -> dict[str, ArticleVectors]:
    """The vectors in `space` of the articles `ids` (None: of all), by article."""
    passages_table, sentences_table = _tables(space)
    where = sql.SQL("WHERE article_id = ANY(%s) " if ids is not None else "")
    params = (list(ids),) if ids is not None else ()
    with conn.cursor(binary=True) as cursor:
        cursor.execute(
            sql.SQL(
                'SELECT article_id, paragraph, start, "end", vector FROM {} {}ORDER BY article_id, position'
            ).format(passages_table, where),
            params,
        )
        passage_rows = cursor.fetchall()
        cursor.execute(
            sql.SQL(
                'SELECT article_id, passage, start, "end", vector FROM {} {}ORDER BY article_id, passage, position'
            ).format(sentences_table, where),
            params,
        )
        sentence_rows = cursor.fetchall()
    sentences: dict[tuple[str, int], list[tuple[Span, np.ndarray]]] = {}
    for article_id, passage, start, end, vector in sentence_rows:
        sentences.setdefault((article_id, passage), []).append((Span(start, end), vector.to_numpy()))
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for row in passage_rows:
        grouped.setdefault(row[0], []).append(row)
    return {article_id: _assemble(article_id, rows, sentences) for article_id, rows in grouped.items()}


def _assemble(
    article_id: str, rows: list[tuple[Any, ...]], sentences: Mapping[tuple[str, int], list[tuple[Span, np.ndarray]]]
) -> ArticleVectors:
    """An article's passages, their vectors and their sentences' vectors from its rows."""
    passages: list[Passage] = []
    passage_vectors: list[np.ndarray] = []
    sentence_vectors: list[np.ndarray] = []
    for i, (_, paragraph, start, end, vector) in enumerate(rows):
        own = sentences.get((article_id, i), [])
        passages.append(Passage(i, article_id, int(paragraph), int(start), int(end), tuple(s for s, _ in own)))
        passage_vectors.append(vector.to_numpy())
        sentence_vectors.extend(v for _, v in own)
    dim = len(passage_vectors[0])
    stacked = np.stack(sentence_vectors) if sentence_vectors else np.zeros((0, dim), dtype=np.float32)
    return ArticleVectors(tuple(passages), np.stack(passage_vectors), stacked)
