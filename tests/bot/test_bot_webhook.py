"""Webhook mode end to end: the fake Bot API delivers updates to the bot's real HTTP server on
127.0.0.1 as Telegram does (the secret header, retries of anything but 2xx), and the bot
answers through the same fake. Also /healthz and /metrics, in webhook and in polling mode."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bot_harness import (
    TOKEN,
    WEBHOOK_SECRET,
    BotThread,
    free_port,
    read_dev_questions,
    start_bot_with,
    wait_healthy,
    webhook_settings,
)
from postgres_server import postgres_or_skip, start_postgres
from prometheus_client.parser import text_string_to_metric_families

from bot import messages
from bot.app import UPDATE_TYPES
from bot.settings import BotSettings, Listen
from embeddings import IndexedLibrary
from testkit.fake_telegram import FakeTelegram, Sent
from testkit.telegram_objects import chat_json, user_json
from testkit.webhook_delivery import SECRET_HEADER

MINISTER = next(d for d in read_dev_questions() if "وزير الدفاع" in d.q)
OFF_TOPIC = "ما عاصمة فرنسا؟"
NewChat = Callable[..., int]
_direct_ids = iter(range(10**9, 10**9 + 10_000))  # update ids of the updates tests POST themselves


@pytest.fixture(scope="module")
def hook_fake() -> Iterator[FakeTelegram]:
    """A fake Bot API of this module's own: a webhook set on it stops getUpdates for others."""
    with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def hook_bot(
    hook_fake: FakeTelegram, library: IndexedLibrary, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotThread]:
    """The bot in webhook mode (the embedded SQLite store), for the whole module."""
    bot = start_bot_with(webhook_settings(hook_fake), hook_fake, library, tmp_path_factory.mktemp("webhook"))
    yield bot
    bot.stop()


def base_url(bot: BotThread) -> str:
    assert bot.settings is not None and bot.settings.listen is not None
    return f"http://{bot.settings.listen}"


def webhook_url(bot: BotThread) -> str:
    assert bot.settings is not None and bot.settings.webhook is not None
    return bot.settings.webhook.url


def update_json(chat_id: int, text: str) -> dict[str, Any]:
    """A private chat's text message, as Telegram delivers it."""
    message = {"message_id": 1, "date": int(time.time()), "chat": chat_json(chat_id), "from": user_json(chat_id)}
    return {"update_id": next(_direct_ids), "message": {**message, "text": text}}


def post_update(bot: BotThread, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return httpx.post(webhook_url(bot), json=update, headers=headers, timeout=60)


def answers(replies: list[Sent], must: str = MINISTER.must) -> list[Sent]:
    return [sent for sent in replies if must in sent.plain]


def scrape(bot: BotThread) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics parsed by prometheus_client's own parser: (sample name, labels) -> value."""
    response = httpx.get(f"{base_url(bot)}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_the_bot_sets_its_webhook_with_the_secret_and_never_polls(hook_fake: FakeTelegram, hook_bot: BotThread) -> None:
    [call] = hook_fake.calls("setWebhook")
    assert call.params["url"] == webhook_url(hook_bot) and call.params["secret_token"] == WEBHOOK_SECRET
    assert call.params["drop_pending_updates"] in (False, "false")
    assert call.params["allowed_updates"] == list(UPDATE_TYPES) and "inline_query" in UPDATE_TYPES
    assert hook_fake.calls("getUpdates") == [] and hook_fake.calls("deleteWebhook") == []


def test_a_question_telegram_delivers_to_the_webhook_is_answered(
    hook_fake: FakeTelegram, hook_bot: BotThread, new_chat: NewChat
) -> None:
    chat, seen = new_chat(), {d.update_id for d in hook_fake.deliveries}
    hook_fake.send_text(chat, MINISTER.q)
    replies = hook_fake.wait_for_messages(chat)
    assert len(answers(replies)) == 1
    assert [(d.url, d.status) for d in hook_fake.deliveries if d.update_id not in seen] == [
        (webhook_url(hook_bot), 200)
    ]


@pytest.mark.parametrize(
    "secret", [None, "", "wrong-secret-0123456789", WEBHOOK_SECRET[:-1], WEBHOOK_SECRET + "x", WEBHOOK_SECRET.upper()]
)
def test_a_delivery_without_the_right_secret_is_refused_and_not_handled(
    hook_fake: FakeTelegram, hook_bot: BotThread, new_chat: NewChat, secret: str | None
) -> None:
    chat, before = new_chat(), scrape(hook_bot)
    update = update_json(chat, MINISTER.q)
    refused = post_update(hook_bot, update, secret)
    counted = ("sanad_webhook_updates_total", (("outcome", "refused"),))
    assert scrape(hook_bot)[counted] - before[counted] == 1
    # Handling happens before the answer, so nothing of this update can still be under way.
    assert refused.status_code == 403 and hook_fake.messages_to(chat) == []
    assert not [c for c in hook_fake.calls() if c.params.get("chat_id") == chat]
    accepted = post_update(hook_bot, update)  # the same update with the secret: new to the bot
    assert (accepted.status_code, accepted.text) == (200, "ok") and len(answers(hook_fake.messages_to(chat))) == 1


def test_the_same_update_delivered_twice_is_answered_once(
    hook_fake: FakeTelegram, hook_bot: BotThread, new_chat: NewChat
) -> None:
    chat = new_chat()
    update = update_json(chat, MINISTER.q)
    first, second = post_update(hook_bot, update), post_update(hook_bot, update)
    assert (first.status_code, first.text) == (200, "ok")
    assert (second.status_code, second.text) == (200, "handled before")
    assert len(hook_fake.messages_to(chat)) == 1 and len(answers(hook_fake.messages_to(chat))) == 1


def test_an_update_delivered_again_while_it_is_handled_waits_for_the_first(
    hook_fake: FakeTelegram, hook_bot: BotThread, new_chat: NewChat
) -> None:
    chat = new_chat()
    update = update_json(chat, MINISTER.q)
    typing = hook_fake.hold("sendChatAction", when=lambda params: params.get("chat_id") == chat)
    results: list[httpx.Response] = []
    first = threading.Thread(target=lambda: results.append(post_update(hook_bot, update)))
    first.start()
    assert typing.reached.wait(30), "the bot never started on the first delivery"
    meanwhile = post_update(hook_bot, update)
    typing.release()
    first.join(60)
    assert meanwhile.status_code == 503 and [r.status_code for r in results] == [200]
    assert len(answers(hook_fake.messages_to(chat))) == 1


def test_an_update_whose_handling_failed_is_answered_500_then_its_retry_once(
    hook_fake: FakeTelegram, hook_bot: BotThread, new_chat: NewChat
) -> None:
    chat, seen, before = new_chat(), {d.update_id for d in hook_fake.deliveries}, scrape(hook_bot)
    hook_fake.fail_next("sendMessage", 500, "Internal Server Error", when=lambda params: params.get("chat_id") == chat)
    hook_fake.send_text(chat, MINISTER.q)
    replies = hook_fake.wait_for_messages(chat, 2)
    assert [sent.plain for sent in replies][:1] == [messages.ERROR] and len(answers(replies)) == 1
    assert [d.status for d in hook_fake.deliveries if d.update_id not in seen] == [500, 200]
    after = scrape(hook_bot)
    assert after[("sanad_errors_total", ())] - before[("sanad_errors_total", ())] == 1
    failed = ("sanad_webhook_updates_total", (("outcome", "failed"),))
    assert after[failed] - before[failed] == 1


def test_healthz_says_the_index_is_loaded_and_the_database_reachable(
    hook_bot: BotThread, library: IndexedLibrary
) -> None:
    response = httpx.get(f"{base_url(hook_bot)}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "index": {"loaded": True, "passages": len(library.index)},
        "database": {"reachable": True},
        "problems": [],
    }


def test_metrics_parse_and_count_each_question_by_the_kind_of_its_answer(
    hook_fake: FakeTelegram, hook_bot: BotThread, new_chat: NewChat, library: IndexedLibrary
) -> None:
    before = scrape(hook_bot)
    expected = {"answer": 0, "closest": 0, "not_found": 0}
    for question in (MINISTER.q, OFF_TOPIC, MINISTER.q):
        kind = library.ask(question).kind
        assert kind is not None
        expected[kind] += 1
        chat = new_chat()
        hook_fake.send_text(chat, question)
        hook_fake.wait_for_messages(chat, settle=0)
    # The webhook answers Telegram after the reply is sent: wait for the fake to hear it.
    hook_fake.wait_until(lambda: hook_fake.pending_updates() == 0, 30, "every delivery answered")
    after = scrape(hook_bot)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert {kind: grew("sanad_questions_total", kind=kind) for kind in expected} == expected
    assert grew("sanad_answer_seconds_count") == 3 and grew("sanad_webhook_updates_total", outcome="handled") == 3
    assert after[("sanad_index_passages", ())] == len(library.index)


def test_in_polling_mode_sanad_listen_serves_healthz_and_metrics_only(library: IndexedLibrary, tmp_path: Path) -> None:
    with FakeTelegram(TOKEN) as fake:
        settings = BotSettings(fake.token, fake.url, listen=Listen("127.0.0.1", free_port()))
        bot = start_bot_with(settings, fake, library, tmp_path)
        try:
            assert httpx.get(f"{base_url(bot)}/healthz", timeout=10).status_code == 200
            assert ("sanad_index_passages", ()) in scrape(bot)
            assert httpx.post(f"{base_url(bot)}/telegram/hook", json={}, timeout=10).status_code == 404
            assert fake.calls("getUpdates") and not fake.calls("setWebhook")
        finally:
            bot.stop()


def test_a_replica_whose_database_stopped_says_503_and_answers_once_it_is_back(
    library: IndexedLibrary, tmp_path: Path
) -> None:
    server = postgres_or_skip(lambda: start_postgres(cleanup="stop"))
    with FakeTelegram(TOKEN) as fake:
        bot = start_bot_with(webhook_settings(fake), fake, library, tmp_path, database_url=server.url())
        try:
            server.pause()
            down = httpx.get(f"{base_url(bot)}/healthz", timeout=30)
            assert down.status_code == 503 and down.json()["status"] == "unavailable"
            assert down.json()["database"] == {"reachable": False} and down.json()["index"]["loaded"] is True
            assert any("PostgreSQL at" in problem for problem in down.json()["problems"]), down.json()
            fake.send_text(2001, MINISTER.q)
            fake.wait_until(lambda: any(d.status == 503 for d in fake.deliveries), 60, "a delivery answered 503")
            assert fake.messages_to(2001) == []  # nothing was handled without its claim
            server.resume()
            wait_healthy(base_url(bot), 90)
            replies = fake.wait_for_messages(2001, timeout=90)
            assert len(replies) == 1 and len(answers(replies)) == 1
        finally:
            bot.stop()
            server.stop()


def test_a_question_while_the_database_is_down_is_told_to_try_again_and_answered_once_it_is_back(
    library: IndexedLibrary, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = postgres_or_skip(lambda: start_postgres(cleanup="stop"))
    with FakeTelegram(TOKEN) as fake:
        bot = start_bot_with(BotSettings(fake.token, fake.url), fake, library, tmp_path, database_url=server.url())
        try:
            fake.send_text(2101, MINISTER.q)
            assert len(answers(fake.wait_for_messages(2101, timeout=90))) == 1
            server.pause()
            fake.send_text(2101, MINISTER.q)
            told = lambda: [s for s in fake.messages_to(2101) if s.plain == messages.DATABASE_DOWN]  # noqa: E731
            fake.wait_until(told, 60, "the Arabic try-again message")
            assert len(answers(fake.messages_to(2101))) == 1  # the second question was not answered
            failure = next(r for r in caplog.records if "SANAD_DATABASE_URL" in r.getMessage())
            assert failure.exc_info is None  # the message says what to check: no traceback
            server.resume()
            fake.send_text(2101, MINISTER.q)
            back = lambda: len(answers(fake.messages_to(2101))) == 2  # noqa: E731
            fake.wait_until(back, 90, "an answer once the database is back")
            assert len(told()) == 1
        finally:
            bot.stop()
            server.stop()
