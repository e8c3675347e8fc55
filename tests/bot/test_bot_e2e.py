"""End to end: the real bot, real HTTP, the real engine and model, a validating fake Telegram."""

from __future__ import annotations

import logging
import math
import re
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bot_harness import (
    TOKEN,
    BotThread,
    DevQuestion,
    is_rtl,
    plain,
    read_dev_questions,
    start_bot,
    start_bot_with,
)

from bot import messages
from bot.render import render_answer, to_plain
from bot.settings import BotSettings
from embeddings import Article, IndexedLibrary, Library, Settings
from testkit.fake_telegram import BOT_USERNAME, FakeTelegram, Sent

DEV_QUESTIONS = read_dev_questions()
OFF_TOPIC = "ما عاصمة فرنسا؟"
MINISTER = next(d for d in DEV_QUESTIONS if "وزير الدفاع" in d.q)
_STICKER = {"file_id": "s1", "file_unique_id": "su1", "width": 512, "height": 512, "type": "regular"}
STICKER = {"sticker": {**_STICKER, "is_animated": False, "is_video": False}}
PHOTO = {"photo": [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]}
VOICE = {"voice": {"file_id": "v1", "file_unique_id": "vu1", "duration": 2}}

Ask = Callable[..., list[Sent]]
NewChat = Callable[..., int]


def assert_well_formed(replies: list[Sent]) -> None:
    """Sent as HTML (accepted by the validating server) and laid out right to left."""
    assert replies, "no reply"
    for sent in replies:
        assert sent.parse_mode == "HTML"
        assert is_rtl(sent.plain), sent.plain[:80]


def assert_quotes_are_verbatim(replies: list[Sent], articles: tuple[Article, ...]) -> None:
    """The quoted answer sentence (none in a `closest` reply) and every quoted passage are
    slices of an article."""
    texts = [article.text for article in articles]
    quoted = [q for sent in replies for q in sent.quotes]
    answer = lead_sentence(replies)
    closest = plain(replies).startswith(messages.CLOSEST_INTRO)
    assert (answer or quoted) and (answer or closest) and not (answer and closest)
    for piece in [*([answer] if answer else []), *quoted]:
        assert any(piece in text for text in texts), f"not verbatim: {piece[:80]}"


def lead_sentence(replies: list[Sent]) -> str | None:
    """The answering sentence the reply leads with (bold, in «»), if any."""
    bold = [text for sent in replies for text in sent.entity_texts("bold") if text.startswith("«")]
    return bold[0].removeprefix("«").removesuffix("»") if bold else None


def sends_to(fake: FakeTelegram, chat_id: int) -> int:
    return sum(1 for call in fake.calls("sendMessage") if call.params.get("chat_id") == chat_id)


# --- answers -----------------------------------------------------------------------------------


# Known gaps (README, Quality): none.
KNOWN_NOT_FOUND: set[int] = set()


@pytest.mark.parametrize(
    "dev",
    [
        pytest.param(
            dev, id=f"dev{n:02d}", marks=[pytest.mark.xfail(strict=True, reason="known gap")] * (n in KNOWN_NOT_FOUND)
        )
        for n, dev in enumerate(DEV_QUESTIONS, start=1)
    ],
)
def test_dev_question_is_answered_with_verbatim_quotes(
    dev: DevQuestion, ask: Ask, new_chat: NewChat, fake: FakeTelegram, library: IndexedLibrary
) -> None:
    chat = new_chat()
    replies = ask(chat, dev.q)
    assert_well_formed(replies)
    assert dev.must in plain(replies)
    assert_quotes_are_verbatim(replies, library.articles)


def test_off_topic_question_is_declined_without_quotes(ask: Ask, new_chat: NewChat) -> None:
    replies = ask(new_chat(), OFF_TOPIC)
    assert [sent.plain for sent in replies] == [to_plain(messages.NOT_FOUND)]
    assert not replies[0].quotes and "/sources" in replies[0].plain


def test_html_in_a_question_is_harmless(ask: Ask, new_chat: NewChat, fake: FakeTelegram) -> None:
    chat = new_chat()
    replies = ask(chat, f"{MINISTER.q} <b> </blockquote> &amp; <script>alert(1)</script>")
    assert_well_formed(replies)
    assert MINISTER.must in plain(replies)
    assert sends_to(fake, chat) == len(replies)  # nothing refused by the server, nothing lost
    garbage = ask(chat, "<b>&amp;</blockquote><script>")
    assert_well_formed(garbage)
    assert sends_to(fake, chat) == len(replies) + len(garbage)


def test_caption_of_a_photo_is_a_question(new_chat: NewChat, fake: FakeTelegram, running_bot: BotThread) -> None:
    chat = new_chat()
    fake.send_other(chat, {**PHOTO, "caption": MINISTER.q})
    assert MINISTER.must in plain(fake.wait_for_messages(chat))


# --- commands ------------------------------------------------------------------------------


def test_start_and_help_explain_with_an_example(ask: Ask, new_chat: NewChat) -> None:
    chat = new_chat()
    for command in ("/start", "/help"):
        [reply] = ask(chat, command)
        assert reply.plain == to_plain(messages.HELP) and messages.EXAMPLE_QUESTION in reply.plain
        assert_well_formed([reply])


def test_sources_lists_the_indexed_articles(ask: Ask, new_chat: NewChat, library: IndexedLibrary) -> None:
    replies = ask(new_chat(), "/sources")
    assert_well_formed(replies)
    for article in library.articles:
        assert article.title in plain(replies) and article.source in plain(replies)


def test_commands_are_registered(fake: FakeTelegram, running_bot: BotThread) -> None:
    [call] = fake.calls("setMyCommands")
    assert [c["command"] for c in call.params["commands"]] == [name for name, _ in messages.COMMANDS]


def test_empty_ask_gets_a_hint(ask: Ask, new_chat: NewChat) -> None:
    [reply] = ask(new_chat(), "/ask")
    assert reply.plain == to_plain(messages.EMPTY_QUESTION)


def test_unknown_command_in_private_points_to_help(ask: Ask, new_chat: NewChat) -> None:
    [reply] = ask(new_chat(), "/frobnicate")
    assert reply.plain == to_plain(messages.UNKNOWN_COMMAND)


# --- groups ----------------------------------------------------------------------------------


def test_group_message_without_mention_is_ignored(new_chat: NewChat, fake: FakeTelegram, ask: Ask) -> None:
    group = new_chat(group=True)
    ignored = fake.send_text(group, MINISTER.q)
    replies = ask(group, f"@{BOT_USERNAME} {MINISTER.q}")  # answered after it: the first was skipped
    time.sleep(0.5)
    assert all(sent.reply_to != ignored["message_id"] for sent in fake.messages_to(group))
    assert MINISTER.must in plain(replies)


def test_group_mention_is_answered_as_a_reply(new_chat: NewChat, fake: FakeTelegram, running_bot: BotThread) -> None:
    group = new_chat(group=True)
    question = fake.send_text(group, f"{MINISTER.q} @{BOT_USERNAME.upper()}")
    replies = fake.wait_for_messages(group)
    assert MINISTER.must in plain(replies) and BOT_USERNAME not in plain(replies)
    assert all(sent.reply_to == question["message_id"] for sent in replies)


def test_group_reply_to_the_bot_is_a_question(ask: Ask, new_chat: NewChat) -> None:
    group = new_chat(group=True)
    [hint] = ask(group, f"/ask@{BOT_USERNAME}")
    assert hint.plain == to_plain(messages.EMPTY_QUESTION)
    replies = ask(group, MINISTER.q, reply_to=hint)
    assert MINISTER.must in plain(replies)


def test_group_ask_command_with_bot_name(ask: Ask, new_chat: NewChat, fake: FakeTelegram) -> None:
    group = new_chat(group=True)
    fake.send_text(group, f"/ask@other_bot {MINISTER.q}")  # another bot's command: not ours
    replies = ask(group, f"/ask@{BOT_USERNAME} {MINISTER.q}")
    time.sleep(0.5)
    assert MINISTER.must in plain(replies)
    assert len(fake.messages_to(group)) == len(replies)


def test_group_mention_alone_gets_a_hint(ask: Ask, new_chat: NewChat) -> None:
    [reply] = ask(new_chat(group=True), f"@{BOT_USERNAME}")
    assert reply.plain == to_plain(messages.EMPTY_QUESTION)


# --- other updates ---------------------------------------------------------------------------


@pytest.mark.parametrize("content", [STICKER, PHOTO, VOICE], ids=["sticker", "photo", "voice"])
def test_non_text_message_gets_a_note(
    content: dict, new_chat: NewChat, fake: FakeTelegram, running_bot: BotThread
) -> None:
    chat = new_chat()
    fake.send_other(chat, content)
    [reply] = fake.wait_for_messages(chat)
    assert reply.plain == to_plain(messages.NON_TEXT)


def test_non_text_in_a_group_is_noted_only_when_replying_to_the_bot(
    new_chat: NewChat, fake: FakeTelegram, ask: Ask
) -> None:
    group = new_chat(group=True)
    [hint] = ask(group, f"@{BOT_USERNAME}")
    fake.send_other(group, STICKER)  # not for the bot
    fake.send_other(group, STICKER, reply_to=hint)
    [note] = fake.wait_for_messages(group, 2)[1:]
    time.sleep(0.5)
    assert note.plain == to_plain(messages.NON_TEXT) and len(fake.messages_to(group)) == 2


def test_edited_message_does_nothing(new_chat: NewChat, fake: FakeTelegram, ask: Ask) -> None:
    chat = new_chat()
    first = ask(chat, "/help")
    question = fake.send_text(chat, "/start")
    fake.wait_for_messages(chat, 2)
    fake.edit_text(question, MINISTER.q)
    after = ask(chat, "/help")  # processed after the edit
    time.sleep(0.5)
    assert len(fake.messages_to(chat)) == len(first) + 1 + len(after)


def test_unknown_button_is_acknowledged(new_chat: NewChat, fake: FakeTelegram, running_bot: BotThread) -> None:
    chat = new_chat()
    query_id = fake.press_button(chat, "no-such-button")
    fake.wait_until(
        lambda: any(c.params.get("callback_query_id") == query_id for c in fake.calls("answerCallbackQuery")),
        10,
        "answerCallbackQuery",
    )
    assert fake.messages_to(chat) == []


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # raised inside PTB's RetryAfter
def test_rate_limited_send_is_retried_after_retry_after(ask: Ask, new_chat: NewChat, fake: FakeTelegram) -> None:
    chat = new_chat()
    fake.fail_next(
        "sendMessage",
        429,
        "Too Many Requests: retry after 1",
        parameters={"retry_after": 1},
        when=lambda params: params["chat_id"] == chat,
    )
    replies = ask(chat, MINISTER.q)
    assert MINISTER.must in plain(replies)
    attempts = [c for c in fake.calls("sendMessage") if c.params["chat_id"] == chat]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert attempts[0].params["text"] == attempts[1].params["text"]


def test_server_error_on_get_updates_does_not_stop_polling(
    ask: Ask, new_chat: NewChat, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot")
    fake.fail_next("getUpdates", 500, "Internal Server Error")
    fake.wait_until(lambda: fake.pending_failures() == 0, 10, "the injected 500")
    replies = ask(new_chat(), MINISTER.q)
    assert MINISTER.must in plain(replies)
    logged = [r for r in caplog.records if r.name == "bot.handlers" and "polling" in r.getMessage()]
    assert logged and logged[0].exc_info is not None


def test_unparsable_html_falls_back_to_plain_text(ask: Ask, new_chat: NewChat, fake: FakeTelegram) -> None:
    chat = new_chat()
    fake.fail_next(
        "sendMessage",
        400,
        'Bad Request: can\'t parse entities: unsupported start tag "x" at byte offset 0',
        when=lambda params: params["chat_id"] == chat and params.get("parse_mode") == "HTML",
    )
    replies = ask(chat, MINISTER.q)
    assert replies[0].parse_mode is None and "<b>" not in replies[0].text
    assert MINISTER.must in plain(replies) and is_rtl(replies[0].plain)


def test_failure_is_logged_and_the_user_told(
    ask: Ask, new_chat: NewChat, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot")
    chat = new_chat()
    fake.fail_next("sendMessage", 400, "Bad Request: something unexpected", when=lambda p: p["chat_id"] == chat)
    [reply] = ask(chat, MINISTER.q)
    assert reply.plain == to_plain(messages.ERROR)
    [record] = [r for r in caplog.records if r.name == "bot.handlers" and r.levelno == logging.ERROR]
    assert f"chat {chat}" in record.getMessage() and record.exc_info is not None


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_token_is_never_logged(
    ask: Ask, new_chat: NewChat, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = new_chat()
    fake.fail_next("getUpdates", 500, "Internal Server Error")
    too_many = "Too Many Requests: retry after 1"
    fake.fail_next("sendMessage", 429, too_many, parameters={"retry_after": 1}, when=lambda p: p["chat_id"] == chat)
    fake.wait_until(lambda: fake.pending_failures() == 1, 10, "the injected 500")
    assert MINISTER.must in plain(ask(chat, MINISTER.q))
    assert caplog.records and TOKEN not in caplog.text
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


# --- load --------------------------------------------------------------------------------------


def test_thirty_chats_at_once_are_all_answered(
    new_chat: NewChat,
    fake: FakeTelegram,
    library: IndexedLibrary,
    running_bot: BotThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    questions = {chat: DEV_QUESTIONS[n % len(DEV_QUESTIONS)].q for n, chat in enumerate(new_chat() for _ in range(30))}
    asked = {}
    for chat, question in questions.items():
        fake.send_text(chat, question)
        asked[chat] = time.monotonic()
    fake.wait_until(lambda: all(fake.messages_to(chat) for chat in questions), 120, "30 answers")
    latencies = sorted(fake.messages_to(chat)[0].at - asked[chat] for chat in questions)
    p50, p95 = statistics.median(latencies), latencies[math.ceil(0.95 * len(latencies)) - 1]
    with capsys.disabled():  # a bench figure for the report, not an assertion
        print(f"\n30 chats at once: first reply after p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms", end=" ")
    for chat, question in questions.items():  # the same reply as the engine gives one question alone
        expected = render_answer(library.ask(question))
        assert [sent.text for sent in fake.wait_for_messages(chat, len(expected), settle=0)] == expected


def test_slow_work_does_not_hold_up_other_chats(
    new_chat: NewChat, fake: FakeTelegram, running_bot: BotThread, library: IndexedLibrary
) -> None:
    slow, other = new_chat(), new_chat()
    paragraphs = library.articles[0].text.split("\n")
    fake.send_text(slow, "\n".join(reversed(paragraphs))[:4000])  # an article of its own: embedding it takes a while
    fake.wait_until(lambda: any(c.params["chat_id"] == slow for c in fake.calls("sendChatAction")), 10, "typing")
    fake.send_text(other, "/sources")
    fake.wait_until(lambda: fake.messages_to(slow) and fake.messages_to(other), 60, "both replies")
    assert fake.messages_to(other)[0].at < fake.messages_to(slow)[0].at  # the event loop stayed free


@pytest.mark.parametrize(("typing_after", "typing_sent"), [(30.0, False), (0.001, True)])
def test_typing_shows_only_for_an_answer_that_takes_longer_than_the_typing_delay(
    typing_after: float, typing_sent: bool, library: IndexedLibrary, tmp_path: Path
) -> None:
    # Telegram clears "typing" when the reply arrives: for a quick answer it would only double
    # the bot's requests. 30 s makes "quick" certain on any machine; no answer comes within 1 ms.
    with FakeTelegram("987654322:a-third-token_for_the_typing_bot") as server:
        settings = BotSettings(server.token, server.url, typing_after=typing_after)
        bot_thread = start_bot_with(settings, server, library, tmp_path)
        try:
            server.send_text(7, MINISTER.q)
            assert MINISTER.must in plain(server.wait_for_messages(7, 1))
            actions = [c.params["action"] for c in server.calls("sendChatAction")]
            assert actions == (["typing"] if typing_sent else [])
        finally:
            bot_thread.stop()


# --- long replies ------------------------------------------------------------------------------


@pytest.fixture
def long_article_bot(library: IndexedLibrary, tmp_path: Path) -> Iterator[tuple[FakeTelegram, Article]]:
    """A second bot whose library holds one article that is a single 6,000-character sentence."""
    text = re.sub(r"[.!؟?]+", "،", library.articles[0].text).replace("\n", " ")
    article, _ = Library(tmp_path / "articles").add(f"{text} {text}", "مقال من جملة واحدة طويلة", "synthetic")
    # Every question gets kind `answer` (threshold 0): this is about splitting a long reply, and
    # the decision rightly doubts a 6,000-character "sentence".
    settings = Settings(
        articles_dir=tmp_path / "articles", index_dir=tmp_path / "index", top_k=3, abstain_threshold=0.0
    )
    long_library = IndexedLibrary.open(settings, encoder=library.engine.encoder)
    with FakeTelegram("987654321:another-token_for_the_long_reply_bot") as server:
        bot_thread = start_bot(server, long_library, tmp_path)
        try:
            yield server, article
        finally:
            bot_thread.stop()


def test_long_reply_is_split_into_valid_messages(long_article_bot: tuple[FakeTelegram, Article]) -> None:
    fake, article = long_article_bot
    question = fake.send_text(5, "ماذا قال بوتين عن حماية البنية التحتية للنقل والطاقة؟")
    replies = fake.wait_for_messages(5, 2, settle=1.0)
    assert sends_to(fake, 5) == len(replies)  # every part accepted: fits, parses
    assert_well_formed(replies)
    assert all(sent.reply_to is None for sent in replies) and question["chat"]["type"] == "private"
    sentence = "".join(b for sent in replies for b in sent.entity_texts("bold"))
    assert sentence == f"«{article.text.strip()}»{article.title}"  # then the citation; the passage is not quoted again
    assert not any(sent.quotes for sent in replies)
    assert [sent.plain.split(":")[0] for sent in replies][:2] == ["الجواب", "الجواب (تابع)"]
    assert replies[-1].buttons and not replies[0].buttons  # the keyboard under the last part
