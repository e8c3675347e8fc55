"""The conversation end to end: a follow-up leans on the previous question of the same chat
(in a group, whoever asked it), never on another chat's; the real bot, model and fake Bot API."""

from __future__ import annotations

from collections.abc import Callable

from bot_harness import plain
from shared_data import read_jsonl

from testkit.fake_telegram import BOT_USERNAME, Sent

PAIRS = read_jsonl("seed_dev_followups.jsonl")
SMUGGLING = next(p for p in PAIRS if p["then"] == "ومن يهرّبها؟")
REPORT = next(p for p in PAIRS if p["then"] == "وماذا قال فيه؟")

Ask = Callable[..., list[Sent]]
NewChat = Callable[..., int]


def test_a_follow_up_in_a_private_chat_leans_on_its_previous_question(ask: Ask, new_chat: NewChat) -> None:
    chat, other = new_chat(), new_chat()
    ask(chat, SMUGGLING["first"])
    assert SMUGGLING["must"] in plain(ask(chat, SMUGGLING["then"]))
    assert SMUGGLING["must"] not in plain(ask(other, SMUGGLING["then"]))  # that chat asked nothing before


def test_a_follow_up_never_leans_on_another_chats_question(ask: Ask, new_chat: NewChat) -> None:
    first_chat, second_chat = new_chat(), new_chat()
    ask(first_chat, SMUGGLING["first"])
    ask(second_chat, REPORT["first"])
    assert REPORT["must"] in plain(ask(second_chat, REPORT["then"]))
    assert SMUGGLING["must"] in plain(ask(first_chat, SMUGGLING["then"]))


def test_in_a_group_a_follow_up_leans_on_the_groups_previous_question(ask: Ask, new_chat: NewChat) -> None:
    group = new_chat(group=True)
    ask(group, f"@{BOT_USERNAME} {SMUGGLING['first']}", user_id=501)
    replies = ask(group, f"@{BOT_USERNAME} {SMUGGLING['then']}", user_id=502)  # another member asks on
    assert SMUGGLING["must"] in plain(replies)
