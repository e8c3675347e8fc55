"""Shared fixtures: the real library and engine (built once), the fake Bot API server and a running bot."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator

import pytest
from bot_harness import ARTICLES_DIR, TOKEN, BotThread, start_bot

from embeddings import IndexedLibrary, Settings
from embeddings.model import Encoder
from testkit.fake_telegram import FakeTelegram, Sent


@pytest.fixture(scope="session")
def engine_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Core settings: the project's articles, a fresh index folder, the usual model cache."""
    return Settings(
        articles_dir=ARTICLES_DIR,
        index_dir=tmp_path_factory.mktemp("index"),
        model_cache=Settings().model_cache,
    )


@pytest.fixture(scope="session")
def library(engine_settings: Settings, real_encoder: Encoder) -> IndexedLibrary:
    """The shipped library with the session's real model, opened (and its index built) once."""
    return IndexedLibrary.open(engine_settings, encoder=real_encoder, log=logging.getLogger("tests.library").info)


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeTelegram]:
    """The session's fake Bot API server."""
    with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture(scope="session")
def running_bot(
    fake: FakeTelegram, library: IndexedLibrary, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotThread]:
    """The bot, running for the whole session against `fake`."""
    bot_thread = start_bot(fake, library, tmp_path_factory.mktemp("chats"))
    yield bot_thread
    bot_thread.stop()


@pytest.fixture(scope="session")
def _chat_numbers() -> Iterator[int]:
    return itertools.count(1001)


@pytest.fixture
def new_chat(_chat_numbers: Iterator[int]) -> Callable[..., int]:
    """A fresh chat id for each call: positive for a private chat, negative for a group."""

    def make(group: bool = False) -> int:
        number = next(_chat_numbers)
        return -(10**12 + number) if group else number

    return make


@pytest.fixture
def ask(fake: FakeTelegram, running_bot: BotThread) -> Callable[..., list[Sent]]:
    """Send a text in a chat and return the bot's messages to that chat once they arrived."""

    def send(chat_id: int, text: str, count: int = 1, **options: object) -> list[Sent]:
        before = len(fake.messages_to(chat_id))
        fake.send_text(chat_id, text, **options)
        return fake.wait_for_messages(chat_id, before + count)[before:]

    return send
