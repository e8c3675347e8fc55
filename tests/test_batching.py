"""Micro-batching of questions (embeddings/batching.py): callers asking at the same moment are
embedded in one model call, each gets exactly its own vectors, a model error reaches only the
callers of the failing batch, and a lone question goes to the model at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from fake_encoder import FakeEncoder
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings import Encoder, Settings
from embeddings.batching import BatchingEncoder, QueryBatching, batching_encoder
from embeddings.errors import SettingsError

JOIN_SECONDS = 60.0  # only to turn a hang into a failure; nothing here is timed


class GatedEncoder:
    """An encoder that holds its first question call until released (so that others queue
    behind it, as when 30 chats ask at once), records every call, and fails on request."""

    def __init__(self, inner: Encoder, fail_on: str | None = None) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.fail_on = fail_on
        self.calls: list[list[str]] = []
        self.callers: list[int] = []
        self.entered = threading.Event()
        self.gate = threading.Event()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.callers.append(threading.get_ident())
        if len(self.calls) == 1:
            self.entered.set()
            self.gate.wait()
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError(f"the model failed on {self.fail_on!r}")
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.inner.encode_passages(texts, progress=progress)


class Caller:
    """A thread asking for the vectors of its texts; keeps what it got (rows or error)."""

    def __init__(self, encoder: Encoder, texts: list[str]) -> None:
        self.texts = texts
        self.rows: np.ndarray | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._ask, args=(encoder,), daemon=True)
        self.thread.start()

    def _ask(self, encoder: Encoder) -> None:
        try:
            self.rows = encoder.encode_queries(self.texts)
        except Exception as exc:  # noqa: BLE001 - kept for the test to check who got which error
            self.error = exc

    def join(self) -> Caller:
        self.thread.join(JOIN_SECONDS)
        assert not self.thread.is_alive(), f"the caller of {self.texts} never got an answer"
        return self


def wait_until(condition: Callable[[], bool]) -> None:
    """Wait (without a deadline that matters) until `condition()` holds."""
    event = threading.Event()
    for _ in range(int(JOIN_SECONDS * 1000)):
        if condition():
            return
        event.wait(0.001)
    raise AssertionError("the callers never queued")


def ask_while_busy(
    batcher: BatchingEncoder, gated: GatedEncoder, first: list[str], others: list[list[str]]
) -> tuple[Caller, list[Caller]]:
    """`first` is asked and held in the model; `others` ask meanwhile and queue; then the model
    is let go. Returns every caller, answered."""
    lead = Caller(batcher, first)
    assert gated.entered.wait(JOIN_SECONDS)
    rest: list[Caller] = []
    for texts in others:  # one at a time, so that they queue in this order
        rest.append(Caller(batcher, texts))
        wait_until(lambda: batcher.queued == len(rest))
    gated.gate.set()
    return lead.join(), [caller.join() for caller in rest]


WORDS = st.sampled_from(["بوتين", "صاروخ", "يارس", "الأمن", "روسيا", "تدريبات", "قمة", "Moscow"])
TEXTS = st.lists(st.lists(WORDS, min_size=1, max_size=5).map(" ".join), min_size=1, max_size=3)


@settings(max_examples=30, deadline=None)
@given(first=TEXTS, others=st.lists(TEXTS, min_size=1, max_size=12), cap=st.integers(1, 8))
def test_each_caller_gets_exactly_its_own_vectors(first: list[str], others: list[list[str]], cap: int) -> None:
    fake = FakeEncoder()
    gated = GatedEncoder(fake)
    batcher = BatchingEncoder(gated, QueryBatching(cap=cap, window=0.0))
    lead, rest = ask_while_busy(batcher, gated, first, others)
    for caller in [lead, *rest]:
        assert caller.error is None
        assert caller.rows is not None
        np.testing.assert_array_equal(caller.rows, np.stack([fake.vector(t) for t in caller.texts]))
    # the queued questions went to the model in batches of at most `cap` texts (or one caller's)
    later = [len(call) for call in gated.calls[1:]]
    queued = [len(texts) for texts in others]
    assert sum(later) == sum(queued)
    assert max(later) <= max(cap, *queued)
    if sum(queued) <= cap:
        assert len(later) == 1  # everyone who asked while the model was busy, in one call


def test_a_model_error_reaches_only_the_callers_of_the_failing_batch() -> None:
    fake = FakeEncoder()
    gated = GatedEncoder(fake, fail_on="قمة")
    batcher = BatchingEncoder(gated, QueryBatching(cap=2, window=0.0))
    lead, (bad, beside_bad, later, last) = ask_while_busy(
        batcher, gated, ["بوتين"], [["قمة"], ["صاروخ"], ["يارس"], ["الأمن"]]
    )
    assert gated.calls == [["بوتين"], ["قمة", "صاروخ"], ["يارس", "الأمن"]]
    assert isinstance(bad.error, RuntimeError) and isinstance(beside_bad.error, RuntimeError)
    for caller in (lead, later, last):
        assert caller.error is None and caller.rows is not None
        np.testing.assert_array_equal(caller.rows[0], fake.vector(caller.texts[0]))
    again = Caller(batcher, ["روسيا"]).join()  # the batcher is not left stuck after an error
    assert again.error is None


def test_a_lone_question_goes_to_the_model_at_once_in_its_own_thread() -> None:
    fake = FakeEncoder()
    gated = GatedEncoder(fake)
    gated.gate.set()
    # a window long enough that a batcher gathering for a lone question would fail the join
    batcher = BatchingEncoder(gated, QueryBatching(cap=32, window=3600.0))
    first = Caller(batcher, ["بوتين"]).join()
    second = Caller(batcher, ["صاروخ يارس"]).join()
    assert gated.calls == [["بوتين"], ["صاروخ يارس"]]
    assert gated.callers == [first.thread.ident, second.thread.ident]
    assert first.rows is not None and second.rows is not None


def test_batching_keeps_the_encoder_it_wraps_visible() -> None:
    fake = FakeEncoder(name="fake-name", dim=32)
    batcher = BatchingEncoder(fake)
    assert (batcher.name, batcher.dim) == ("fake-name", 32)
    assert not hasattr(batcher, "word_pieces")  # the fake has no tokenizer: the engine must see none
    assert batcher.encode_queries([]).shape == (0, 32)
    np.testing.assert_array_equal(batcher.encode_passages(["قمة"]), fake.encode_passages(["قمة"]))
    assert batching_encoder(fake, QueryBatching(cap=1)) is fake


def test_real_model_vectors_are_the_same_batched_or_alone(real_encoder: Encoder) -> None:
    questions = [
        "ما اسم وزير الدفاع الروسي؟",
        "من أين أطلق صاروخ يارس؟",
        "متى عقد الاجتماع الثامن عشر لرؤساء أجهزة الأمن والاستخبارات في رابطة الدول المستقلة؟",
        "ما الطائرات التي شاركت؟",
        "Who is the Russian defence minister?",
    ]
    gated = GatedEncoder(real_encoder)
    batcher = BatchingEncoder(gated, QueryBatching(cap=32, window=0.0))
    lead, rest = ask_while_busy(batcher, gated, [questions[0]], [[q] for q in questions[1:]])
    assert len(gated.calls) == 2 and len(gated.calls[1]) == len(questions) - 1  # padded to the longest
    pieces = getattr(real_encoder, "word_pieces", None)
    assert pieces is not None and BatchingEncoder(real_encoder).word_pieces("شويجو") == pieces("شويجو")
    for caller in [lead, *rest]:
        assert caller.rows is not None
        np.testing.assert_allclose(caller.rows, real_encoder.encode_queries(caller.texts), atol=1e-5)


@pytest.mark.parametrize(
    ("env", "cap", "window_ms"),
    [({}, 8, 2), ({"SANAD_QUERY_BATCH": "1"}, 1, 2), ({"SANAD_QUERY_BATCH_WINDOW_MS": "0"}, 8, 0)],
)
def test_batching_settings_are_read_once(env: dict[str, str], cap: int, window_ms: int) -> None:
    settings = Settings.from_env(env)
    assert (settings.query_batch, settings.query_batch_window_ms) == (cap, window_ms)


@pytest.mark.parametrize(
    ("env", "named"),
    [({"SANAD_QUERY_BATCH": "0"}, "SANAD_QUERY_BATCH"), ({"SANAD_QUERY_BATCH_WINDOW_MS": "5s"}, "WINDOW_MS")],
)
def test_bad_batching_settings_name_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)
