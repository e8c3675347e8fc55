"""Growing the library from Telegram: /add, uploaded files, /remove and /sources, end to end.

The real bot and engine (real model) over a temporary copy of the library, pages from a real
HTTP server on 127.0.0.1, files through the fake Bot API's getFile and download route.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import get_args

import pytest
from bot_harness import ARTICLES_DIR, PROJECT_ROOT, BotThread, is_rtl, plain, read_dev_questions, start_bot
from fake_encoder import RecordingEncoder

from bot import messages
from bot.render import to_plain
from embeddings import Article, IndexedLibrary, Settings
from embeddings.errors import ExtractReason, FetchReason
from embeddings.fetch import FetchPolicy
from testkit.fake_telegram import BOT_USERNAME, FakeTelegram, Sent, parse_html
from tests.fetch_server import TITLE, FetchTestServer

ADMIN, USER = 4242, 777
SEED_ID = "putin-cis-critical-infrastructure.ar"
SATELLITE = PROJECT_ROOT / "tests" / "data" / "weather-satellite.ar.txt"
MINISTER = next(d for d in read_dev_questions() if "وزير الدفاع" in d.q)


def cites(reply: str, title: str) -> bool:
    """The reply cites the article as its first source: as the answer's or as the closest passage's."""
    answered = reply.startswith(f"{messages.ANSWER_LABEL}: «") and f"\n{messages.SOURCE_LABEL}: {title} — " in reply
    closest = f"\n\n{messages.CLOSEST_LABEL}: {title} — " in reply
    return answered or closest


WATER_QUESTION = "ما الطاقة الإنتاجية لمحطة تحلية مياه البحر الجديدة؟"
SATELLITE_QUESTION = "كم تبلغ كلفة مشروع القمر الصناعي؟"
SHORT_ARTICLE = (
    "# مهرجان الكتاب في المدينة القديمة\n\n"
    "افتتح محافظ المدينة مساء السبت الدورة العاشرة من مهرجان الكتاب في ساحة المدينة القديمة.\n\n"
    "ويشارك في المهرجان مئتا دار نشر من اثنتي عشرة دولة، ويستمر عشرة أيام.\n"
).encode()


@pytest.fixture(scope="module")
def library_settings(
    tmp_path_factory: pytest.TempPathFactory, engine_settings: Settings, library: IndexedLibrary
) -> Settings:
    """A copy of the library, and of the session's index of it (`library` built it): nothing is embedded twice."""
    folder = tmp_path_factory.mktemp("library")
    shutil.copytree(ARTICLES_DIR, folder / "articles")
    shutil.copytree(engine_settings.index_dir, folder / "index")
    return Settings(
        articles_dir=folder / "articles", index_dir=folder / "index", model_cache=engine_settings.model_cache
    )


@pytest.fixture(scope="module")
def admin_library(library_settings: Settings, library: IndexedLibrary) -> IndexedLibrary:
    return IndexedLibrary.open(library_settings, encoder=library.engine.encoder)


def _start(token: str, library: IndexedLibrary, policy: FetchPolicy, folder: Path) -> tuple[FakeTelegram, BotThread]:
    fake = FakeTelegram(token).start()
    return fake, start_bot(fake, library, folder, admins=frozenset({ADMIN}), policy=policy)


@pytest.fixture(scope="module")
def bot(
    admin_library: IndexedLibrary, pages: FetchTestServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeTelegram]:
    """A bot allowed to fetch from 127.0.0.1 (the test pages), with one admin."""
    token, policy = "111222333:library-bot_token_for_the_fake_server", FetchPolicy(allow_private=True)
    fake, thread = _start(token, admin_library, policy, tmp_path_factory.mktemp("chats"))
    yield fake
    thread.stop()
    fake.stop()


@pytest.fixture(scope="module")
def strict_bot(admin_library: IndexedLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeTelegram]:
    """A bot with the default policy: public addresses only."""
    token, folder = "444555666:strict-bot_token_for_the_fake_server_", tmp_path_factory.mktemp("chats")
    fake, thread = _start(token, admin_library, FetchPolicy(), folder)
    yield fake
    thread.stop()
    fake.stop()


def exchange(fake: FakeTelegram, chat: int, send: Callable[[], object], count: int = 1) -> list[Sent]:
    """Do `send` (a user's message) and return the bot's replies to that chat."""
    before = len(fake.messages_to(chat))
    send()
    replies = fake.wait_for_messages(chat, before + count, timeout=60)[before:]
    assert replies and all(sent.parse_mode == "HTML" and is_rtl(sent.plain) for sent in replies)
    return replies


def say(fake: FakeTelegram, chat: int, text: str, user_id: int | None = None) -> list[Sent]:
    return exchange(fake, chat, lambda: fake.send_text(chat, text, user_id=user_id))


def article_from(library: IndexedLibrary, source: str) -> Article:
    [article] = [a for a in library.articles if a.source == source]
    return article


# --- texts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "reasons"),
    [(messages.FETCH_REFUSALS, FetchReason), (messages.EXTRACT_REFUSALS, ExtractReason)],
    ids=["fetch", "extract"],
)
def test_every_refusal_reason_has_an_arabic_text(table: dict[str, str], reasons: object) -> None:
    assert set(table) == set(get_args(reasons))
    for text in table.values():
        shown, _ = parse_html(text)
        assert is_rtl(shown) and shown.startswith(to_plain(messages.REFUSED_PREFIX))


# --- who may change the library ----------------------------------------------------------------


def test_non_admins_change_their_own_articles_not_the_shared_library(
    bot: FakeTelegram, admin_library: IndexedLibrary, pages: FetchTestServer
) -> None:
    before = admin_library.articles
    for text in (f"/remove {SEED_ID}", "/remove", "/share 1"):
        [reply] = say(bot, USER, text)
        assert reply.plain == to_plain(messages.ADMIN_ONLY), text
    assert say(bot, USER, "/add")[0].plain == to_plain(messages.ADD_USAGE)
    [added] = say(bot, USER, f"/add {pages.base_url}/article")
    [uploaded] = exchange(bot, USER, lambda: bot.send_document(USER, "satellite.txt", SATELLITE.read_bytes()))
    assert added.plain.startswith("جاهز: أضفت المقال إلى مقالاتك: ") and TITLE in added.plain
    assert uploaded.plain.startswith("جاهز: أضفت المقال إلى مقالاتك: ") and "/forget 2" in uploaded.plain
    assert admin_library.articles == before


def test_help_lists_the_admin_commands_to_admins_only(bot: FakeTelegram) -> None:
    [admin_help] = say(bot, ADMIN, "/help")
    [user_help] = say(bot, USER, "/help")
    assert "/add" in admin_help.plain and "/remove" in admin_help.plain
    assert user_help.plain == to_plain(messages.HELP) and "/remove" not in user_help.plain


# --- adding --------------------------------------------------------------------------------------


def test_admin_adds_a_page_and_its_answers_cite_it(
    bot: FakeTelegram, admin_library: IndexedLibrary, pages: FetchTestServer
) -> None:
    url = f"{pages.base_url}/article"
    [reply] = say(bot, ADMIN, f"/add {url}")
    article = article_from(admin_library, url)
    assert reply.plain.startswith("أضفت المقال: ") and article.title in reply.plain and article.id in reply.plain
    assert reply.entity_texts("code") == [article.id] and TITLE in article.title
    answer = plain(say(bot, 5001, WATER_QUESTION))
    assert "مئة وخمسين ألف متر مكعب" in answer and cites(answer, article.title)
    sources = plain(say(bot, 5001, "/sources"))
    assert article.id in sources and article.title in sources and url in sources and SEED_ID in sources


def test_the_same_page_again_is_already_present(
    bot: FakeTelegram, admin_library: IndexedLibrary, pages: FetchTestServer
) -> None:
    url = f"{pages.base_url}/article"
    if not any(a.source == url for a in admin_library.articles):
        say(bot, ADMIN, f"/add {url}")
    count = len(admin_library.articles)
    for again in (url, f"{pages.base_url}/chain/2"):  # the same URL; a redirect to the same text
        [reply] = say(bot, ADMIN, f"/add {again}")
        assert reply.plain.startswith("هذا المقال موجود من قبل"), again
    assert len(admin_library.articles) == count


def test_admin_uploads_a_file_to_their_own_articles_and_shares_it(
    bot: FakeTelegram, admin_library: IndexedLibrary
) -> None:
    [reply] = exchange(bot, ADMIN, lambda: bot.send_document(ADMIN, SATELLITE.name, SATELLITE.read_bytes()))
    assert reply.plain.startswith("جاهز: أضفت المقال إلى مقالاتك: ") and bot.downloads and bot.calls("getFile")
    assert all(a.source != SATELLITE.name for a in admin_library.articles)
    own = plain(say(bot, ADMIN, SATELLITE_QUESTION))
    assert own.startswith("من المقال: ") and "خمسة وأربعين مليون دولار" in own
    number = reply.entity_texts("code")[0]
    [shared] = say(bot, ADMIN, f"/share {number}")
    article = article_from(admin_library, SATELLITE.name)
    assert shared.plain.startswith("أضفت المقال: ") and article.id in shared.plain
    answer = plain(say(bot, 5002, SATELLITE_QUESTION))
    assert "خمسة وأربعين مليون دولار" in answer and cites(answer, article.title)
    copy = SATELLITE.read_bytes().replace(b"\n", b"\n\n")
    [again] = exchange(bot, ADMIN, lambda: bot.send_document(ADMIN, "copy.md", copy, caption="نسخة"))
    assert again.plain.startswith("هذا المقال عندك من قبل") and f"رقمه {number}" in again.plain


def test_seed_answers_still_hold_after_adding(bot: FakeTelegram, admin_library: IndexedLibrary) -> None:
    assert len(admin_library.articles) >= 2
    replies = say(bot, 5003, MINISTER.q)
    seed_title = next(a.title for a in admin_library.articles if a.id == SEED_ID)
    assert "سيرجي شويجو" in plain(replies) and cites(plain(replies), seed_title)
    top3 = admin_library.ask(MINISTER.q).quotes[:3]
    assert any("سيرجي شويجو" in q.text and q.article_id == SEED_ID for q in top3)


def test_caption_is_the_title_and_group_files_need_the_bot(bot: FakeTelegram) -> None:
    group = -(10**12 + 4242)
    bot.set_admins(group, ADMIN)
    bot.send_document(group, "festival.md", SHORT_ARTICLE, user_id=ADMIN)  # shared in the group, not for the bot
    caption = f"@{BOT_USERNAME} مهرجان"
    replies = exchange(
        bot, group, lambda: bot.send_document(group, "festival.md", SHORT_ARTICLE, user_id=ADMIN, caption=caption)
    )
    assert len(replies) == 1 and replies[0].plain.startswith("جاهز: أضفت المقال إلى مقالات هذه المجموعة: مهرجان\n")
    assert len(bot.messages_to(group)) == 1


# --- refusals ------------------------------------------------------------------------------------


def test_private_address_is_refused_by_default(strict_bot: FakeTelegram, pages: FetchTestServer) -> None:
    [reply] = say(strict_bot, ADMIN, f"/add {pages.base_url}/plain")
    assert reply.plain == to_plain(messages.FETCH_REFUSALS["private_address"])
    assert "SANAD_ALLOW_PRIVATE_URLS=true" in reply.entity_texts("code")


@pytest.mark.parametrize(
    ("target", "text"),
    [
        ("/pdf", messages.FETCH_REFUSALS["content_type"]),
        ("/busy", messages.FETCH_REFUSALS["http_status"]),
        ("/digits", messages.EXTRACT_REFUSALS["not_text"]),
        ("ftp://127.0.0.1/a.txt", messages.FETCH_REFUSALS["scheme"]),
    ],
    ids=["pdf", "http-503", "not-text", "ftp"],
)
def test_fetch_and_extract_refusals_are_explained_in_arabic(
    bot: FakeTelegram, admin_library: IndexedLibrary, pages: FetchTestServer, target: str, text: str
) -> None:
    count = len(admin_library.articles)
    url = pages.base_url + target if target.startswith("/") else target
    [reply] = say(bot, ADMIN, f"/add {url}")
    assert reply.plain == to_plain(text) and len(admin_library.articles) == count


@pytest.mark.parametrize(
    ("name", "size", "text"),
    [
        ("report.pdf", None, messages.EXTRACT_REFUSALS["file_type"]),
        ("no-extension", None, messages.EXTRACT_REFUSALS["file_type"]),
        ("huge.txt", 6_000_000, messages.EXTRACT_REFUSALS["too_large"]),
    ],
)
def test_unusable_files_are_refused_before_download(bot: FakeTelegram, name: str, size: int | None, text: str) -> None:
    downloads = len(bot.downloads)
    [reply] = exchange(bot, ADMIN, lambda: bot.send_document(ADMIN, name, b"%PDF-1.4", file_size=size))
    assert reply.plain == to_plain(text) and len(bot.downloads) == downloads


def test_file_without_article_text_is_refused(bot: FakeTelegram) -> None:
    [reply] = exchange(bot, ADMIN, lambda: bot.send_document(ADMIN, "numbers.txt", b"12345 67890 %%% ### 2024"))
    assert reply.plain == to_plain(messages.EXTRACT_REFUSALS["not_text"])


def _garbled_article() -> bytes:
    """The seed article as UTF-8 misread as windows-1256 and saved again (mojibake)."""
    seed = (Path(__file__).resolve().parents[2] / "data" / "articles" / f"{SEED_ID}.txt").read_text(encoding="utf-8")
    return seed.encode("utf-8").decode("cp1256", errors="replace").encode("utf-8")


@pytest.mark.parametrize(
    "content",
    [
        bytes((i * 7919 + 13) % 251 for i in range(3000)),  # random-looking bytes
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,  # an image renamed .txt
    ],
    ids=["random-bytes", "png"],
)
def test_garbage_file_is_refused_in_arabic(bot: FakeTelegram, admin_library: IndexedLibrary, content: bytes) -> None:
    count = len(admin_library.articles)
    [reply] = exchange(bot, ADMIN, lambda: bot.send_document(ADMIN, "article.txt", content))
    refusals = (to_plain(messages.EXTRACT_REFUSALS["garbage"]), to_plain(messages.EXTRACT_REFUSALS["not_text"]))
    assert reply.plain in refusals and len(admin_library.articles) == count


def test_mojibake_file_is_refused_as_garbage(bot: FakeTelegram, admin_library: IndexedLibrary) -> None:
    count = len(admin_library.articles)
    [reply] = exchange(bot, ADMIN, lambda: bot.send_document(ADMIN, "garbled.txt", _garbled_article()))
    assert reply.plain == to_plain(messages.EXTRACT_REFUSALS["garbage"]) and len(admin_library.articles) == count


# --- removing ------------------------------------------------------------------------------------


def test_admin_removes_an_article(bot: FakeTelegram, admin_library: IndexedLibrary) -> None:
    if not any(a.source == SATELLITE.name for a in admin_library.articles):
        [added] = exchange(bot, ADMIN, lambda: bot.send_document(ADMIN, SATELLITE.name, SATELLITE.read_bytes()))
        say(bot, ADMIN, f"/share {added.entity_texts('code')[0]}")
    article = article_from(admin_library, SATELLITE.name)
    [reply] = say(bot, ADMIN, f"/remove {article.id}")
    assert reply.plain.startswith("حذفت المقال: ") and article.id in reply.plain
    assert article.id not in {a.id for a in admin_library.articles}
    assert article.id not in plain(say(bot, 5004, "/sources"))
    answer = plain(say(bot, 5004, SATELLITE_QUESTION))
    assert article.title not in answer and "خمسة وأربعين مليون دولار" not in answer
    [unknown] = say(bot, ADMIN, f"/remove {article.id}")
    assert unknown.plain == to_plain(messages.UNKNOWN_ARTICLE.format(id=article.id))


def test_usage_hints_for_admins(bot: FakeTelegram) -> None:
    assert say(bot, ADMIN, "/add")[0].plain == to_plain(messages.ADD_USAGE)
    assert say(bot, ADMIN, "/remove")[0].plain == to_plain(messages.REMOVE_USAGE)


# --- restart -------------------------------------------------------------------------------------


def test_restart_sees_the_library_and_embeds_nothing(
    bot: FakeTelegram, library_settings: Settings, admin_library: IndexedLibrary
) -> None:
    encoder = RecordingEncoder(admin_library.engine.encoder)
    restarted = IndexedLibrary.open(library_settings, encoder=encoder)
    assert restarted.articles == admin_library.articles and len(restarted.articles) >= 2
    assert encoder.embedded == []
    assert restarted.ask(WATER_QUESTION).quotes[0].source.endswith("/article")
