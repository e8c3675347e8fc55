"""Helpers of the bot tests: paths, dev questions, the RTL check, the replies' text, and a bot run in a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from shared_data import read_jsonl
from telegram.ext import Application

from bot.app import build_application, run, run_polling
from bot.redact import quiet_http_libraries
from bot.settings import BotSettings, Listen, Webhook
from embeddings import ChatCollections, ChatLimits, ChatStore, IndexedLibrary, PostgresChatStore, SQLiteChatStore
from embeddings.fetch import FetchPolicy
from testkit.fake_telegram import FakeTelegram, Sent

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTICLES_DIR = PROJECT_ROOT / "data" / "articles"
TOKEN = "123456789:TEST-token_for_the_fake_server_0123456"
WEBHOOK_SECRET = "test-webhook-secret_0123456789abcdef"
WEBHOOK_PATH = "/telegram/hook"


@dataclass(frozen=True)
class DevQuestion:
    """A question about the shipped article and a piece of text a correct quote contains."""

    q: str
    must: str


def read_dev_questions() -> list[DevQuestion]:
    """The 12 dev questions (../shared/eval/seed_dev_questions.jsonl); without it the calling
    module is skipped."""
    return [DevQuestion(q=item["q"], must=item["must"]) for item in read_jsonl("seed_dev_questions.jsonl")]


def first_strong_direction(text: str) -> str | None:
    """The bidi class (L, R or AL) of the first strongly directional character, if any."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("L", "R", "AL"):
            return direction
    return None


def is_rtl(text: str) -> bool:
    """True when Telegram would lay `text` out right to left (first strong character is RTL)."""
    return first_strong_direction(text) in ("R", "AL")


def plain(replies: list[Sent]) -> str:
    """The visible text of the bot's replies, one after another."""
    return "\n".join(sent.plain for sent in replies)


class BotThread:
    """A real Application long-polling a fake server (or, given `settings` with a webhook,
    serving it) from its own thread and event loop."""

    def __init__(self, application: Application, fake: FakeTelegram, settings: BotSettings | None = None) -> None:
        self.application = application
        self.fake = fake
        self.settings = settings
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="bot", daemon=True)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            if self.settings is not None:
                run(self.application, self.settings, stop_signals=None)
            else:
                run_polling(self.application, stop_signals=None)
        except Exception as exc:  # noqa: BLE001 - handed to the test thread by start() / stop()
            self.error = exc

    def start(self, timeout: float = 120.0) -> BotThread:
        """Start, and return once the bot polls for updates, or its /healthz says 200 (post_init has run)."""
        self._thread.start()
        listen = self.settings.listen if self.settings is not None else None
        if self.settings is None or self.settings.webhook is None:
            self.fake.wait_until(lambda: self.fake.calls("getUpdates") or self.error, timeout, "the bot to poll")
        if listen is not None:
            wait_healthy(f"http://{listen}", timeout, lambda: self.error is not None)
        if self.error is not None:
            raise self.error
        return self

    def stop(self) -> None:
        """Ask the application to stop, as a signal would, and wait for it."""
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.application.stop_running)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the bot did not stop within 30 s"
        if self.error is not None:
            raise self.error


def wait_healthy(base_url: str, timeout: float, given_up: Callable[[], bool] = lambda: False) -> None:
    """Return once GET {base_url}/healthz answers 200 (or `given_up()`); else fail saying what it said."""
    deadline, said = time.monotonic() + timeout, "nothing"
    while time.monotonic() < deadline and not given_up():
        try:
            response = httpx.get(f"{base_url}/healthz", timeout=5)
        except httpx.TransportError as exc:
            said = repr(exc)
        else:
            if response.status_code == 200:
                return
            said = f"{response.status_code} {response.text}"
        time.sleep(0.1)
    if not given_up():
        raise AssertionError(f"{base_url}/healthz did not say 200 within {timeout} s; last: {said}")


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now (the bot binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_settings(fake: FakeTelegram) -> BotSettings:
    """Settings of a bot in webhook mode against `fake`, on a free port of 127.0.0.1; "typing"
    at once, so that a test may hold it to catch the bot inside an update."""
    port = free_port()
    webhook = Webhook(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", WEBHOOK_SECRET)
    return BotSettings(fake.token, fake.url, webhook=webhook, listen=Listen("127.0.0.1", port), typing_after=0.0)


def open_chats(
    folder: Path, limits: ChatLimits | None = None, database_url: str | None = None
) -> Callable[[IndexedLibrary], ChatCollections]:
    """What build_application calls to open the chats' collections: a store and index folders
    in `folder` (the store in PostgreSQL at `database_url` when given)."""

    def open_them(library: IndexedLibrary) -> ChatCollections:
        store: ChatStore = PostgresChatStore(database_url) if database_url else SQLiteChatStore(folder / "sanad.db")
        return ChatCollections(store, library, folder / "chats", limits=limits or ChatLimits())

    return open_them


def start_bot(
    fake: FakeTelegram,
    library: IndexedLibrary,
    folder: Path,
    *,
    admins: frozenset[int] = frozenset(),
    policy: FetchPolicy | None = None,
    limits: ChatLimits | None = None,
    database_url: str | None = None,
) -> BotThread:
    """Run the bot against `fake`, answering from `library` and the chats' store in `folder`
    (or in PostgreSQL at `database_url`)."""
    settings = BotSettings(token=fake.token, api_base_url=fake.url, admin_user_ids=admins)
    return start_bot_with(settings, fake, library, folder, policy=policy, limits=limits, database_url=database_url)


def start_bot_with(
    settings: BotSettings,
    fake: FakeTelegram,
    library: IndexedLibrary,
    folder: Path,
    *,
    policy: FetchPolicy | None = None,
    limits: ChatLimits | None = None,
    database_url: str | None = None,
) -> BotThread:
    """Run the bot with these settings (polling, or webhook mode when they give a webhook)."""
    quiet_http_libraries()
    application = build_application(settings, lambda: library, open_chats(folder, limits, database_url), policy)
    return BotThread(application, fake, settings).start()
