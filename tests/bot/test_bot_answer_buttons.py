"""The buttons under an answer, end to end: the real bot and model, the one fake Bot API, a real
SQLite store on disk. "المزيد" brings new verbatim quotes until there are none, "السياق" the
paragraphs around the lead sentence, 👍/👎 are stored and exported; the buttons survive a
restart, and forged, foreign or stale presses are refused politely.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bot_harness import is_rtl
from test_bot_chats import Bot, add_page, button, plain
from test_bot_e2e import lead_sentence

from bot import messages
from bot.answer_buttons import MORE_PAGES
from bot.render import to_plain
from embeddings import Article, IndexedLibrary
from embeddings.cli import main
from testkit.fake_telegram import Sent
from tests.fetch_server import FetchTestServer

ANSWERED = "ما الخطر الذي قال بوتين إنه لا يزال موجودا؟"  # kind `answer` (README)
OFF_TOPIC = "ما عاصمة فرنسا؟"  # kind `not_found`
COST_QUESTION = "كم بلغت تكلفة المحطة؟"  # of the local page: kind `answer` (README)
LABELS = ("المزيد", "السياق", "👍", "👎")

_chats = iter(range(700_000, 800_000))


@pytest.fixture(scope="module")
def bot(library: IndexedLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    running = Bot(library, tmp_path_factory.mktemp("buttons-bot"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shipped(library: IndexedLibrary) -> Article:
    [article] = library.articles
    return article


def answer(bot: Bot, chat: int, question: str) -> list[Sent]:
    """Ask, and wait for the whole reply (its last message carries the keyboard)."""
    return replies_after(bot, chat, lambda: bot.fake.send_text(chat, question))


def whole(replies: list[Sent]) -> bool:
    """A reply is whole when its last message has the keyboard, or says that nothing more is left."""
    return bool(replies) and bool(replies[-1].buttons or messages.NO_MORE in replies[-1].plain)


def replies_after(
    bot: Bot, chat: int, send: Callable[[], object], finished: Callable[[list[Sent]], bool] = whole
) -> list[Sent]:
    before = len(bot.fake.messages_to(chat))
    send()
    bot.fake.wait_until(lambda: finished(bot.fake.messages_to(chat)[before:]), 90, "a whole reply")
    time.sleep(0.3)  # stragglers
    replies = bot.fake.messages_to(chat)[before:]
    assert all(sent.parse_mode == "HTML" and is_rtl(sent.plain) for sent in replies), replies
    return replies


def press_for_reply(
    bot: Bot, chat: int, label: str, message: Sent, finished: Callable[[list[Sent]], bool] = whole
) -> tuple[str, list[Sent]]:
    """Press the button of `message` whose label starts with `label`; the toast and the reply."""
    _, data = button([bot.fake.current(message)], label)
    toast: list[str] = []
    replies = replies_after(bot, chat, lambda: toast.append(bot.press(chat, data, message)), finished)
    return toast[0], replies


def labels(sent: Sent) -> list[str]:
    return [label for label, _ in sent.buttons]


def span_in(article: Article, text: str) -> tuple[int, int]:
    start = article.text.index(text)
    return start, start + len(text)


# --- the keyboard and "المزيد" ---------------------------------------------------------------


def test_an_answer_has_its_keyboard_and_more_brings_new_quotes_until_none(bot: Bot, shipped: Article) -> None:
    chat = next(_chats)
    replies = answer(bot, chat, ANSWERED)
    lead = lead_sentence(replies)
    assert lead and lead in shipped.text
    keys = replies[-1].buttons
    assert [any(word in label for label, _ in keys) for word in LABELS] == [True] * 4
    assert all(data.startswith("act:") and len(data.encode()) <= 64 for _, data in keys)
    assert all(not sent.buttons for sent in replies[:-1])
    shown = [span_in(shipped, text) for text in [lead, *(q for sent in replies for q in sent.quotes)]]
    message, batches = replies[-1], 0
    for _ in range(MORE_PAGES + 1):
        toast, more = press_for_reply(bot, chat, messages.MORE_BUTTON, message)
        batches += 1
        assert toast == "" and more[0].plain.startswith(messages.MORE_HEADER)
        assert messages.MORE_BUTTON not in labels(bot.fake.current(message))  # taken off the pressed message
        new = [span_in(shipped, q) for sent in more for q in sent.quotes]  # verbatim slices of the article
        assert new and all(b <= s or e <= a for s, e in new for a, b in shown), "a quote shown already"
        shown += new
        if messages.NO_MORE in more[-1].plain:
            break
        message = more[-1]
    assert "لا مزيد" in more[-1].plain and not more[-1].buttons and batches == MORE_PAGES
    assert labels(bot.fake.current(replies[-1])) == [label for label, _ in keys if label != messages.MORE_BUTTON]
    _, used = button([message], messages.MORE_BUTTON)
    assert bot.press(chat, used, message) == messages.NO_MORE_TOAST  # pressed again: nothing is left


def test_closest_and_not_found_keep_their_framing_and_have_no_more(bot: Bot) -> None:
    [declined] = answer(bot, next(_chats), OFF_TOPIC)
    assert declined.plain == to_plain(messages.NOT_FOUND) and not declined.quotes
    assert labels(declined) == [messages.VOTE_UP_BUTTON, messages.VOTE_DOWN_BUTTON]
    closest = answer(bot, next(_chats), "كم بلغت تكلفة تدريبات الردع الاستراتيجي؟")  # kind `closest` (README)
    assert closest[0].plain.startswith(messages.CLOSEST_INTRO) and lead_sentence(closest) is None
    assert labels(closest[-1]) == [messages.CONTEXT_BUTTON, messages.VOTE_UP_BUTTON, messages.VOTE_DOWN_BUTTON]


# --- "السياق" ---------------------------------------------------------------------------------


def test_context_shows_the_paragraph_and_its_neighbours_with_the_lead_bold(bot: Bot, shipped: Article) -> None:
    chat = next(_chats)
    replies = answer(bot, chat, ANSWERED)
    lead = lead_sentence(replies)
    toast, shown = press_for_reply(bot, chat, messages.CONTEXT_BUTTON, replies[-1], finished=bool)
    assert toast == "" and shown[0].plain.startswith(f"{messages.CONTEXT_LABEL}: {shipped.title}")
    paragraphs = [line.strip() for line in shipped.text.split("\n") if line.strip()]
    quoted = [q for sent in shown for q in sent.entity_texts("blockquote")]
    holding = next(n for n, p in enumerate(paragraphs) if lead and lead in p)
    assert quoted == paragraphs[max(holding - 1, 0) : holding + 2] and len(quoted) == 3
    assert lead in [b for sent in shown for b in sent.entity_texts("bold")]
    for number in range(holding, holding + 3):  # each cited by its number, as the answer cites it
        assert f"{messages.PARAGRAPH_LABEL} {number}:" in plain(shown)


# --- 👍 / 👎 ----------------------------------------------------------------------------------


def test_votes_are_acknowledged_stored_and_exported(
    bot: Bot, shipped: Article, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = next(_chats)
    replies = answer(bot, chat, ANSWERED)
    [declined] = answer(bot, chat, OFF_TOPIC)
    for message, label, thanks in (
        (replies[-1], messages.VOTE_UP_BUTTON, messages.VOTE_UP_THANKS),
        (replies[-1], messages.VOTE_DOWN_BUTTON, messages.VOTE_DOWN_THANKS),
        (declined, messages.VOTE_DOWN_BUTTON, messages.VOTE_DOWN_THANKS),
    ):
        _, data = button([message], label)
        assert bot.press(chat, data, message) == thanks
    assert bot.rows("SELECT vote, kind FROM feedback WHERE chat_id = ? ORDER BY id", chat) == [
        ("up", "answer"),
        ("down", "answer"),
        ("down", "not_found"),
    ]
    monkeypatch.setenv("SANAD_DATABASE", str(bot.folder / "sanad.db"))
    monkeypatch.chdir(tmp_path)
    assert main(["feedback", "export", "--out", str(tmp_path / "votes.jsonl")]) == 0
    lines = [json.loads(line) for line in (tmp_path / "votes.jsonl").read_text(encoding="utf-8").splitlines()]
    up, down, miss = [line for line in lines if line["chat"] == chat]
    assert (up["vote"], down["vote"], miss["vote"]) == ("up", "down", "down")
    assert up["question"] == ANSWERED and up["article"] == shipped.id and up["kind"] == "answer"
    assert up["sentence"] == lead_sentence(replies) == shipped.text[up["highlight_start"] : up["highlight_end"]]
    assert up["passage"] == shipped.text[up["start"] : up["end"]] and isinstance(up["confidence"], float)
    assert miss["question"] == OFF_TOPIC and miss["kind"] == "not_found" and miss["article"] is None


# --- after a restart ----------------------------------------------------------------------------


def test_buttons_keep_working_after_a_restart(library: IndexedLibrary, shipped: Article, tmp_path: Path) -> None:
    restarting = Bot(library, tmp_path)
    try:
        replies = answer(restarting, 9, ANSWERED)
        restarting.restart()  # a new application over the same store and folders
        toast, more = press_for_reply(restarting, 9, messages.MORE_BUTTON, replies[-1])
        assert toast == "" and [q for sent in more for q in sent.quotes]
        assert all(q in shipped.text for sent in more for q in sent.quotes)
        _, data = button([replies[-1]], messages.VOTE_UP_BUTTON)
        assert restarting.press(9, data, replies[-1]) == messages.VOTE_UP_THANKS
        assert restarting.rows("SELECT vote FROM feedback WHERE chat_id = 9") == [("up",)]
    finally:
        restarting.stop()


# --- refused presses ------------------------------------------------------------------------------


def test_another_chats_or_a_forged_token_is_refused(bot: Bot) -> None:
    a, b = next(_chats), next(_chats)
    replies = answer(bot, a, ANSWERED)
    tokens = [data for _, data in replies[-1].buttons]
    forged = [tokens[0][:-1] + ("x" if tokens[0][-1] != "x" else "y"), "act:" + "A" * 12, "act:", "act:' OR 1=1 --"]
    for data in [*tokens, *forged]:
        assert bot.press(b, data) == messages.BUTTON_REFUSED, data
    for data in forged:
        assert bot.press(a, data, replies[-1]) == messages.BUTTON_REFUSED, data
    time.sleep(0.5)
    assert bot.fake.messages_to(b) == [] and len(bot.fake.messages_to(a)) == len(replies)
    assert bot.rows("SELECT count(*) FROM feedback WHERE chat_id IN (?, ?)", a, b) == [(0,)]
    assert messages.MORE_BUTTON in labels(bot.fake.current(replies[-1]))  # A's answer is untouched


def test_buttons_of_a_forgotten_article_say_so_politely(bot: Bot, pages: FetchTestServer) -> None:
    chat = next(_chats)
    add_page(bot, chat, pages)
    replies = answer(bot, chat, COST_QUESTION)
    assert replies[0].plain.startswith("من المقال: ") and messages.MORE_BUTTON in labels(replies[-1])
    bot.say(chat, "/forget 1")
    before = len(bot.fake.messages_to(chat))
    for label in (messages.CONTEXT_BUTTON, messages.VOTE_UP_BUTTON, messages.MORE_BUTTON):
        _, data = button([replies[-1]], label)
        assert bot.press(chat, data, replies[-1]) == messages.ANSWER_GONE, label
    time.sleep(0.5)
    assert len(bot.fake.messages_to(chat)) == before  # nothing quoted from it, nothing sent
    assert bot.rows("SELECT count(*) FROM feedback WHERE chat_id = ?", chat) == [(0,)]
