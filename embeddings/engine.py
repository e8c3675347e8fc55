"""The engine: articles, model and index together, answering questions.

An engine opened on a library (`Engine.open`) can also add and remove articles: the
library's files and the index folder are updated on disk, then the in-memory state (index
and articles together, one immutable snapshot) is swapped in one assignment, so a question
asked meanwhile is answered wholly from the old state or wholly from the new one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from .answer import compose_answer, gather_evidence
from .calibration import Calibration, load_calibration
from .errors import IndexCorruptError, IndexMissingError, IndexStaleError, IndexStateError, QuestionError
from .index import IndexKey, SearchIndex, build_index, load_index, read_index, reusable_articles, save_index
from .lexical import Analyzer
from .library import Library
from .model import Encoder, load_encoder
from .passages import Chunking
from .retrieve import Fusion, retrieve
from .settings import DEFAULT_MODEL, Settings
from .types import Answer, Article

# Longer questions are cut before matching: the model reads at most 512 tokens anyway,
# and a pasted essay must not make BM25 score tens of thousands of terms.
MAX_QUESTION_CHARS = 2000
EXAMPLE_QUESTION = "ما اسم وزير الدفاع الروسي؟"

# The decision (answer / closest / not found) is a fitted calibration (calibration.py):
# the packaged one of the model, or SANAD_CALIBRATION's.
DEFAULT_ABSTENTION: Literal["default"] = "default"

Log = Callable[[str], None]


@dataclass(frozen=True)
class RetrievalConfig:
    """How passages are cut and ranked; part of what the index is checked against."""

    chunking: Chunking = field(default_factory=Chunking)
    fusion: Fusion = field(default_factory=Fusion)


@dataclass(frozen=True)
class _Snapshot:
    """The index and the articles it was built from, always swapped together."""

    index: SearchIndex
    articles: Mapping[str, Article]

    @classmethod
    def of(cls, index: SearchIndex, articles: Sequence[Article]) -> _Snapshot:
        return cls(index, MappingProxyType({a.id: a for a in articles}))


def _abstention_for(settings: Settings) -> Calibration:
    calibration = load_calibration(settings.model, settings.calibration)
    if settings.abstain_threshold is None:
        return calibration
    return calibration.with_answer_threshold(settings.abstain_threshold)


def question_text(question: str) -> str:
    """The part of `question` that is matched; QuestionError when there is none."""
    if not question or not question.strip():
        raise QuestionError(f"the question is empty; ask something about the article, e.g. {EXAMPLE_QUESTION}")
    return question.strip()[:MAX_QUESTION_CHARS]


class Engine:
    """Answers questions from the indexed articles. `ask` is safe to call from threads, also
    while `add_article` or `remove_article` runs in another (those two take turns)."""

    def __init__(
        self,
        encoder: Encoder,
        index: SearchIndex,
        articles: Sequence[Article],
        *,
        top_k: int = 3,
        abstention: Calibration | Literal["default"] | None = DEFAULT_ABSTENTION,
        config: RetrievalConfig = RetrievalConfig(),
        analyzer: Analyzer | None = None,
        library: Library | None = None,
        index_dir: Path | None = None,
    ) -> None:
        self.encoder = encoder
        self._snapshot = _Snapshot.of(index, articles)
        self.top_k = top_k
        self.abstention = load_calibration(DEFAULT_MODEL) if abstention == "default" else abstention
        self.config = config
        self.analyzer = analyzer or Analyzer()
        self.library = library
        self.index_dir = index_dir
        self._write_lock = threading.Lock()

    @property
    def index(self) -> SearchIndex:
        """The current index."""
        return self._snapshot.index

    @property
    def articles(self) -> tuple[Article, ...]:
        """The indexed articles, in index order."""
        return tuple(self._snapshot.articles.values())

    @classmethod
    def from_articles(
        cls,
        articles: Sequence[Article],
        encoder: Encoder,
        *,
        config: RetrievalConfig = RetrievalConfig(),
        progress: bool = False,
        **options: object,
    ) -> Engine:
        """An engine over articles indexed in memory (nothing written to disk)."""
        analyzer = Analyzer()
        index = build_index(articles, encoder, analyzer, config.chunking, progress=progress)
        return cls(encoder, index, articles, config=config, analyzer=analyzer, **options)  # type: ignore[arg-type]

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        log: Log | None = None,
        progress: bool = False,
        encoder: Encoder | None = None,
        config: RetrievalConfig = RetrievalConfig(),
    ) -> Engine:
        """Load the model and the index of `settings.articles_dir`, (re)building the
        index first when it is missing, stale or corrupt (and saying why in `log`); a
        stale index lends the vectors of the articles that did not change."""
        log = log or logging.getLogger(__name__).info
        library = Library(settings.articles_dir)
        articles = library.list()
        encoder = encoder or load_encoder(settings.model, settings.model_cache)
        analyzer = Analyzer()
        key = IndexKey.of(encoder, config.chunking, articles)
        try:
            index = load_index(settings.index_dir, key)
        except (IndexMissingError, IndexStaleError, IndexCorruptError) as exc:
            log(f"Rebuilding the index: {exc}")
            previous = _previous_index(settings.index_dir) if isinstance(exc, IndexStaleError) else None
            _log_reuse(log, previous, encoder, config, articles)
            index = build_index(articles, encoder, analyzer, config.chunking, progress=progress, previous=previous)
            save_index(index, settings.index_dir)
            log(f"Index built: {len(index)} passages from {len(articles)} article(s) in {settings.index_dir}")
        return cls(
            encoder,
            index,
            articles,
            top_k=settings.top_k,
            abstention=_abstention_for(settings),
            config=config,
            analyzer=analyzer,
            library=library,
            index_dir=settings.index_dir,
        )

    def add_article(self, text: str, title: str, source: str) -> tuple[Article, bool]:
        """Store an article in the library and index it (embedding only it); returns
        (article, True), or (the stored article, False) when it is already present.
        Slow (CPU): call it from a worker thread, not an event loop."""
        library, index_dir = self._storage()
        with self._write_lock:
            article, added = library.add(text, title, source)
            if added:
                try:
                    self._reindex(library, index_dir)
                except BaseException:
                    library.remove(article.id)
                    raise
            return article, added

    def remove_article(self, article_id: str) -> Article:
        """Delete an article from the library and the index; returns it. An unknown id
        raises ArticleNotFoundError (its message says how to list the ids)."""
        library, index_dir = self._storage()
        with self._write_lock:
            article = library.remove(article_id)
            self._reindex(library, index_dir)
            return article

    def find_article(self, *, text: str | None = None, source: str | None = None) -> Article | None:
        """The stored article with the same text or source URL, if any (a cheap check before fetching)."""
        library, _ = self._storage()
        return library.find(text=text, source=source)

    def _storage(self) -> tuple[Library, Path]:
        if self.library is None or self.index_dir is None:
            raise RuntimeError("this engine was built in memory; open it with Engine.open to add or remove articles")
        return self.library, self.index_dir

    def _reindex(self, library: Library, index_dir: Path) -> None:
        """Index the library's articles (reusing the current vectors), save, then swap in."""
        articles = library.list()
        index = build_index(articles, self.encoder, self.analyzer, self.config.chunking, previous=self._snapshot.index)
        save_index(index, index_dir)
        self._snapshot = _Snapshot.of(index, articles)

    def ask(self, question: str, k: int | None = None) -> Answer:
        """The answer to `question`: up to `k` verbatim quotes, or "not found"."""
        if k is not None and k < 1:
            raise QuestionError(f"k={k} must be at least 1")
        text = question_text(question)
        state = self._snapshot  # one state for the whole question, even if an article is added meanwhile
        terms = self.analyzer.terms(text)
        query = self.encoder.encode_queries([text])[0]
        hits = retrieve(state.index, query, terms, self.config.fusion)
        k = k or self.top_k
        index = state.index
        evidence = None
        if self.abstention is not None:
            evidence = gather_evidence(
                text,
                query,
                hits,
                state.articles,
                index.sentence_vectors,
                self.analyzer.terms,
                index.idf,
                index.is_unseen,
                k,
                pieces=getattr(self.encoder, "word_pieces", None),
            )
        return compose_answer(
            question=question,
            hits=hits,
            articles=state.articles,
            question_terms=terms,
            terms_of=self.analyzer.terms,
            idf=state.index.idf,
            k=k,
            abstention=self.abstention,
            evidence=evidence,
        )


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
