"""The bot's Prometheus metrics (GET /metrics), owned by the application: one registry per
`Metrics`, no module-level metric, so two bots in one process (the tests) never mix counts.

Counted as things happen: questions by the kind of answer, the answer latency, articles
added, failed updates, webhook deliveries by outcome. Read at each scrape (`Figures`): the
shared library's index size, the chats loaded in memory, and how far this replica's library
follows the others (notifications applied, lag).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from embeddings import ANSWER_KINDS, AnswerKind, IndexedLibrary

CONTENT_TYPE = CONTENT_TYPE_LATEST  # Prometheus text format 0.0.4 / 1.0.0
# An answer takes ~20 ms alone on our machine, seconds when many chats ask at once.
ANSWER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
AddedTo = Literal["chat", "library"]
WebhookOutcome = Literal["handled", "duplicate", "busy", "failed", "gave_up", "refused", "unavailable"]
WEBHOOK_OUTCOMES: tuple[WebhookOutcome, ...] = (
    "handled",  # handled now, answered 200
    "duplicate",  # handled before (here or on another replica): 200, not handled again
    "busy",  # another replica (or this one) handles it right now: 503, Telegram retries
    "failed",  # a handler raised: 500, Telegram retries
    "gave_up",  # failed too often: 200 so Telegram stops retrying (logged)
    "refused",  # wrong or missing secret, or not an update: 403 / 400
    "unavailable",  # not started yet, or the database unreachable: 503, Telegram retries
)


@dataclass(frozen=True)
class SyncFigures:
    """How this replica's library follows the others' changes (PostgreSQL mode)."""

    notifications_applied: int = 0  # changes of other replicas applied here since start
    lag_seconds: float = 0.0  # how old the oldest change not yet applied here is (0: in step)


@dataclass(frozen=True)
class Figures:
    """What a scrape reads from the running bot."""

    passages: int = 0  # in the shared library's index (0 until it is loaded)
    articles: int = 0  # in the shared library
    loaded_chats: int = 0  # chats whose own collections are in memory
    sync: SyncFigures = SyncFigures()


def library_sync(library: IndexedLibrary) -> SyncFigures:
    """HOOK for the PostgreSQL library (LISTEN/NOTIFY): what it says about following the other
    replicas. The file library follows nobody, so zeros until the library reports them."""
    return SyncFigures()


class Metrics:
    """The metrics of one bot, in their own registry; `figures` is read at each scrape."""

    def __init__(self, figures: Callable[[], Figures]) -> None:
        self.registry = CollectorRegistry()
        self._questions = Counter(
            "sanad_questions", "Questions answered, by the kind of answer", ["kind"], registry=self.registry
        )
        self._answer_seconds = Histogram(
            "sanad_answer_seconds",
            "Seconds from a question to its answer (retrieval and decision, off the event loop)",
            buckets=ANSWER_BUCKETS,
            registry=self.registry,
        )
        self._adds = Counter(
            "sanad_articles_added", "Articles added, to a chat's own or to the library", ["to"], registry=self.registry
        )
        self._errors = Counter("sanad_errors", "Updates whose handling raised an error", registry=self.registry)
        self._webhook = Counter(
            "sanad_webhook_updates", "Webhook deliveries, by what became of them", ["outcome"], registry=self.registry
        )
        for kind in ANSWER_KINDS:  # every series exists from the start, at 0, so rates work at once
            self._questions.labels(kind)
        for to in ("chat", "library"):
            self._adds.labels(to)
        for outcome in WEBHOOK_OUTCOMES:
            self._webhook.labels(outcome)
        self.registry.register(_FiguresCollector(figures))

    def answered(self, kind: AnswerKind, seconds: float) -> None:
        """Count a question answered with this kind of answer, in `seconds`."""
        self._questions.labels(kind).inc()
        self._answer_seconds.observe(seconds)

    def added(self, to: AddedTo) -> None:
        """Count an article added (a new one, not one found already there)."""
        self._adds.labels(to).inc()

    def failed(self) -> None:
        """Count an update whose handling raised."""
        self._errors.inc()

    def delivered(self, outcome: WebhookOutcome) -> None:
        """Count a webhook delivery by what became of it."""
        self._webhook.labels(outcome).inc()

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)


class _FiguresCollector:
    """The figures of the running bot, read when scraped."""

    def __init__(self, figures: Callable[[], Figures]) -> None:
        self._figures = figures

    def collect(self) -> Iterable[Metric]:
        figures = self._figures()
        yield GaugeMetricFamily("sanad_index_passages", "Passages in the shared library's index", figures.passages)
        yield GaugeMetricFamily("sanad_index_articles", "Articles in the shared library", figures.articles)
        yield GaugeMetricFamily("sanad_loaded_chats", "Chats whose own collections are in memory", figures.loaded_chats)
        yield CounterMetricFamily(
            "sanad_sync_notifications_applied",
            "Library changes of other replicas applied here since start",
            figures.sync.notifications_applied,
        )
        yield GaugeMetricFamily(
            "sanad_sync_lag_seconds",
            "Age of the oldest library change not yet applied here (0: in step)",
            figures.sync.lag_seconds,
        )
