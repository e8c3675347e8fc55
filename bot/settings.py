"""Settings of the Telegram bot, read once from the environment (or `.env`) at start.

Every missing or unusable value is reported at once, in one line each, so a person fixes
`.env` in one go. The token is never echoed back, not even when it is malformed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from embeddings import SanadError

DEFAULT_API_BASE_URL = "https://api.telegram.org"
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")


class BotSettingsError(SanadError):
    """One or more bot settings are missing or unusable; the message lists them all."""


@dataclass(frozen=True)
class BotSettings:
    """What the bot needs to talk to Telegram, and who may administer it."""

    token: str = field(repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    admin_user_ids: frozenset[int] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BotSettings:
        """Settings from environment-like values; raises BotSettingsError listing every problem."""
        problems: list[str] = []
        token = _token(env, problems)
        api_base_url = _api_base_url(env, problems)
        admin_user_ids = _admin_user_ids(env, problems)
        if problems:
            raise BotSettingsError("\n".join(problems))
        return cls(token=token, api_base_url=api_base_url, admin_user_ids=admin_user_ids)

    @property
    def base_url(self) -> str:
        """Prefix of Bot API method URLs; the library appends the token and the method."""
        return f"{self.api_base_url}/bot"

    @property
    def base_file_url(self) -> str:
        """Prefix of Bot API file download URLs; the library appends the token and the path."""
        return f"{self.api_base_url}/file/bot"


def _token(env: Mapping[str, str], problems: list[str]) -> str:
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        problems.append(
            "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather in Telegram and put it in .env "
            "as TELEGRAM_BOT_TOKEN=... (see .env.example)"
        )
    elif not _TOKEN.fullmatch(token):
        problems.append(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters, digits, "
            "'-' or '_'); copy it again from @BotFather into .env, without quotes or spaces"
        )
    return token


def _api_base_url(env: Mapping[str, str], problems: list[str]) -> str:
    raw = env.get("TELEGRAM_API_BASE_URL", "").strip()
    if not raw:
        return DEFAULT_API_BASE_URL
    url = raw.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        problems.append(
            f"TELEGRAM_API_BASE_URL={raw!r} is not the root URL of a Bot API server; "
            f"set it to e.g. {DEFAULT_API_BASE_URL} or http://127.0.0.1:8081, or remove it from .env"
        )
    elif url.endswith("/bot"):
        problems.append(
            f"TELEGRAM_API_BASE_URL={raw!r} ends with /bot; give the server root only "
            f"(e.g. {DEFAULT_API_BASE_URL}), the bot adds /bot<token>/<method> itself"
        )
    return url


def _admin_user_ids(env: Mapping[str, str], problems: list[str]) -> frozenset[int]:
    raw = env.get("ADMIN_USER_IDS", "").strip()
    items = [item.strip() for item in raw.split(",") if item.strip()]
    bad = [item for item in items if not (item.isascii() and item.isdigit() and int(item) > 0)]
    if bad:
        problems.append(
            f"ADMIN_USER_IDS={raw!r} has entries that are not numeric Telegram user ids: "
            f"{', '.join(map(repr, bad))}; write them comma-separated, e.g. ADMIN_USER_IDS=12345678,87654321"
        )
        return frozenset()
    return frozenset(int(item) for item in items)
