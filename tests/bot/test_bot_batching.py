"""Many chats asking at once in the bot: more questions wait for the model together than a
batch holds (the engine threads are not the batch cap), they are embedded in batches of at
most SANAD_QUERY_BATCH, and each chat gets the answer it would get alone."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bot_harness import TOKEN, BotThread, open_chats, read_dev_questions

from bot.app import build_application, engine_threads
from bot.render import render_answer
from bot.settings import BotSettings
from embeddings import Encoder, IndexedLibrary, Settings
from embeddings.batching import BatchingEncoder, QueryBatching
from testkit.fake_telegram import FakeTelegram

DEV_QUESTIONS = read_dev_questions()
CAP = 2
CHATS = 5
HANG_SECONDS = 60.0  # only to turn a hang into a failure; nothing here is timed


class HoldingEncoder:
    """The real model; once armed, it holds its first question call until the others have
    queued behind it in the batcher (as when many chats ask at once), and records every call."""

    def __init__(self, inner: Encoder, waiting: int) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.waiting = waiting
        self.calls: list[list[str]] | None = None  # None: not armed
        self.batcher: BatchingEncoder | None = None
        pieces = getattr(inner, "word_pieces", None)
        if pieces is not None:  # the engine reads the tokenizer through it, as from the real model
            self.word_pieces = pieces

    def arm(self) -> None:
        """From now on, hold the first call and record every call."""
        self.calls = []

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.calls is None:
            return self.inner.encode_queries(texts)
        self.calls.append(list(texts))
        if len(self.calls) == 1 and self.batcher is not None:
            deadline = time.monotonic() + HANG_SECONDS
            while self.batcher.queued < self.waiting and time.monotonic() < deadline:
                time.sleep(0.01)
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.inner.encode_passages(texts, progress=progress)


def test_more_chats_than_a_batch_holds_are_embedded_in_capped_batches_and_each_answered(
    library: IndexedLibrary, engine_settings: Settings, real_encoder: Encoder, tmp_path: Path
) -> None:
    holding = HoldingEncoder(real_encoder, waiting=CHATS - 1)
    holding.batcher = BatchingEncoder(holding, QueryBatching(cap=CAP, window=0.0))
    capped = IndexedLibrary.open(engine_settings, encoder=holding.batcher, log=logging.getLogger("tests.capped").info)
    token = TOKEN.replace("123456789", "223456789")
    with FakeTelegram(token) as fake:
        settings = BotSettings(token=token, api_base_url=fake.url)
        application = build_application(settings, lambda: capped, open_chats(tmp_path), workers=engine_threads(CAP))
        bot = BotThread(application, fake, settings).start()
        try:
            questions = {9_000 + n: DEV_QUESTIONS[n].q for n in range(CHATS)}
            holding.arm()
            fake.send_texts(questions)
            fake.wait_until(lambda: all(fake.messages_by_chat(questions).values()), HANG_SECONDS, "every answer")
            for chat, question in questions.items():
                expected = render_answer(library.ask(question))
                assert [sent.text for sent in fake.wait_for_messages(chat, len(expected), settle=0)] == expected
        finally:
            bot.stop()
    calls = holding.calls or []
    assert sum(len(call) for call in calls) == CHATS  # each question embedded once
    assert max(len(call) for call in calls) == CAP  # four waited together, two a batch
