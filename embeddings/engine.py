"""The engine: the model and the answer rules, answering questions from a collection.

An `Engine` only reads: it holds an encoder, one collection (articles and their index) and
the settings of retrieval and abstention. It is immutable, so `ask` is safe from any thread;
`with_collection` gives an engine over other articles that shares the same model. Writing
(adding and removing articles on disk) is `IndexedLibrary`'s job, which swaps in a new engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .answer import Abstention, compose_answer
from .collection import Collection
from .errors import QuestionError
from .index import SearchIndex
from .lexical import Analyzer
from .model import Encoder
from .passages import Chunking
from .retrieve import Fusion, retrieve
from .settings import DEFAULT_MODEL, Settings
from .types import EXAMPLE_QUESTION, Answer, Article

# Longer questions are cut before matching: the model reads at most 512 tokens anyway,
# and a pasted essay must not make BM25 score tens of thousands of terms.
MAX_QUESTION_CHARS = 2000

# Calibrated for the default model (see README, "Abstention"): XQuAD-ar questions asked
# against the shipped article vs. the dev questions about it.
DEFAULT_ABSTENTION = Abstention(min_dense=0.75, confident_dense=0.81, min_coverage=0.45, cross_script_dense=0.775)
# Any other model: cosines are not comparable, so only shared terms decide unless
# SANAD_ABSTAIN_THRESHOLD gives a cosine floor.
OTHER_MODEL_ABSTENTION = Abstention(min_dense=-1.0, confident_dense=2.0, min_coverage=0.45, cross_script_dense=-1.0)


@dataclass(frozen=True)
class RetrievalConfig:
    """How passages are cut and ranked; part of what the index is checked against."""

    chunking: Chunking = field(default_factory=Chunking)
    fusion: Fusion = field(default_factory=Fusion)


def abstention_for(settings: Settings) -> Abstention:
    """The abstention rule for the settings' model, with SANAD_ABSTAIN_THRESHOLD applied."""
    base = DEFAULT_ABSTENTION if settings.model == DEFAULT_MODEL else OTHER_MODEL_ABSTENTION
    if settings.abstain_threshold is None:
        return base
    floor = settings.abstain_threshold
    return Abstention(floor, max(floor, base.confident_dense), base.min_coverage, floor)


def question_text(question: str) -> str:
    """The part of `question` that is matched; QuestionError when there is none."""
    if not question or not question.strip():
        raise QuestionError(f"the question is empty; ask something about the article, e.g. {EXAMPLE_QUESTION}")
    return question.strip()[:MAX_QUESTION_CHARS]


@dataclass(frozen=True, eq=False)
class Engine:
    """Answers questions from one collection with one model. Immutable and thread-safe."""

    encoder: Encoder
    collection: Collection
    top_k: int = 3
    abstention: Abstention | None = DEFAULT_ABSTENTION  # None: never abstain (evaluation)
    config: RetrievalConfig = field(default_factory=RetrievalConfig)
    analyzer: Analyzer = field(default_factory=Analyzer)

    @classmethod
    def from_articles(
        cls,
        articles: Sequence[Article],
        encoder: Encoder,
        *,
        top_k: int = 3,
        abstention: Abstention | None = DEFAULT_ABSTENTION,
        config: RetrievalConfig | None = None,
        progress: bool = False,
    ) -> Engine:
        """An engine over articles indexed in memory (nothing written to disk)."""
        config = config or RetrievalConfig()
        analyzer = Analyzer()
        collection = Collection.build(articles, encoder, analyzer, config.chunking, progress=progress)
        return cls(encoder, collection, top_k=top_k, abstention=abstention, config=config, analyzer=analyzer)

    @property
    def index(self) -> SearchIndex:
        """The collection's index."""
        return self.collection.index

    @property
    def articles(self) -> tuple[Article, ...]:
        """The collection's articles, in index order."""
        return self.collection.article_list()

    def with_collection(self, collection: Collection) -> Engine:
        """The same model and rules over another collection."""
        return replace(self, collection=collection)

    def build(
        self, articles: Sequence[Article], *, also: Sequence[SearchIndex] = (), progress: bool = False
    ) -> Collection:
        """A collection of `articles` indexed with this engine's model, reusing the vectors of
        the articles this engine's collection (or an index in `also`) already holds unchanged."""
        return Collection.build(
            articles,
            self.encoder,
            self.analyzer,
            self.config.chunking,
            previous=[self.collection.index, *also],
            progress=progress,
        )

    def ask(self, question: str, k: int | None = None) -> Answer:
        """The answer to `question`: up to `k` verbatim quotes, or "not found"."""
        if k is not None and k < 1:
            raise QuestionError(f"k={k} must be at least 1")
        text = question_text(question)
        collection = self.collection
        terms = self.analyzer.terms(text)
        query = self.encoder.encode_queries([text])[0]
        hits = retrieve(collection.index, query, terms, self.config.fusion)
        return compose_answer(
            question=question,
            hits=hits,
            articles=collection.articles,
            question_terms=terms,
            terms_of=self.analyzer.terms,
            idf=collection.index.idf,
            k=k or self.top_k,
            abstention=self.abstention,
        )
