"""The shared library and the engine that answers from it, kept in step with its storage.

`IndexedLibrary` is what the bot and the CLI hold: `engine` answers from the current state,
and adding or removing an article swaps in a new engine (the same model over the new
collection) in one assignment, so a question asked meanwhile is answered wholly from the old
state or wholly from the new one. `IndexedLibrary.open(settings)` picks the storage:

- `FolderLibrary` (the default): the library folder and its index folder on disk;
- `ReplicatedLibrary` (`replica.py`, when SANAD_DATABASE_URL is set): the rows of the shared
  library in PostgreSQL, followed by every replica (`start_sync`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .batching import batching_encoder, batching_of
from .collection import Collection
from .engine import Engine, RetrievalConfig, abstention_for
from .errors import IndexStaleError, IndexStateError
from .index import IndexKey, SearchIndex, reusable_articles
from .index_files import load_index, read_index, save_index
from .lexical import Analyzer
from .library import Library
from .model import Encoder, load_encoder
from .settings import Settings
from .types import Answer, Article

if TYPE_CHECKING:
    from .replica import SyncStatus

Log = Callable[[str], None]


class IndexedLibrary:
    """The shared library with the engine over it. `ask` is safe from any thread, also while
    `add_article` or `remove_article` runs in another (those two take turns)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._write_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        log: Log | None = None,
        progress: bool = False,
        encoder: Encoder | None = None,
        config: RetrievalConfig | None = None,
    ) -> IndexedLibrary:
        """The library of `settings` with the model loaded and the index in memory: from
        PostgreSQL when `database_url` is set (`ReplicatedLibrary.open_database`), else from
        the folders (`FolderLibrary.open_folder`)."""
        if settings.database_url is not None:
            from .replica import ReplicatedLibrary

            return ReplicatedLibrary.open_database(settings, log=log, progress=progress, encoder=encoder, config=config)
        return FolderLibrary.open_folder(settings, log=log, progress=progress, encoder=encoder, config=config)

    @property
    def engine(self) -> Engine:
        """The engine over the current state; keep it for the whole of one question."""
        return self._engine

    @property
    def articles(self) -> tuple[Article, ...]:
        """The indexed articles, in index order."""
        return self._engine.articles

    @property
    def index(self) -> SearchIndex:
        """The current index."""
        return self._engine.index

    def ask(self, question: str, k: int | None = None) -> Answer:
        """The answer to `question` from the current state (see `Engine.ask`)."""
        return self._engine.ask(question, k)

    def add_article(self, text: str, title: str, source: str) -> tuple[Article, bool]:
        """Store an article in the library and index it (embedding only it); returns
        (article, True), or (the stored article, False) when it is already present.
        Slow (CPU): call it from a worker thread, not an event loop."""
        raise NotImplementedError

    def remove_article(self, article_id: str) -> Article:
        """Delete an article from the library and the index; returns it. An unknown id
        raises ArticleNotFoundError (its message says how to list the ids)."""
        raise NotImplementedError

    def find_article(self, *, text: str | None = None, source: str | None = None) -> Article | None:
        """The stored article with the same text or source URL, if any (a cheap check before fetching)."""
        raise NotImplementedError

    def start_sync(self) -> None:
        """Follow the changes other processes make (PostgreSQL); nothing to follow in folders."""

    def sync_status(self) -> SyncStatus | None:
        """How far this replica follows the shared library (None: not a replica)."""
        return None

    def close(self) -> None:
        """Stop following and release the connections (a folder library holds none)."""


def open_model(settings: Settings) -> Encoder:
    """The settings' model, with the questions asked at the same moment embedded together (batching.py)."""
    encoder = load_encoder(settings.model, settings.model_cache, settings.backend, settings.encoder_threads)
    return batching_encoder(encoder, batching_of(settings))


def new_engine(
    settings: Settings, encoder: Encoder, collection: Collection, config: RetrievalConfig, analyzer: Analyzer
) -> Engine:
    """The engine of the settings (top k, the decision) over `collection`."""
    return Engine(
        encoder,
        collection,
        top_k=settings.top_k,
        abstention=abstention_for(settings),
        config=config,
        analyzer=analyzer,
    )


class FolderLibrary(IndexedLibrary):
    """A `Library` folder and its index folder, written in step."""

    def __init__(self, library: Library, index_dir: Path, engine: Engine) -> None:
        super().__init__(engine)
        self.library = library
        self.index_dir = index_dir

    @classmethod
    def open_folder(
        cls,
        settings: Settings,
        *,
        log: Log | None = None,
        progress: bool = False,
        encoder: Encoder | None = None,
        config: RetrievalConfig | None = None,
    ) -> FolderLibrary:
        """Load the model and the index of `settings.articles_dir`, (re)building the index
        first when it is missing, stale or corrupt (and saying why in `log`); a stale index
        lends the vectors of the articles that did not change."""
        log = log or logging.getLogger(__name__).info
        config = config or RetrievalConfig()
        library = Library(settings.articles_dir)
        articles = library.list()
        encoder = encoder or open_model(settings)
        analyzer = Analyzer()
        key = IndexKey.of(encoder, config.chunking, articles)
        try:
            collection = Collection.of(load_index(settings.index_dir, key), articles)
        except IndexStateError as exc:
            log(f"Rebuilding the index: {exc}")
            previous = _previous_index(settings.index_dir) if isinstance(exc, IndexStaleError) else None
            _log_reuse(log, previous, encoder, config, articles)
            collection = Collection.build(
                articles, encoder, analyzer, config.chunking, previous=previous, progress=progress
            )
            save_index(collection.index, settings.index_dir)
            log(f"Index built: {len(collection)} passages from {len(articles)} article(s) in {settings.index_dir}")
        return cls(library, settings.index_dir, new_engine(settings, encoder, collection, config, analyzer))

    def add_article(self, text: str, title: str, source: str) -> tuple[Article, bool]:
        """Store an article in the library and index it (embedding only it); returns
        (article, True), or (the stored article, False) when it is already present.
        Slow (CPU): call it from a worker thread, not an event loop."""
        with self._write_lock:
            article, added = self.library.add(text, title, source)
            if added:
                try:
                    self._reindex()
                except BaseException:
                    self.library.remove(article.id)
                    raise
            return article, added

    def remove_article(self, article_id: str) -> Article:
        """Delete an article from the library and the index; returns it. An unknown id
        raises ArticleNotFoundError (its message says how to list the ids)."""
        with self._write_lock:
            article = self.library.remove(article_id)
            self._reindex()
            return article

    def find_article(self, *, text: str | None = None, source: str | None = None) -> Article | None:
        """The stored article with the same text or source URL, if any (a cheap check before fetching)."""
        return self.library.find(text=text, source=source)

    def _reindex(self) -> None:
        """Index the library's articles (reusing the current vectors), save, then swap in."""
        collection = self._engine.build(self.library.list())
        save_index(collection.index, self.index_dir)
        self._engine = self._engine.with_collection(collection)


def _previous_index(folder: Path) -> SearchIndex | None:
    """The stale index in `folder`, to lend its vectors; None if it cannot be read."""
    try:
        return read_index(folder)
    except IndexStateError:
        return None


def _log_reuse(
    log: Log, previous: SearchIndex | None, encoder: Encoder, config: RetrievalConfig, articles: Sequence[Article]
) -> None:
    reusable = reusable_articles(previous, encoder, config.chunking)
    kept = sum((a.id, a.checksum) in reusable for a in articles)
    if kept:
        log(f"Reusing the vectors of {kept} unchanged article(s); embedding {len(articles) - kept}")
