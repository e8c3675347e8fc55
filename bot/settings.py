"""Settings of the Telegram bot, read once from the environment (or `.env`) at start.

Every missing or unusable value is reported at once, in one line each, so a person fixes
`.env` in one go. The token and the webhook secret are never echoed back, not even when
they are malformed.

Webhook mode (TELEGRAM_WEBHOOK_URL set) needs TELEGRAM_WEBHOOK_SECRET and SANAD_LISTEN; without
the URL the bot long-polls, and SANAD_LISTEN, if set, serves only /healthz and /metrics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from embeddings import SanadError

DEFAULT_API_BASE_URL = "https://api.telegram.org"
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")  # Telegram allows 1-256 of these; we ask for 16 at least
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram delivers webhooks to
OPS_PATHS = ("/healthz", "/metrics")  # served beside the webhook
_MAKE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
# The Bot API recommends "typing" only when a reply takes a noticeable time to arrive; most
# answers take tens of ms, and a "typing" for each would double the bot's Bot API requests.
DEFAULT_TYPING_AFTER_MS = 500
MAX_TYPING_AFTER_MS = 60_000


class BotSettingsError(SanadError):
    """One or more bot settings are missing or unusable; the message lists them all."""


@dataclass(frozen=True)
class Listen:
    """Where the bot's HTTP server listens (SANAD_LISTEN=host:port)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Webhook:
    """Where Telegram delivers updates, and the secret it sends with each."""

    url: str
    secret: str = field(repr=False)

    @property
    def path(self) -> str:
        """The path of `url`: the route the bot serves the webhook at."""
        return urlsplit(self.url).path


@dataclass(frozen=True)
class BotSettings:
    """What the bot needs to talk to Telegram, who may administer it, and (webhook mode,
    operator's endpoints) where it listens."""

    token: str = field(repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    admin_user_ids: frozenset[int] = frozenset()
    webhook: Webhook | None = None  # None: long polling
    listen: Listen | None = None  # None: no HTTP server (polling mode only)
    typing_after: float = DEFAULT_TYPING_AFTER_MS / 1000  # seconds a question takes before "typing" shows

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BotSettings:
        """Settings from environment-like values; raises BotSettingsError listing every problem."""
        problems: list[str] = []
        token = _token(env, problems)
        api_base_url = _api_base_url(env, problems)
        admin_user_ids = _admin_user_ids(env, problems)
        webhook = _webhook(env, api_base_url, problems)
        listen = _listen(env, problems, webhook_mode=bool(env.get("TELEGRAM_WEBHOOK_URL", "").strip()))
        typing_after = _typing_after(env, problems)
        if problems:
            raise BotSettingsError("\n".join(problems))
        return cls(token, api_base_url, admin_user_ids, webhook, listen, typing_after)

    def secrets(self) -> tuple[str, ...]:
        """What must never reach a log line: the token and the webhook secret."""
        return (self.token, self.webhook.secret) if self.webhook else (self.token,)

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


def _webhook(env: Mapping[str, str], api_base_url: str, problems: list[str]) -> Webhook | None:
    raw = env.get("TELEGRAM_WEBHOOK_URL", "").strip()
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip()
    if not raw:
        if secret:
            problems.append(
                "TELEGRAM_WEBHOOK_SECRET is set but TELEGRAM_WEBHOOK_URL is not: set the URL Telegram should "
                "deliver updates to (webhook mode), or remove the secret from .env to long-poll"
            )
        return None
    _check_webhook_url(raw, official=api_base_url == DEFAULT_API_BASE_URL, problems=problems)
    if not secret:
        problems.append(
            "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode needs a secret Telegram sends with every update "
            f"(16-256 letters, digits, '_' or '-'); make one with {_MAKE_SECRET} and put it in .env"
        )
    elif not _SECRET.fullmatch(secret):
        problems.append(
            "TELEGRAM_WEBHOOK_SECRET must be 16-256 characters, each a letter, a digit, '_' or '-' (what Telegram "
            f"accepts); make one with {_MAKE_SECRET} and put it in .env"
        )
    return Webhook(raw, secret)


def _check_webhook_url(raw: str, *, official: bool, problems: list[str]) -> None:
    parts = urlsplit(raw)
    example = "e.g. https://bot.example.com/telegram"
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1 or parts.query or parts.fragment:
        problems.append(f"TELEGRAM_WEBHOOK_URL={raw!r} is not a URL Telegram can deliver updates to; {example}")
    elif official and parts.scheme != "https":
        problems.append(
            f"TELEGRAM_WEBHOOK_URL={raw!r} is not https://: Telegram delivers webhooks only over HTTPS; put TLS in "
            f"front of the bot (nginx, see the README) and give that address, {example}"
        )
    elif official and (port or 443) not in TELEGRAM_WEBHOOK_PORTS:
        problems.append(
            f"TELEGRAM_WEBHOOK_URL={raw!r} uses port {port}; Telegram delivers webhooks only to ports "
            f"{', '.join(map(str, TELEGRAM_WEBHOOK_PORTS))}; let the proxy listen on one of them"
        )
    elif parts.path in ("", "/") or parts.path in OPS_PATHS:
        problems.append(
            f"TELEGRAM_WEBHOOK_URL={raw!r} needs a path of its own (not /, {' or '.join(OPS_PATHS)}), "
            f"which the bot serves the webhook at; {example}"
        )


def _listen(env: Mapping[str, str], problems: list[str], *, webhook_mode: bool) -> Listen | None:
    raw = env.get("SANAD_LISTEN", "").strip()
    example = "e.g. SANAD_LISTEN=127.0.0.1:8080 behind a proxy on the same machine, or 0.0.0.0:8080 in a container"
    if not raw:
        if webhook_mode:
            problems.append(
                "SANAD_LISTEN is not set: TELEGRAM_WEBHOOK_URL is set, so the bot needs an address to listen on; "
                + example
            )
        return None
    found = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s]+):(\d{1,5})", raw)
    port = int(found[2] or found[4]) if found else 0
    if found is None or not 1 <= port <= 65535:
        problems.append(f"SANAD_LISTEN={raw!r} is not host:port (a port 1-65535, an IPv6 host in brackets); {example}")
        return None
    return Listen(found[1] or found[3], port)


def _typing_after(env: Mapping[str, str], problems: list[str]) -> float:
    raw = env.get("SANAD_TYPING_AFTER_MS", "").strip()
    if not raw:
        return DEFAULT_TYPING_AFTER_MS / 1000
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_TYPING_AFTER_MS:
        problems.append(
            f"SANAD_TYPING_AFTER_MS={raw!r} is not a whole number of milliseconds from 0 to {MAX_TYPING_AFTER_MS}: "
            'how long a question may take before the bot shows "typing" '
            f"(default {DEFAULT_TYPING_AFTER_MS}; 0: at once)"
        )
        return DEFAULT_TYPING_AFTER_MS / 1000
    return int(raw) / 1000
