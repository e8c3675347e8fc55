"""The fake Bot API refuses edits and callback answers the way Telegram does (requests sent
over HTTP, as the bot sends them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testkit.fake_telegram import NOT_MODIFIED, FakeTelegram

TOKEN = "555:edits-token_for_the_fake_server_tests"
CHAT = 77
KEYS = {"inline_keyboard": [[{"text": "المزيد", "callback_data": "act:x"}], [{"text": "👍", "callback_data": "act:y"}]]}


@pytest.fixture
def server() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as fake:
        yield fake


def call(fake: FakeTelegram, method: str, **params: Any) -> dict[str, Any]:
    response = httpx.post(f"{fake.url}/bot{TOKEN}/{method}", json=params)
    body: dict[str, Any] = response.json()
    return body


def send(fake: FakeTelegram, text: str = "<b>جواب</b>", **params: Any) -> int:
    body = call(fake, "sendMessage", chat_id=CHAT, text=text, parse_mode="HTML", **params)
    assert body["ok"], body
    return int(body["result"]["message_id"])


def test_the_bots_message_is_edited_and_its_keyboard_changed(server: FakeTelegram) -> None:
    message_id = send(server, reply_markup=KEYS)
    fewer = {"inline_keyboard": KEYS["inline_keyboard"][1:]}
    assert call(server, "editMessageReplyMarkup", chat_id=CHAT, message_id=message_id, reply_markup=fewer)["ok"]
    [sent] = server.sent
    assert server.current(sent).buttons == [("👍", "act:y")] and server.current(sent).plain == "جواب"
    assert call(server, "editMessageReplyMarkup", chat_id=CHAT, message_id=message_id)["ok"]  # no keyboard at all
    assert server.current(sent).buttons == []
    edited = call(
        server, "editMessageText", chat_id=CHAT, message_id=message_id, text="جواب <i>آخر</i>", parse_mode="HTML"
    )
    assert edited["ok"] and edited["result"]["text"] == "جواب آخر"
    assert [e.plain for e in server.edits_to(CHAT)] == ["جواب", "جواب", "جواب آخر"] and sent.plain == "جواب"


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        ("editMessageText", {"message_id": 999, "text": "نص"}, "Bad Request: message to edit not found"),
        ("editMessageText", {"chat_id": CHAT + 1, "text": "نص"}, "Bad Request: message to edit not found"),
        ("editMessageText", {"text": "<b>نص"}, "Bad Request: can't parse entities"),
        ("editMessageText", {"text": " "}, "Bad Request: message text is empty"),
        ("editMessageText", {"text": "ب" * 4097}, "Bad Request: MESSAGE_TOO_LONG"),
        ("editMessageText", {"text": "<b>جواب</b>", "reply_markup": KEYS}, NOT_MODIFIED),
        ("editMessageReplyMarkup", {"reply_markup": KEYS}, NOT_MODIFIED),
        (
            "editMessageReplyMarkup",
            {"reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]}},
            "Bad Request: BUTTON_DATA_INVALID",
        ),
    ],
)
def test_an_edit_telegram_would_refuse_is_refused(
    server: FakeTelegram, method: str, params: dict[str, Any], description: str
) -> None:
    message_id = send(server, reply_markup=KEYS)
    body = call(server, method, **{"chat_id": CHAT, "message_id": message_id, "parse_mode": "HTML", **params})
    assert not body["ok"] and body["description"].startswith(description), body


def test_a_users_message_cannot_be_edited_by_the_bot(server: FakeTelegram) -> None:
    message = server.send_text(CHAT, "سؤال")
    body = call(server, "editMessageText", chat_id=CHAT, message_id=message["message_id"], text="غيره")
    assert body["description"] == "Bad Request: message can't be edited"


def test_a_button_press_is_answered_once_and_its_text_kept(server: FakeTelegram) -> None:
    query = server.press_button(CHAT, "act:x")
    assert server.callback_answer(query) is None
    assert not call(server, "answerCallbackQuery", callback_query_id=query, text="ب" * 201)["ok"]
    assert call(server, "answerCallbackQuery", callback_query_id=query, text="شكرًا", show_alert=True)["ok"]
    answer = server.callback_answer(query)
    assert answer is not None and (answer.text, answer.show_alert) == ("شكرًا", True)
    assert not call(server, "answerCallbackQuery", callback_query_id=query)["ok"]  # twice
    assert not call(server, "answerCallbackQuery", callback_query_id="cq-unknown")["ok"]


def test_a_press_carries_the_message_as_it_is_after_its_edits(server: FakeTelegram) -> None:
    message_id = send(server, reply_markup=KEYS)
    call(server, "editMessageReplyMarkup", chat_id=CHAT, message_id=message_id)
    server.press_button(CHAT, "act:y", message=server.sent[0])
    updates = call(server, "getUpdates")["result"]
    carried = updates[-1]["callback_query"]["message"]
    assert carried["message_id"] == message_id and "reply_markup" not in carried and "edit_date" in carried
