"""bot.settings: every problem reported at once, the token never echoed."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_API_BASE_URL, BotSettings, BotSettingsError

TOKEN = "123456:ABCdef_ghi-JKLmnopqrstuvwxyz0123456"


def test_defaults_with_only_a_token() -> None:
    settings = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": f"  {TOKEN} "})
    assert settings == BotSettings(token=TOKEN, api_base_url=DEFAULT_API_BASE_URL, admin_user_ids=frozenset())
    assert settings.base_url == "https://api.telegram.org/bot"
    assert settings.base_file_url == "https://api.telegram.org/file/bot"


def test_token_is_not_in_repr() -> None:
    assert TOKEN not in repr(BotSettings(token=TOKEN))


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/"}, ("http://127.0.0.1:8081", frozenset())),
        ({"TELEGRAM_API_BASE_URL": "https://tg.example.com/api"}, ("https://tg.example.com/api", frozenset())),
        ({"ADMIN_USER_IDS": "12, 34,"}, (DEFAULT_API_BASE_URL, frozenset({12, 34}))),
        ({"ADMIN_USER_IDS": "  "}, (DEFAULT_API_BASE_URL, frozenset())),
    ],
)
def test_optional_settings(env: dict[str, str], expected: tuple[str, frozenset[int]]) -> None:
    settings = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **env})
    assert (settings.api_base_url, settings.admin_user_ids) == expected


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        ({}, ["TELEGRAM_BOT_TOKEN is not set", "@BotFather", ".env", ".env.example"]),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, ["does not look like a bot token", "@BotFather"]),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "api.telegram.org"}, ["TELEGRAM_API_BASE_URL"]),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "https://api.telegram.org/bot"}, ["ends with /bot"]),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_USER_IDS": "12,bob,-3"}, ["ADMIN_USER_IDS", "'bob'", "'-3'"]),
    ],
)
def test_problems_are_named_with_their_fix(env: dict[str, str], fragments: list[str]) -> None:
    with pytest.raises(BotSettingsError) as caught:
        BotSettings.from_env(env)
    message = str(caught.value)
    assert all(fragment in message for fragment in fragments), message


def test_every_problem_is_reported_at_once() -> None:
    env = {"TELEGRAM_API_BASE_URL": "ftp://x", "ADMIN_USER_IDS": "x"}
    with pytest.raises(BotSettingsError) as caught:
        BotSettings.from_env(env)
    lines = str(caught.value).splitlines()
    assert [line.split("=")[0].split(" ")[0] for line in lines] == [
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_BASE_URL",
        "ADMIN_USER_IDS",
    ]


def test_malformed_token_is_not_echoed() -> None:
    secret = "123:short'secret"
    with pytest.raises(BotSettingsError) as caught:
        BotSettings.from_env({"TELEGRAM_BOT_TOKEN": secret})
    assert secret not in str(caught.value) and "short" not in str(caught.value)
