"""The engine: articles, model and index together, answering questions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .answer import Abstention, compose_answer
from .articles import article_files, read_articles
from .errors import IndexCorruptError, IndexMissingError, IndexStaleError, QuestionError
from .index import IndexKey, SearchIndex, build_index, load_index, save_index
from .lexical import Analyzer
from .model import Encoder, load_encoder
from .passages import Chunking
from .retrieve import Fusion, retrieve
from .settings import DEFAULT_MODEL, Settings
from .types import Answer, Article

# Longer questions are cut before matching: the model reads at most 512 tokens anyway,
# and a pasted essay must not make BM25 score tens of thousands of terms.
MAX_QUESTION_CHARS = 2000
EXAMPLE_QUESTION = "ما اسم وزير الدفاع الروسي؟"

# Calibrated for the default model (see README, "Abstention"): XQuAD-ar questions asked
# against the shipped article vs. the dev questions about it.
DEFAULT_ABSTENTION = Abstention(min_dense=0.75, confident_dense=0.81, min_coverage=0.45)
# Any other model: cosines are not comparable, so only shared terms decide unless
# SANAD_ABSTAIN_THRESHOLD gives a cosine floor.
OTHER_MODEL_ABSTENTION = Abstention(min_dense=-1.0, confident_dense=2.0, min_coverage=0.45)

Log = Callable[[str], None]


@dataclass(frozen=True)
class RetrievalConfig:
    """How passages are cut and ranked; part of what the index is checked against."""

    chunking: Chunking = field(default_factory=Chunking)
    fusion: Fusion = field(default_factory=Fusion)


def _abstention_for(settings: Settings) -> Abstention:
    base = DEFAULT_ABSTENTION if settings.model == DEFAULT_MODEL else OTHER_MODEL_ABSTENTION
    if settings.abstain_threshold is None:
        return base
    floor = settings.abstain_threshold
    return Abstention(floor, max(floor, base.confident_dense), base.min_coverage)


class Engine:
    """Answers questions from the indexed articles. `ask` is safe to call from threads."""

    def __init__(
        self,
        encoder: Encoder,
        index: SearchIndex,
        articles: Sequence[Article],
        *,
        top_k: int = 3,
        abstention: Abstention | None = DEFAULT_ABSTENTION,
        config: RetrievalConfig = RetrievalConfig(),
        analyzer: Analyzer | None = None,
    ) -> None:
        self.encoder = encoder
        self.index = index
        self._articles = {a.id: a for a in articles}
        self.top_k = top_k
        self.abstention = abstention
        self.config = config
        self.analyzer = analyzer or Analyzer()

    @property
    def articles(self) -> tuple[Article, ...]:
        """The indexed articles, in index order."""
        return tuple(self._articles.values())

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
        index first when it is missing, stale or corrupt (and saying why in `log`)."""
        log = log or logging.getLogger(__name__).info
        articles = read_articles(article_files(settings.articles_dir))
        encoder = encoder or load_encoder(settings.model, settings.model_cache)
        analyzer = Analyzer()
        key = IndexKey.of(encoder, config.chunking, articles)
        try:
            index = load_index(settings.index_dir, key)
        except (IndexMissingError, IndexStaleError, IndexCorruptError) as exc:
            log(f"Rebuilding the index: {exc}")
            index = build_index(articles, encoder, analyzer, config.chunking, progress=progress)
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
        )

    def ask(self, question: str, k: int | None = None) -> Answer:
        """The answer to `question`: up to `k` verbatim quotes, or "not found"."""
        if not question or not question.strip():
            raise QuestionError(f"the question is empty; ask something about the article, e.g. {EXAMPLE_QUESTION}")
        if k is not None and k < 1:
            raise QuestionError(f"k={k} must be at least 1")
        text = question.strip()[:MAX_QUESTION_CHARS]
        terms = self.analyzer.terms(text)
        query = self.encoder.encode_queries([text])[0]
        hits = retrieve(self.index, query, terms, self.config.fusion)
        return compose_answer(
            question=question,
            hits=hits,
            articles=self._articles,
            question_terms=terms,
            terms_of=self.analyzer.terms,
            idf=self.index.idf,
            k=k or self.top_k,
            abstention=self.abstention,
        )
