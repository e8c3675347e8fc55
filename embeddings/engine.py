"""The engine: the model and the answer rules, answering questions from a collection.

An `Engine` only reads: it holds an encoder, one collection (articles and their index) and
the settings of retrieval and of the decision (answer / closest / not found). It is
immutable, so `ask` is safe from any thread; `with_collection` gives an engine over other
articles that shares the same model. Writing (adding and removing articles on disk) is
`IndexedLibrary`'s job, which swaps in a new engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from .answer import compose_answer, gather_evidence
from .calibration import Calibration, load_calibration
from .collection import Collection
from .conversation import LEAD_WEIGHT, TOPIC_WEIGHT, FollowUp, mix_queries, resolved_question
from .errors import QuestionError
from .evidence import EvidenceSources, Question
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

# The decision (answer / closest / not found) is a fitted calibration (calibration.py): the
# packaged one of the model, or SANAD_CALIBRATION's. "default": the default model's.
DEFAULT_ABSTENTION: Literal["default"] = "default"


@dataclass(frozen=True)
class RetrievalConfig:
    """How passages are cut and ranked; part of what the index is checked against."""

    chunking: Chunking = field(default_factory=Chunking)
    fusion: Fusion = field(default_factory=Fusion)


def abstention_for(settings: Settings) -> Calibration:
    """The calibration for the settings' model (SANAD_CALIBRATION's if set), with
    SANAD_ABSTAIN_THRESHOLD as its answer threshold when that is set."""
    calibration = load_calibration(settings.model, settings.calibration, settings.backend)
    if settings.abstain_threshold is None:
        return calibration
    return calibration.with_answer_threshold(settings.abstain_threshold)


def question_text(question: str) -> str:
    """The part of `question` that is matched; QuestionError when there is none."""
    if not question or not question.strip():
        raise QuestionError(f"the question is empty; ask something about the article, e.g. {EXAMPLE_QUESTION}")
    return question.strip()[:MAX_QUESTION_CHARS]


def _calibration(abstention: Calibration | Literal["default"] | None) -> Calibration | None:
    return load_calibration(DEFAULT_MODEL) if abstention == DEFAULT_ABSTENTION else abstention


@dataclass(frozen=True, eq=False)
class Engine:
    """Answers questions from one collection with one model. Immutable and thread-safe.
    `abstention` None: never abstain, always quote the best passages (evaluation)."""

    encoder: Encoder
    collection: Collection
    top_k: int = 3
    abstention: Calibration | None = field(default_factory=lambda: _calibration(DEFAULT_ABSTENTION))
    config: RetrievalConfig = field(default_factory=RetrievalConfig)
    analyzer: Analyzer = field(default_factory=Analyzer)

    @classmethod
    def from_articles(
        cls,
        articles: Sequence[Article],
        encoder: Encoder,
        *,
        top_k: int = 3,
        abstention: Calibration | Literal["default"] | None = DEFAULT_ABSTENTION,
        config: RetrievalConfig | None = None,
        progress: bool = False,
    ) -> Engine:
        """An engine over articles indexed in memory (nothing written to disk)."""
        config = config or RetrievalConfig()
        analyzer = Analyzer()
        collection = Collection.build(articles, encoder, analyzer, config.chunking, progress=progress)
        return cls(
            encoder, collection, top_k=top_k, abstention=_calibration(abstention), config=config, analyzer=analyzer
        )

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

    def _read(
        self, text: str, follow_up: FollowUp | None, collection: Collection
    ) -> tuple[str | Question, list[str], np.ndarray]:
        """What retrieval and the evidence read of a question: the question (its text, or a
        follow-up resolved with its topic), its terms, and its vector (a follow-up's mixed with
        the topic's and the previous lead sentence's)."""
        if follow_up is None:
            return text, self.analyzer.terms(text), self.encoder.encode_queries([text])[0]
        read = resolved_question(text, follow_up.topic, self.analyzer.terms)
        lead = follow_up.prior.sentence_text(collection.articles) if follow_up.prior else ""
        own, *others = self.encoder.encode_queries([text, follow_up.topic, *([lead] if lead else [])])
        return read, list(read.terms), mix_queries(own, others, (TOPIC_WEIGHT, LEAD_WEIGHT)[: len(others)])

    def ask(self, question: str, k: int | None = None, *, follow_up: FollowUp | None = None) -> Answer:
        """The answer to `question`: its kind, and up to `k` verbatim quotes. A `follow_up`
        (conversation.py) resolves it with the previous turn: that question's terms and vector
        mixed in, and the vector of the sentence its answer led with; the quotes stay verbatim,
        the kind is the calibrated decision on the resolved question."""
        if k is not None and k < 1:
            raise QuestionError(f"k={k} must be at least 1")
        text = question_text(question)
        collection = self.collection  # one state for the whole question
        index = collection.index
        read, terms, query = self._read(text, follow_up, collection)
        hits = retrieve(index, query, terms, self.config.fusion)
        k = k or self.top_k
        evidence = None
        if self.abstention is not None:
            sources = EvidenceSources(
                collection.articles,
                index.sentence_vectors,
                self.analyzer.terms,
                index.idf,
                index.is_unseen,
                pieces=getattr(self.encoder, "word_pieces", None),
                cache=collection.terms,
            )
            evidence = gather_evidence(read, query, hits, sources, k)
        return compose_answer(
            question=question,
            hits=hits,
            articles=collection.articles,
            question_terms=terms,
            terms_of=self.analyzer.terms,
            idf=index.idf,
            k=k,
            abstention=self.abstention,
            evidence=evidence,
        )
