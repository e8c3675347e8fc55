"""Each chat's own articles, end to end: the real bot and model, pages from a real HTTP server
on 127.0.0.1 (private addresses allowed), the one fake Bot API, a real SQLite store on disk.

Isolation is a security property, so several tests try to reach chat A's article from chat B:
by asking, through /sources, by typing its number into /forget, and by pressing A's buttons.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_harness import PROJECT_ROOT, BotThread, is_rtl, plain, read_dev_questions, start_bot

from bot import messages
from bot.render import to_plain
from bot.views import render_limit
from embeddings import ChatLimits, IndexedLibrary, LimitError, PostgresChatStore
from embeddings.fetch import FetchPolicy
from testkit.fake_telegram import BOT_USERNAME, FakeTelegram, Sent
from tests.fetch_server import TITLE, FetchTestServer

SATELLITE = (PROJECT_ROOT / "tests" / "data" / "weather-satellite.ar.txt").read_text(encoding="utf-8")
WATER_QUESTION = "ما الطاقة الإنتاجية لمحطة تحلية مياه البحر الجديدة؟"
WATER_ANSWER = "مئة وخمسين ألف متر مكعب"
SATELLITE_QUESTION = "كم تبلغ كلفة مشروع القمر الصناعي؟"
SATELLITE_ANSWER = "خمسة وأربعين مليون دولار"
MINISTER = next(d for d in read_dev_questions() if "وزير الدفاع" in d.q)
ADDED = "جاهز: أضفت المقال إلى مقالاتك: "
CHANNEL_POST = {"type": "channel", "chat": {"id": -1009, "type": "channel", "title": "قناة", "username": "news_ar"}}

_tokens = iter(range(100, 1000))


@pytest.fixture
def chat_ids() -> Iterator[int]:
    """Fresh chat ids: every test talks in chats no other test used."""
    return iter(range(10_000 * next(_tokens), 10_000 * next(_tokens)))


class Bot:
    """A running bot with its own fake Bot API and store folder."""

    def __init__(
        self, library: IndexedLibrary, folder: Path, limits: ChatLimits | None = None, database_url: str | None = None
    ) -> None:
        self.library, self.folder, self.limits, self.database_url = library, folder, limits, database_url
        self.fake = FakeTelegram(f"{next(_tokens)}001:chats-bot_token_for_the_fake_server").start()
        self.thread = self._start()

    def _start(self) -> BotThread:
        policy = FetchPolicy(allow_private=True)
        return start_bot(
            self.fake, self.library, self.folder, policy=policy, limits=self.limits, database_url=self.database_url
        )

    def restart(self) -> None:
        """Stop the application and build a new one on the same store and folders."""
        self.thread.stop()
        self.thread = self._start()

    def stop(self) -> None:
        self.thread.stop()
        self.fake.stop()

    def exchange(self, chat: int, send: Callable[[], object], count: int = 1) -> list[Sent]:
        before = len(self.fake.messages_to(chat))
        send()
        replies = self.fake.wait_for_messages(chat, before + count, timeout=90)[before:]
        assert replies and all(sent.parse_mode == "HTML" and is_rtl(sent.plain) for sent in replies), replies
        return replies

    def say(self, chat: int, text: str, user_id: int | None = None, count: int = 1) -> list[Sent]:
        return self.exchange(chat, lambda: self.fake.send_text(chat, text, user_id=user_id), count)

    def press(self, chat: int, data: str, message: Sent | None = None, user_id: int | None = None) -> str:
        """Press a button; returns the text of the callback answer."""
        query = self.fake.press_button(chat, data, message=message, user_id=user_id)
        self.fake.wait_until(lambda: self._answered(query) is not None, 30, "answerCallbackQuery")
        return str(self._answered(query) or "")

    def _answered(self, query: str) -> str | None:
        for call in self.fake.calls("answerCallbackQuery"):
            if call.params.get("callback_query_id") == query:
                return str(call.params.get("text", ""))
        return None

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(self.folder / "sanad.db")
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()


@pytest.fixture(scope="module")
def bot(library: IndexedLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    running = Bot(library, tmp_path_factory.mktemp("chats-bot"))
    yield running
    running.stop()


def button(replies: list[Sent], text: str) -> tuple[Sent, str]:
    """The message carrying the button whose text starts with `text`, and its data."""
    for sent in replies:
        for label, data in sent.buttons:
            if label.startswith(text):
                return sent, data
    raise AssertionError(f"no button {text!r} in {[s.buttons for s in replies]}")


def add_page(bot: Bot, chat: int, pages: FetchTestServer, user_id: int | None = None) -> Sent:
    [reply] = bot.say(chat, f"{pages.base_url}/article", user_id=user_id)
    assert reply.plain.startswith(ADDED), reply.plain
    return reply


# --- adding and asking -------------------------------------------------------------------------


def test_a_link_is_added_and_a_question_about_it_is_answered_quoting_it(
    bot: Bot, pages: FetchTestServer, chat_ids: Iterator[int]
) -> None:
    chat = next(chat_ids)
    reply = add_page(bot, chat, pages)
    assert TITLE in reply.plain and "عدد فقراته 7" in reply.plain and reply.entity_texts("code") == ["1"]
    assert any(c.params["chat_id"] == chat and c.params["action"] == "typing" for c in bot.fake.calls("sendChatAction"))
    answer = bot.say(chat, WATER_QUESTION)
    assert answer[0].plain.startswith(f"من المقال: {TITLE}") and WATER_ANSWER in plain(answer)
    # quoted: in the bold lead (one sentence or two) or in a passage's block quote
    assert any(WATER_ANSWER in text for text in [*answer[0].quotes, *answer[0].entity_texts("bold")])


def test_another_chat_is_never_answered_from_it(bot: Bot, pages: FetchTestServer, chat_ids: Iterator[int]) -> None:
    a, b, group = next(chat_ids), next(chat_ids), -next(chat_ids)
    add_page(bot, a, pages)
    words = "محطة تحلية مياه البحر الساحل الجنوبي"
    for chat, text in ((b, WATER_QUESTION), (b, words), (group, f"/ask {WATER_QUESTION}")):
        replies = bot.say(chat, text)
        assert WATER_ANSWER not in plain(replies) and TITLE not in plain(replies), text
        assert plain(replies) == to_plain(messages.NOT_FOUND)


def test_sources_and_forget_in_another_chat_do_not_reach_it(
    bot: Bot, pages: FetchTestServer, chat_ids: Iterator[int]
) -> None:
    a, b = next(chat_ids), next(chat_ids)
    add_page(bot, a, pages)
    listing = plain(bot.say(b, "/sources"))
    assert TITLE not in listing and to_plain(messages.NO_OWN_ARTICLES) in listing
    [refused] = bot.say(b, "/forget 1")
    assert refused.plain == to_plain(messages.UNKNOWN_OWN.format(id="1"))
    assert bot.say(b, "/forget all")[0].plain == to_plain(messages.NOTHING_TO_FORGET)
    assert bot.rows("SELECT count(*) FROM articles WHERE owner = ?", a) == [(1,)]
    assert WATER_ANSWER in plain(bot.say(a, WATER_QUESTION))


def test_a_forged_button_with_another_chats_token_is_refused(
    bot: Bot, pages: FetchTestServer, chat_ids: Iterator[int]
) -> None:
    a, b = next(chat_ids), next(chat_ids)
    add_page(bot, a, pages)
    sources = bot.say(a, "/sources")
    _, forget = button(sources, messages.FORGET_BUTTON.format(title="")[:5])
    _, focus = button(sources, messages.ASK_ABOUT_BUTTON.format(title="")[:5])
    assert all(len(data.encode()) <= 64 for sent in sources for _, data in sent.buttons)
    for data in (forget, focus, "act:" + forget.removeprefix("act:")[:-1] + "x"):
        assert bot.press(b, data) == messages.BUTTON_REFUSED
    time.sleep(0.5)
    assert bot.fake.messages_to(b) == [] and bot.rows("SELECT count(*) FROM articles WHERE owner = ?", a) == [(1,)]
    assert bot.rows("SELECT focus FROM chats WHERE chat_id = ?", b) == []


def test_a_pasted_text_and_a_forwarded_post_are_added(bot: Bot, chat_ids: Iterator[int]) -> None:
    chat = next(chat_ids)
    [pasted] = bot.say(chat, SATELLITE)
    assert pasted.plain.startswith(ADDED + "وكالة الفضاء الوطنية تطلق")
    assert SATELLITE_ANSWER in plain(bot.say(chat, SATELLITE_QUESTION))
    post = "\n".join(line for line in SATELLITE.splitlines()[1:] if line) + "\nتابعوا قناتنا."
    forwarded = {"text": post, "forward_origin": {**CHANNEL_POST, "message_id": 42, "date": int(time.time())}}
    [added] = bot.exchange(chat, lambda: bot.fake.send_other(chat, forwarded))
    assert added.plain.startswith(ADDED) and added.entity_texts("code") == ["2"]
    assert "https://t.me/news_ar/42" in plain(bot.say(chat, "/sources"))


def test_a_short_message_or_a_run_of_questions_is_a_question(bot: Bot, chat_ids: Iterator[int]) -> None:
    chat = next(chat_ids)
    assert MINISTER.must in plain(bot.say(chat, MINISTER.q))
    many = " ".join([MINISTER.q] * 25)  # long, many sentences, all questions
    assert len(many) > 400 and MINISTER.must in plain(bot.say(chat, many))
    assert bot.rows("SELECT count(*) FROM articles WHERE owner = ?", chat) == [(0,)]


# --- focus -------------------------------------------------------------------------------------


def test_focus_miss_offers_to_search_everything(bot: Bot, pages: FetchTestServer, chat_ids: Iterator[int]) -> None:
    chat = next(chat_ids)
    add_page(bot, chat, pages)
    [miss] = bot.say(chat, MINISTER.q)
    assert miss.plain == to_plain(messages.FOCUS_MISS.format(title=TITLE)) and not miss.quotes
    message, data = button([miss], messages.SEARCH_ALL_BUTTON)
    before = len(bot.fake.messages_to(chat))
    bot.press(chat, data, message)
    replies = bot.fake.wait_for_messages(chat, before + 1)[before:]
    assert MINISTER.must in plain(replies) and not replies[0].plain.startswith("من المقال")


def test_sources_lists_both_marks_the_focus_and_picks_another(
    bot: Bot, pages: FetchTestServer, library: IndexedLibrary, chat_ids: Iterator[int]
) -> None:
    chat = next(chat_ids)
    add_page(bot, chat, pages)
    sources = bot.say(chat, "/sources")
    listing = plain(sources)
    shared_title = library.articles[0].title
    assert listing.index(messages.SHARED_LABEL) < listing.index(shared_title) < listing.index(messages.OWN_LABEL)
    assert listing.index(TITLE) < listing.index(messages.FOCUS_MARK)
    message, data = button(sources, messages.ASK_ABOUT_BUTTON.format(title=shared_title[:10]))
    before = len(bot.fake.messages_to(chat))
    bot.press(chat, data, message)
    [picked] = bot.fake.wait_for_messages(chat, before + 1)[before:]
    assert picked.plain.startswith(to_plain(messages.FOCUS_SET.format(title=shared_title))[:20])
    answer = plain(bot.say(chat, MINISTER.q))
    assert answer.startswith(f"من المقال: {shared_title}") and MINISTER.must in answer


# --- forgetting ----------------------------------------------------------------------------------


def db_files(bot: Bot) -> list[Path]:
    return sorted(bot.folder.glob("sanad.db*"))


def test_forget_removes_the_rows_the_vectors_and_the_folder(
    bot: Bot, pages: FetchTestServer, chat_ids: Iterator[int]
) -> None:
    chat = next(chat_ids)
    add_page(bot, chat, pages)
    folder = bot.folder / "chats" / f"chat{chat}"
    assert (folder / "index" / "manifest.json").is_file()
    [forgot] = bot.say(chat, "/forget 1")
    assert forgot.plain.startswith("حذفت المقال: ") and TITLE in forgot.plain
    assert not folder.exists() and bot.rows("SELECT count(*) FROM articles WHERE owner = ?", chat) == [(0,)]
    assert all("محطة جديدة لتحلية".encode() not in p.read_bytes() for p in db_files(bot)) or _others_hold_it(bot)
    assert plain(bot.say(chat, WATER_QUESTION)) == to_plain(messages.NOT_FOUND)


def _others_hold_it(bot: Bot) -> bool:
    """Other tests' chats may hold the same page: then the text is rightly still in the file."""
    return bool(bot.rows("SELECT count(*) FROM articles WHERE text LIKE '%محطة جديدة لتحلية%'")[0][0])


def test_forget_all_asks_first_then_leaves_nothing(bot: Bot, pages: FetchTestServer, chat_ids: Iterator[int]) -> None:
    chat = next(chat_ids)
    marker = SATELLITE.replace("وكالة الفضاء الوطنية", "وكالة الفضاء البعيدة")
    add_page(bot, chat, pages)
    assert bot.say(chat, marker)[0].plain.startswith(ADDED)
    [confirm] = bot.say(chat, "/forget all")
    assert confirm.plain == to_plain(messages.FORGET_ALL_CONFIRM.format(count=2))
    assert bot.rows("SELECT count(*) FROM articles WHERE owner = ?", chat) == [(2,)]
    message, data = button([confirm], messages.CONFIRM_FORGET_ALL_BUTTON)
    before = len(bot.fake.messages_to(chat))
    bot.press(chat, data, message)
    [done] = bot.fake.wait_for_messages(chat, before + 1)[before:]
    assert done.plain == to_plain(messages.FORGOT_ALL.format(count=2))
    assert bot.rows("SELECT count(*) FROM chats WHERE chat_id = ?", chat) == [(0,)]
    assert not (bot.folder / "chats" / f"chat{chat}").exists()
    assert all("وكالة الفضاء البعيدة".encode() not in p.read_bytes() for p in db_files(bot))
    assert bot.press(chat, data, message) == messages.BUTTON_REFUSED  # the token went with the chat


# --- groups ------------------------------------------------------------------------------------


def test_group_admins_add_and_forget_members_ask(bot: Bot, pages: FetchTestServer, chat_ids: Iterator[int]) -> None:
    group, owner, admin, member = -next(chat_ids), next(chat_ids), next(chat_ids), next(chat_ids)
    bot.fake.set_admins(group, owner, admin)
    link = f"@{BOT_USERNAME} {pages.base_url}/article"
    [refused] = bot.say(group, link, user_id=member)
    assert refused.plain == to_plain(messages.GROUP_ADMINS_ONLY)
    [added] = bot.say(group, link, user_id=admin)
    assert added.plain.startswith("جاهز: أضفت المقال إلى مقالات هذه المجموعة: ")
    assert WATER_ANSWER in plain(bot.say(group, f"@{BOT_USERNAME} {WATER_QUESTION}", user_id=member))
    assert bot.say(group, f"/forget@{BOT_USERNAME} 1", user_id=member)[0].plain == to_plain(messages.GROUP_ADMINS_ONLY)
    sources = bot.say(group, "/sources", user_id=member)
    assert not [b for b in sources[-1].buttons if b[0].startswith("احذف")]  # no forget buttons for members
    sources = bot.say(group, "/sources", user_id=owner)
    message, data = button(sources, messages.FORGET_BUTTON.format(title="")[:5])
    assert bot.press(group, data, message, user_id=member) == messages.BUTTON_ADMINS_ONLY
    assert bot.rows("SELECT count(*) FROM articles WHERE owner = ?", group) == [(1,)]
    assert bot.say(group, f"/forget@{BOT_USERNAME} 1", user_id=owner)[0].plain.startswith("حذفت المقال: ")
    assert WATER_ANSWER not in plain(bot.say(member, WATER_QUESTION))  # the member's own chat never saw it


# --- limits --------------------------------------------------------------------------------------


def test_limits_refuse_and_say_which(library: IndexedLibrary, pages: FetchTestServer, tmp_path: Path) -> None:
    limited = Bot(library, tmp_path, ChatLimits(articles_per_chat=1, adds_per_hour=2))
    try:
        chat = 42
        add_page(limited, chat, pages)
        [full] = limited.say(chat, SATELLITE)
        assert full.plain == to_plain(render_limit(LimitError("articles_per_chat", 1, "")))
        assert "/forget" in full.plain and "1" in full.plain
        limited.say(chat, "/forget 1")
        assert limited.say(chat, SATELLITE)[0].plain.startswith(ADDED)
        limited.say(chat, "/forget 2")
        [hourly] = limited.say(chat, f"{pages.base_url}/article")
        assert hourly.plain == to_plain(render_limit(LimitError("adds_per_hour", 2, "")))
        limited.restart()  # the counter is on disk
        assert limited.say(chat, SATELLITE)[0].plain == hourly.plain
    finally:
        limited.stop()


# --- restart -------------------------------------------------------------------------------------


def test_after_a_restart_the_chat_still_has_its_article_and_focus(
    library: IndexedLibrary, pages: FetchTestServer, tmp_path: Path
) -> None:
    restarting = Bot(library, tmp_path)
    try:
        add_page(restarting, 7, pages)
        restarting.restart()
        answer = restarting.say(7, WATER_QUESTION)
        assert answer[0].plain.startswith(f"من المقال: {TITLE}") and WATER_ANSWER in plain(answer)
        assert messages.FOCUS_MARK in plain(restarting.say(7, "/sources"))
    finally:
        restarting.stop()


def test_with_postgresql_the_chat_keeps_its_article_focus_and_buttons_across_a_restart(
    library: IndexedLibrary, pages: FetchTestServer, tmp_path: Path, postgres_url: str
) -> None:
    restarting = Bot(library, tmp_path, database_url=postgres_url)
    try:
        add_page(restarting, 7, pages)
        listing = restarting.say(7, "/sources")
        restarting.restart()
        answer = restarting.say(7, WATER_QUESTION)
        assert answer[0].plain.startswith(f"من المقال: {TITLE}") and WATER_ANSWER in plain(answer)
        message, forget = button(listing, messages.FORGET_BUTTON.format(title="")[:5])
        before = len(restarting.fake.messages_to(7))
        restarting.press(7, forget, message)  # a button shown before the restart still works
        [done] = restarting.fake.wait_for_messages(7, before + 1)[before:]
        assert done.plain.startswith("حذفت المقال: ") and not (tmp_path / "sanad.db").exists()
    finally:
        restarting.stop()
    store = PostgresChatStore(postgres_url)
    assert store.articles(7) == [] and store.focus(7) is None
    store.close()


def test_a_focus_with_only_a_closest_passage_says_so_and_offers_everything(
    bot: Bot, pages: FetchTestServer, chat_ids: Iterator[int]
) -> None:
    chat = next(chat_ids)
    add_page(bot, chat, pages)
    replies = bot.say(chat, "من يملك المحطة؟")  # the article says who paid for it, not who owns it
    assert replies[0].plain.startswith(f"من المقال: {TITLE}\n\n{to_plain(messages.CLOSEST_INTRO)[:30]}")
    assert "الجواب" not in plain(replies)
    button(replies, messages.SEARCH_ALL_BUTTON)
