"""bot.settings: every problem reported at once, the token never echoed."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_API_BASE_URL, BotSettings, BotSettingsError, Listen

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


def test_typing_shows_after_half_a_second_unless_told_otherwise() -> None:
    assert BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}).typing_after == 0.5
    assert BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "SANAD_TYPING_AFTER_MS": "0"}).typing_after == 0.0
    assert BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "SANAD_TYPING_AFTER_MS": " 1500 "}).typing_after == 1.5


@pytest.mark.parametrize("raw", ["-1", "0.5", "half", "٥٠٠", "60001"])
def test_a_typing_delay_that_is_not_milliseconds_is_refused_naming_the_setting(raw: str) -> None:
    with pytest.raises(BotSettingsError) as caught:
        BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "SANAD_TYPING_AFTER_MS": raw})
    assert f"SANAD_TYPING_AFTER_MS={raw!r}" in str(caught.value) and "0 to 60000" in str(caught.value)


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


# --- webhook mode and SANAD_LISTEN ------------------------------------------------------------

SECRET = "s3cret-of-the_webhook-0123456789"
WEBHOOK = {"TELEGRAM_WEBHOOK_URL": "https://bot.example.com/telegram", "TELEGRAM_WEBHOOK_SECRET": SECRET}


def test_without_a_webhook_url_the_bot_polls_and_listens_only_when_told() -> None:
    polling = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert polling.webhook is None and polling.listen is None and polling.secrets() == (TOKEN,)
    ops = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "SANAD_LISTEN": "127.0.0.1:9100"})
    assert ops.webhook is None and ops.listen == Listen("127.0.0.1", 9100)


@pytest.mark.parametrize(
    ("listen", "expected"),
    [("0.0.0.0:8443", Listen("0.0.0.0", 8443)), ("[::]:8080", Listen("::", 8080)), ("bot:80", Listen("bot", 80))],
)
def test_webhook_mode_takes_the_url_its_path_the_secret_and_the_address(listen: str, expected: Listen) -> None:
    settings = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **WEBHOOK, "SANAD_LISTEN": f" {listen} "})
    assert settings.webhook is not None and settings.webhook.path == "/telegram" and settings.listen == expected
    assert settings.secrets() == (TOKEN, SECRET) and SECRET not in repr(settings)
    assert str(expected).endswith(listen.rsplit(":", 1)[1])


def test_a_local_bot_api_server_may_deliver_over_http_to_any_port() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081",
        "TELEGRAM_WEBHOOK_URL": "http://bot:9000/hook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "SANAD_LISTEN": "0.0.0.0:9000",
    }
    settings = BotSettings.from_env(env)
    assert settings.webhook is not None and settings.webhook.url == "http://bot:9000/hook"


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        ({**WEBHOOK}, ["SANAD_LISTEN is not set", "TELEGRAM_WEBHOOK_URL is set", "127.0.0.1:8080"]),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_SECRET": ""}, ["TELEGRAM_WEBHOOK_SECRET is not set", "secrets.token_urlsafe"]),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_SECRET": "short"}, ["TELEGRAM_WEBHOOK_SECRET must be 16-256 characters"]),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_SECRET": "has spaces in it, 1234567"}, ["TELEGRAM_WEBHOOK_SECRET must be"]),
        ({"TELEGRAM_WEBHOOK_SECRET": SECRET}, ["TELEGRAM_WEBHOOK_SECRET is set but TELEGRAM_WEBHOOK_URL is not"]),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_URL": "http://bot.example.com/t"}, ["is not https://", "nginx"]),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_URL": "https://bot.example.com:8080/t"}, ["port 8080", "443, 80, 88, 8443"]),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_URL": "https://bot.example.com"}, ["needs a path of its own"]),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/healthz"}, ["needs a path of its own"]),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_URL": "bot.example.com/t"}, ["is not a URL Telegram can deliver"]),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/t?x=1"}, ["is not a URL Telegram"]),
        ({"SANAD_LISTEN": "8080"}, ["SANAD_LISTEN='8080' is not host:port"]),
        ({"SANAD_LISTEN": "0.0.0.0:70000"}, ["SANAD_LISTEN='0.0.0.0:70000' is not host:port"]),
        ({"SANAD_LISTEN": ":::80"}, ["is not host:port", "IPv6 host in brackets"]),
    ],
)
def test_webhook_and_listen_problems_name_the_setting_and_the_fix(env: dict[str, str], fragments: list[str]) -> None:
    with pytest.raises(BotSettingsError) as caught:
        BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **env})
    message = str(caught.value)
    assert all(fragment in message for fragment in fragments), message


def test_a_malformed_webhook_secret_is_not_echoed() -> None:
    secret = "bad secret with spaces 0123456789"
    with pytest.raises(BotSettingsError) as caught:
        BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **WEBHOOK, "TELEGRAM_WEBHOOK_SECRET": secret})
    assert "spaces" not in str(caught.value)
