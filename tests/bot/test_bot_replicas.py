"""Two bots on one PostgreSQL database (SANAD_DATABASE_URL): what an admin adds to the shared
library through one is answered by the other within seconds, from vectors it read (never
embedded), and each bot follows the library's changes only while it runs.

Each bot opens its library as `python -m bot` does (`IndexedLibrary.open` in post_init), with
the session's real model behind an encoder that records what it embeds.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from bot_harness import BotThread, is_rtl, open_chats
from fake_encoder import RecordingEncoder
from polling import wait_until

from bot.app import build_application
from bot.redact import quiet_http_libraries
from bot.settings import BotSettings
from embeddings import IndexedLibrary, Settings
from embeddings.fetch import FetchPolicy
from embeddings.model import Encoder
from testkit.fake_telegram import FakeTelegram
from tests.fetch_server import TITLE, FetchTestServer

ADMIN, USER = 4242, 9001
WATER_QUESTION = "ما الطاقة الإنتاجية لمحطة تحلية مياه البحر الجديدة؟"


class Replica:
    """A bot with its own fake Bot API server, opening the shared library from the database."""

    def __init__(self, token: str, url: str, folder: Path, encoder: RecordingEncoder) -> None:
        self.encoder, self.opened = encoder, list[IndexedLibrary]()
        self.fake = FakeTelegram(token).start()
        settings = BotSettings(token=token, api_base_url=self.fake.url, admin_user_ids=frozenset({ADMIN}))
        core = Settings(database_url=url, chats_dir=folder / "chats", model_cache=Settings().model_cache)
        quiet_http_libraries()
        application = build_application(
            settings, partial(self._open, core), open_chats(folder, database_url=url), FetchPolicy(allow_private=True)
        )
        self.thread = BotThread(application, self.fake).start()

    def _open(self, core: Settings) -> IndexedLibrary:
        library = IndexedLibrary.open(core, encoder=self.encoder)
        self.opened.append(library)
        return library

    @property
    def library(self) -> IndexedLibrary:
        return self.opened[-1]

    def say(self, chat: int, text: str) -> str:
        before = len(self.fake.messages_to(chat))
        self.fake.send_text(chat, text, user_id=chat)
        replies = self.fake.wait_for_messages(chat, before + 1, timeout=60)[before:]
        assert all(is_rtl(sent.plain) for sent in replies)
        return "\n".join(sent.plain for sent in replies)

    def stop(self) -> None:
        self.thread.stop()
        self.fake.stop()


def test_an_article_added_on_one_bot_is_answered_by_the_other(
    postgres_url: str, tmp_path: Path, real_encoder: Encoder, pages: FetchTestServer
) -> None:
    token = "10020030{}:replica-{}_token_for_the_fake_server_00"
    a = Replica(token.format(0, "a"), postgres_url, tmp_path / "a", RecordingEncoder(real_encoder))
    b = Replica(token.format(1, "b"), postgres_url, tmp_path / "b", RecordingEncoder(real_encoder))
    try:
        assert wait_until(lambda: getattr(b.library.sync_status(), "listening", False), 10.0)
        url = f"{pages.base_url}/article"
        added = a.say(ADMIN, f"/add {url}")
        assert added.startswith("أضفت المقال: ") and TITLE in added
        assert wait_until(lambda: any(x.source == url for x in b.library.articles), 2.0)
        answer = b.say(USER, WATER_QUESTION)
        # alone in the library, the article's passage may be the closest rather than an answer: cited either way
        assert "مئة وخمسين ألف متر مكعب" in answer and TITLE in answer
        assert b.encoder.embedded == [] and a.encoder.embedded  # B read A's vectors
        [article] = b.library.articles
        assert b.say(ADMIN, f"/remove {article.id}")  # removed through B, gone from A too
        assert wait_until(lambda: a.library.articles == (), 2.0)
    finally:
        a.stop()
        b.stop()
    status = b.library.sync_status()
    assert status is not None and not status.listening and status.changes_applied == 2  # stopped with the bot
