"""Micro-batching of questions: questions asked together from several threads are embedded
by one model call, each caller getting its own rows.

A forward pass over 30 short questions costs a fraction of 30 passes over one (on 2 cores,
a few times one question's), so when many chats ask at once the bot answers more of them
per second. There is no thread of its own: the caller that finds the model idle runs its
question at once (a lone question never waits), and the questions that arrive while a
batch runs queue up; when the batch ends, the first of them runs the queue (up to `cap`
texts, after waiting at most `window` seconds for it to fill) as the next batch. An error
of the model reaches only the callers whose questions were in the failing batch.

The cap is small (8): the model runs on one core, and the rest of each question's work
(retrieval, evidence, the store, the reply) needs the other. A batch of 29 questions kept
that core idle while it ran, then left 29 questions to finish at once; batches of 8 let the
questions of one batch finish while the next is embedded, for ~6 % more model time each.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .model import Encoder
from .settings import Settings


@dataclass(frozen=True)
class QueryBatching:
    """How questions are gathered: at most `cap` texts per model call (1: no batching), and
    the longest a batch started under load waits for more questions (seconds)."""

    cap: int = 8
    window: float = 0.002

    def __post_init__(self) -> None:
        if self.cap < 1:
            raise ValueError(f"the batch cap {self.cap} must be at least 1")
        if self.window < 0.0:
            raise ValueError(f"the batch window {self.window} s must not be negative")

    @property
    def enabled(self) -> bool:
        """Whether questions are batched at all."""
        return self.cap > 1


@dataclass(eq=False)
class _Request:
    """One caller's texts, and what the batch it rode in gave it."""

    texts: Sequence[str]
    answered: threading.Event = field(default_factory=threading.Event)  # rows or error set
    leads: bool = False  # this caller runs the next batch
    rows: np.ndarray | None = None
    error: BaseException | None = None

    def outcome(self) -> np.ndarray:
        if self.error is not None:
            raise self.error
        assert self.rows is not None  # set before `answered`
        return self.rows


class BatchingEncoder:
    """An `Encoder` whose `encode_queries`, called from several threads at once, embeds the
    questions of concurrent callers in one call of `inner` (see the module docstring).
    Passages go straight to `inner`. Safe from any thread."""

    def __init__(self, inner: Encoder, batching: QueryBatching | None = None) -> None:
        self._inner = inner
        self._batching = batching or QueryBatching()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # a leader gathering waits on it
        self._queue: deque[_Request] = deque()  # requests not yet in a batch
        self._running = False  # a batch is being embedded, or its successor is being gathered
        pieces = getattr(inner, "word_pieces", None)
        if pieces is not None:  # the engine reads the tokenizer through it, when the model has one
            self.word_pieces: Callable[[str], int] = pieces

    @property
    def inner(self) -> Encoder:
        """The encoder that embeds the batches."""
        return self._inner

    @property
    def queued(self) -> int:
        """How many callers wait for the model now, their questions not yet in a batch."""
        with self._lock:
            return len(self._queue)

    @property
    def name(self) -> str:
        """The model's name, as the index manifest records it."""
        return self._inner.name

    @property
    def dim(self) -> int:
        """The length of every vector."""
        return self._inner.dim

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Vectors of passages, shape (len(texts), dim): straight from the inner encoder."""
        return self._inner.encode_passages(texts, progress=progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions, shape (len(texts), dim), embedded together with those of the
        callers asking at the same moment; the rows equal those of a call of its own (up to
        float noise of padding)."""
        if not texts:
            return self._inner.encode_queries(texts)
        request = _Request(list(texts))
        with self._lock:
            self._queue.append(request)
            self._arrived.notify()
            handed_over = self._running
            self._running = True
        if handed_over:  # a batch is running: wait for ours, or for our turn to run the queue
            request.answered.wait()
            if not request.leads:
                return request.outcome()
        self._run_batch(gather=handed_over)
        return request.outcome()

    def _run_batch(self, gather: bool) -> None:
        """Embed the head of the queue (this caller's request first) as one call, answer its
        callers, then hand the next batch to the first caller still queued."""
        batch = self._take(gather)
        try:
            vectors = self._inner.encode_queries([text for request in batch for text in request.texts])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the thread of every caller of the batch
            for request in batch:
                request.error = exc
        else:
            start = 0
            for request in batch:
                request.rows = vectors[start : start + len(request.texts)].copy()
                start += len(request.texts)
        with self._lock:
            if self._queue:
                self._queue[0].leads = True
                self._queue[0].answered.set()
            else:
                self._running = False
        for request in batch:
            request.answered.set()

    def _take(self, gather: bool) -> list[_Request]:
        """The requests of the next batch, from the head of the queue: at least one, then as
        many as fit under the cap. Under load (`gather`) wait up to the window for it to fill."""
        cap, window = self._batching.cap, self._batching.window
        with self._lock:
            if gather and window > 0:
                deadline = time.monotonic() + window
                while _texts(self._queue) < cap and (left := deadline - time.monotonic()) > 0:
                    self._arrived.wait(left)
            batch = [self._queue.popleft()]
            size = len(batch[0].texts)
            while self._queue and size + len(self._queue[0].texts) <= cap:
                size += len(self._queue[0].texts)
                batch.append(self._queue.popleft())
        return batch


def _texts(requests: Sequence[_Request] | deque[_Request]) -> int:
    return sum(len(request.texts) for request in requests)


def batching_encoder(inner: Encoder, batching: QueryBatching) -> Encoder:
    """`inner` wrapped in a `BatchingEncoder`, or `inner` itself when batching is off (cap 1)."""
    return BatchingEncoder(inner, batching) if batching.enabled else inner


def batching_of(settings: Settings) -> QueryBatching:
    """How questions are batched with these settings (SANAD_QUERY_BATCH, SANAD_QUERY_BATCH_WINDOW_MS)."""
    return QueryBatching(cap=settings.query_batch, window=settings.query_batch_window_ms / 1000.0)
