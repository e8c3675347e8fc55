"""A replica of the shared library held in PostgreSQL (SANAD_DATABASE_URL).

The database is the system of record (`store/shared_library.py`); each process keeps its own
FAISS + BM25 index in memory, so answering reads no database. At start the index is built
from the vectors in the database, embedding nothing (only articles that have no vectors of
this process's model yet are embedded, once, and their vectors stored for the others).

An add or remove on any process commits the rows and a change row, then NOTIFYs. Every
replica follows (`start_sync`: a `ChangeListener` thread) and applies the changes after the
last one it applied, in their order, reading the vectors from the database: a replica that
missed notifications (reconnected, or started late) catches up from that number. The
writer applies its own change the same way before `add_article` returns. Applying builds a new
index of the articles, the vectors of those it held lent by the old one and those of the
changed ones read from the database; bm25s cannot add or remove a document, so BM25 is built
again, from terms remembered per passage (`RememberingAnalyzer`): only the new passages are
analysed.

A replica that loses the database keeps answering from memory; its listener reconnects
(backing off to 5 s) and catches up; adds and removes fail until the database is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .articles import one_paragraph_per_line
from .collection import Collection
from .engine import Engine, RetrievalConfig
from .errors import ArticleError
from .index import IndexKey, SearchIndex, build_index, lending_index
from .indexed_library import IndexedLibrary, Log, new_engine, open_model
from .lexical import Analyzer, RememberingAnalyzer
from .listener import ChangeListener
from .model import Encoder
from .passages import build_passages
from .settings import Settings
from .store.shared_library import (
    CHANNEL,
    ArticleVectors,
    LibraryRows,
    PostgresLibraryStore,
    VectorSpace,
    vectors_by_article,
)
from .types import Article, Passage

DRAFT_ID = "draft"  # an article's id while it is embedded, before the database gives it its own

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncStatus:
    """How far a replica follows the shared library (what /metrics shows)."""

    applied_seq: int  # the last change this replica's index holds
    latest_seq: int  # the highest change number it has heard of (notifications, reads)
    changes_applied: int  # changes applied since it opened
    notifications: int  # notifications received
    reconnects: int  # times its listener connected again after losing the connection
    listening: bool  # its listener is connected and listening now
    last_delay_seconds: float | None  # from the commit of the last change applied to its applying here

    @property
    def lag(self) -> int:
        """Changes heard of and not applied yet."""
        return max(0, self.latest_seq - self.applied_seq)


class ReplicatedLibrary(IndexedLibrary):
    """The shared library in PostgreSQL with its index in memory. Thread-safe."""

    def __init__(
        self,
        store: PostgresLibraryStore,
        engine: Engine,
        space: VectorSpace,
        applied_seq: int,
        *,
        log: Log | None = None,
    ) -> None:
        super().__init__(engine)
        self.store = store
        self.space = space
        self._space_id = store.space(space)
        self._log = log or logger.info
        self._applied = self._latest = applied_seq
        self._changes_applied = 0
        self._last_delay: float | None = None
        self._apply_lock = threading.Lock()
        self._listener: ChangeListener | None = None
        self._passage_terms = RememberingAnalyzer()  # the BM25 terms of the library's passages

    @classmethod
    def open_database(
        cls,
        settings: Settings,
        *,
        log: Log | None = None,
        progress: bool = False,
        encoder: Encoder | None = None,
        config: RetrievalConfig | None = None,
    ) -> ReplicatedLibrary:
        """Open the shared library at `settings.database_url` (its schema brought up to date),
        load the model, and build the index from the database's vectors."""
        if settings.database_url is None:
            raise ValueError("open_database needs settings.database_url")
        log = log or logger.info
        config = config or RetrievalConfig()
        store = PostgresLibraryStore(settings.database_url)
        try:
            encoder = encoder or open_model(settings)
            analyzer = Analyzer()
            space = VectorSpace(encoder.name, encoder.dim, config.chunking)
            empty = Collection.build([], encoder, analyzer, config.chunking)
            library = cls(store, new_engine(settings, encoder, empty, config, analyzer), space, 0, log=log)
            rows = store.state(library._space_id)
            library._engine = library._engine.with_collection(library._collection(rows.articles, rows, progress))
            library._applied = library._latest = rows.seq
        except BaseException:
            store.close()
            raise
        log(f"Shared library loaded from {store.shown_url}: {len(rows.articles)} article(s), change {rows.seq}")
        return library

    # --- following ---------------------------------------------------------------------------

    def start_sync(self) -> None:
        """Start following the other processes' changes (a background thread); idempotent."""
        if self._listener is None:
            self._listener = ChangeListener(self.store.url, CHANNEL, self._wake)
            self._listener.start()

    def stop_sync(self) -> None:
        """Stop following (the thread ends; what was applied stays)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()

    def close(self) -> None:
        """Stop following and close the database connections."""
        self.stop_sync()
        self.store.close()

    def sync_status(self) -> SyncStatus:
        """How far this replica follows the shared library."""
        heard = self._listener.status() if self._listener is not None else None
        return SyncStatus(
            applied_seq=self._applied,
            latest_seq=max(self._latest, self._applied),
            changes_applied=self._changes_applied,
            notifications=heard.notifications if heard else 0,
            reconnects=heard.reconnects if heard else 0,
            listening=heard.listening if heard else False,
            last_delay_seconds=self._last_delay,
        )

    def listener_backend_pid(self) -> int | None:
        """The server process of the listening connection (None: not listening)."""
        return self._listener.status().backend_pid if self._listener is not None else None

    def _wake(self, seq: int | None) -> None:
        if seq is not None:
            self._latest = max(self._latest, seq)
            if seq <= self._applied:
                return  # applied already (our own change, or read in a catch-up)
        self.catch_up()

    def catch_up(self) -> int:
        """Apply the changes after the last one applied, in order; returns how many."""
        with self._apply_lock:
            changes, rows = self.store.changes_since(self._applied, self._space_id)
            if not changes:
                return 0
            current = dict(self._engine.collection.articles)
            present = {a.id: a for a in rows.articles}  # as of the last change read
            for change in changes:
                if change.kind == "remove":
                    current.pop(change.article_id, None)
                elif change.article_id in present:  # else removed by a later change of this batch
                    current[change.article_id] = present[change.article_id]
            articles = sorted(current.values(), key=lambda a: a.id)
            self._engine = self._engine.with_collection(self._collection(articles, rows))
            self._applied = rows.seq
            self._latest = max(self._latest, rows.seq)
            self._changes_applied += len(changes)
            # the database's clock against ours: a skew between the machines shows here too
            self._last_delay = max(0.0, time.time() - changes[-1].at)
            return len(changes)

    def _collection(self, articles: Sequence[Article], rows: LibraryRows, progress: bool = False) -> Collection:
        """`articles` indexed from the vectors this replica holds or `rows` brought; those in
        neither are embedded (another model wrote them) and their vectors stored."""
        lender = _lender(self.space, articles, rows.vectors)
        held = set(lender.key.articles) | set(self._engine.index.key.articles)
        missing = [a for a in articles if (a.id, a.checksum) not in held]
        lenders = [lender]
        if missing:
            self._log(f"Embedding {len(missing)} article(s) that have no vectors of {self.space.model} yet")
            fresh = build_index(missing, self._engine.encoder, self._engine.analyzer, self.space.chunking, progress)
            for article, vectors in zip(missing, vectors_by_article(fresh, missing).values(), strict=True):
                self.store.put_vectors(self._space_id, article, vectors)
            lenders.append(fresh)
        engine = self._engine
        built = Collection.build(
            articles,
            engine.encoder,
            self._passage_terms,  # the passages of the articles kept are not analysed again
            engine.config.chunking,
            previous=[engine.collection.index, *lenders],
            progress=progress,
        )
        self._passage_terms.keep_only(built.articles[p.article_id].text[p.start : p.end] for p in built.index.passages)
        return built

    # --- writing -----------------------------------------------------------------------------

    def add_article(self, text: str, title: str, source: str) -> tuple[Article, bool]:
        """Store an article in the database and index it (embedding only it, once), then
        apply the change here; returns (article, True), or (the stored one, False) when the
        library has it already. Slow (CPU): call it from a worker thread."""
        text = one_paragraph_per_line(text)
        if not text:
            raise ArticleError(f"the article from {source or 'the input'} has no text; give it the article's text")
        with self._write_lock:
            known = self.store.find(text=text, source=source)
            if known is not None:
                return known, False
            draft = Article(DRAFT_ID, title, source, text)
            index = self._engine.build([draft]).index
            article, added = self.store.add(text, title, source, ArticleVectors.of(index, DRAFT_ID), self._space_id)
        self.catch_up()
        return article, added

    def remove_article(self, article_id: str) -> Article:
        """Delete an article from the database (its vectors with it), then apply the change
        here; an unknown id raises ArticleNotFoundError."""
        with self._write_lock:
            article = self.store.remove(article_id)
        self.catch_up()
        return article

    def find_article(self, *, text: str | None = None, source: str | None = None) -> Article | None:
        """The stored article with the same text or source URL, if any."""
        return self.store.find(text=text, source=source)


def _lender(space: VectorSpace, articles: Sequence[Article], held: Mapping[str, ArticleVectors]) -> SearchIndex:
    """An index lending the stored vectors of those `articles` whose stored passages are the
    ones this code cuts (same offsets and sentences); the others are left to embed."""
    passages: list[Passage] = []
    vectors: list[np.ndarray] = []
    sentences: list[np.ndarray] = []
    keys: list[tuple[str, str]] = []
    for article in articles:
        found = held.get(article.id)
        if found is None or not _same_passages(found, article, space):
            continue
        for passage in found.passages:
            passages.append(replace(passage, id=len(passages)))
        vectors.append(found.vectors)
        sentences.append(found.sentence_vectors)
        keys.append((article.id, article.checksum))
    key = IndexKey(space.model, space.dim, space.chunking, tuple(keys))
    return lending_index(key, passages, _stack(vectors, space.dim), _stack(sentences, space.dim))


def _same_passages(found: ArticleVectors, article: Article, space: VectorSpace) -> bool:
    cut = build_passages([article], space.chunking)
    shape = [(p.paragraph, p.start, p.end, p.sentences) for p in cut]
    return shape == [(p.paragraph, p.start, p.end, p.sentences) for p in found.passages] and (
        found.vectors.shape == (len(cut), space.dim)
    )


def _stack(parts: list[np.ndarray], dim: int) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, dim), dtype=np.float32)
