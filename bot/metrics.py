"""The bot's Prometheus metrics (GET /metrics), owned by the application: one registry per
`Metrics`, no module-level metric, so two bots in one process (the tests) never mix counts.

Counted as things happen: questions by the kind of answer, the answer latency, articles
added, failed updates, webhook deliveries by outcome. Read at each scrape (`Figures`): the
shared library's index size, the chats loaded in memory, and, in PostgreSQL mode, how far this
replica's library follows the others (`IndexedLibrary.sync_status()`: changes applied,
notifications, lag, the delay of the last change; absent with the library in folders).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from embeddings import ANSWER_KINDS, AnswerKind, SyncStatus

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
class Figures:
    """What a scrape reads from the running bot."""

    passages: int = 0  # in the shared library's index (0 until it is loaded)
    articles: int = 0  # in the shared library
    loaded_chats: int = 0  # chats whose own collections are in memory
    sync: SyncStatus | None = None  # None: the library follows nobody (folders)


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
        sync = figures.sync
        if sync is None:
            return
        applied = "Library changes applied here since start (its own and the others')"
        yield CounterMetricFamily("sanad_sync_changes_applied", applied, sync.changes_applied)
        yield CounterMetricFamily("sanad_sync_notifications", "Library change notifications heard", sync.notifications)
        yield CounterMetricFamily("sanad_sync_reconnects", "Times the library listener reconnected", sync.reconnects)
        yield GaugeMetricFamily("sanad_sync_listening", "1 while the library listener listens", int(sync.listening))
        yield GaugeMetricFamily("sanad_sync_lag_changes", "Library changes heard of and not applied here yet", sync.lag)
        yield GaugeMetricFamily(
            "sanad_sync_last_delay_seconds",
            "From the commit of the last library change applied here to its applying",
            sync.last_delay_seconds or 0.0,
        )
