"""Settings of the core, read once at the edge (CLI or bot) and passed down.

Values come from the process environment, then from `.env` in the working directory
(the environment wins). Library code never reads the environment itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import SettingsError
from .fetch import FetchPolicy

DEFAULT_MODEL = "default"
# How the model runs (SANAD_BACKEND): sentence-transformers on torch, or onnxruntime over the
# default model's exported ONNX file, fp32 or int8 (model.py). The default was chosen by
# measurement (README, The default model).
TORCH_BACKEND, ONNX_BACKEND, INT8_BACKEND = "torch", "onnx", "onnx-int8"
BACKENDS = (TORCH_BACKEND, ONNX_BACKEND, INT8_BACKEND)
DEFAULT_BACKEND = ONNX_BACKEND
# In the bot the model runs one thread: while a batch is embedded, the questions of the one
# before finish on the other core (their Python holds the GIL); a second model thread would take
# that core from them. A lone `ask` or an eval has nothing beside the model, so all cores.
SERVER_ENCODER_THREADS = 1
PROJECT_ROOT = Path(__file__).resolve().parent.parent
HIDDEN = "***"
DATABASE_URL_EXAMPLE = "postgresql://sanad:PASSWORD@localhost:5432/sanad"
_URL_PASSWORD = re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^/@\s:]*:)[^@\s]*(?=@)", re.IGNORECASE)
_KEY_PASSWORD = re.compile(r"(?P<keep>\bpassword\s*=\s*)('[^']*'|[^\s&']+)", re.IGNORECASE)


def read_environment(dotenv: Path | None = None) -> dict[str, str]:
    """The process environment laid over the entries of `.env` (if the file exists)."""
    from dotenv import dotenv_values

    path = dotenv if dotenv is not None else Path.cwd() / ".env"
    values: dict[str, str] = {}
    if path.is_file():
        values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    values.update(os.environ)
    return values


def parse_positive_int(raw: str) -> int | None:
    """`raw` as a whole number of at least 1, or None when it is not one (the caller says
    which setting or option it was)."""
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if value >= 1 else None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = parse_positive_int(raw)
    if value is None:
        raise SettingsError(f"{name}={raw!r} is not a positive whole number; set it to e.g. {default} in .env")
    return value


def _optional_positive_int(env: Mapping[str, str], name: str, example: int) -> int | None:
    """None when the setting is unset (its default depends on where it is used)."""
    return _positive_int(env, name, example) if env.get(name, "").strip() else None


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw == "0":
        return 0
    value = parse_positive_int(raw)
    if value is None:
        raise SettingsError(f"{name}={raw!r} is not a whole number of seconds; set it to e.g. {default}, or 0 for off")
    return value


def _milliseconds(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = 0 if raw == "0" else parse_positive_int(raw)
    if value is None or value > 1000:
        raise SettingsError(f"{name}={raw!r} is not a whole number of milliseconds (0-1000); set it to e.g. {default}")
    return value


def _optional_float(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a number; set it to e.g. 0.5, or remove it from .env") from exc


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r} is neither true nor false; set it to true or false in .env")


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    return _optional_path(env, name) or default


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw).expanduser() if raw else None


def hide_passwords(text: str) -> str:
    """`text` with the password of every URL (`scheme://user:PASSWORD@host`) and every
    `password=...` (query parameter or conninfo entry) replaced by ***, for messages and logs."""
    text = _URL_PASSWORD.sub(lambda m: m["keep"] + HIDDEN, text)
    return _KEY_PASSWORD.sub(lambda m: m["keep"] + HIDDEN, text)


def database_url_secrets(url: str | None) -> tuple[str, ...]:
    """The password in a database URL, as written and percent-decoded (for log redaction)."""
    if not url:
        return ()
    parts = urlsplit(url)
    found = [parts.password or ""]
    found += [m[2].strip("'") for m in _KEY_PASSWORD.finditer(parts.query)]
    return tuple(dict.fromkeys(s for raw in found for s in (raw, unquote(raw)) if s))


def _database_url(env: Mapping[str, str]) -> str | None:
    """SANAD_DATABASE_URL, checked to be a PostgreSQL URL that libpq can parse (None: unset)."""
    raw = env.get("SANAD_DATABASE_URL", "").strip()
    if not raw:
        return None
    fix = f"set it to e.g. {DATABASE_URL_EXAMPLE} in .env, or remove it to keep the embedded SQLite store"
    shown = hide_passwords(raw)
    if urlsplit(raw).scheme.lower() not in ("postgresql", "postgres"):
        raise SettingsError(f"SANAD_DATABASE_URL={shown!r} is not a postgresql:// URL; {fix}")
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        urlsplit(raw).port  # noqa: B018 - raises ValueError for a port out of range
        conninfo_to_dict(raw)
    except (ValueError, ProgrammingError) as exc:
        reason = hide_passwords(str(exc).strip())
        raise SettingsError(f"SANAD_DATABASE_URL={shown!r} cannot be read ({reason}); {fix}") from None
    return raw


def _backend(env: Mapping[str, str]) -> str:
    raw = env.get("SANAD_BACKEND", "").strip()
    if not raw:
        return DEFAULT_BACKEND
    if raw.lower() not in BACKENDS:
        raise SettingsError(f"SANAD_BACKEND={raw!r} is not a backend; set it to one of {', '.join(BACKENDS)} in .env")
    return raw.lower()


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sanad" / "models"


@dataclass(frozen=True)
class Settings:
    """Where articles and the index live, which model embeds them, how answers are cut."""

    articles_dir: Path = PROJECT_ROOT / "data" / "articles"
    index_dir: Path = PROJECT_ROOT / "data" / "index"
    model: str = DEFAULT_MODEL
    model_cache: Path = field(default_factory=_default_cache)
    backend: str = DEFAULT_BACKEND  # one of BACKENDS
    top_k: int = 3
    abstain_threshold: float | None = None  # None: the calibration's threshold for "answer"
    calibration: Path | None = None  # None: the model's packaged calibration
    allow_private_urls: bool = False  # fetch articles from loopback, private, link-local... addresses
    database: Path = PROJECT_ROOT / "data" / "sanad.db"  # the chats' own articles, focus, counters
    chats_dir: Path = PROJECT_ROOT / "data" / "chats"  # the chats' indexes (derived data)
    articles_per_chat: int = 20
    adds_per_hour: int = 10  # per user, over the last hour
    loaded_chats: int = 32  # chat indexes kept in memory (least recently used dropped first)
    max_article_bytes: int = 5_000_000  # a page or file bigger than this is refused
    follow_up_seconds: int = 600  # a follow-up question leans on the chat's previous one this long (0: never)
    # Questions asked at once embedded in one model call, at most this many (1: off). 8, not more: while
    # one batch is embedded the questions of the one before finish on the other core (batching.py).
    query_batch: int = 8
    query_batch_window_ms: int = 2  # under load, a batch waits this long to fill (0: never waits)
    # onnxruntime's threads for one forward pass; None: every core this process may use (as torch)
    # on the command line, SERVER_ENCODER_THREADS in the bot (`server_encoder_threads`).
    encoder_threads: int | None = None
    database_url: str | None = field(default=None, repr=False)  # PostgreSQL instead of `database`; holds a password

    @property
    def server_encoder_threads(self) -> int:
        """The model's threads in the bot (and a replica): SANAD_ENCODER_THREADS, else
        SERVER_ENCODER_THREADS."""
        return self.encoder_threads or SERVER_ENCODER_THREADS

    def secrets(self) -> tuple[str, ...]:
        """What must never reach a log line: the database password, if any."""
        return database_url_secrets(self.database_url)

    def fetch_policy(self) -> FetchPolicy:
        """How pages are fetched with these settings (private addresses, the size cap)."""
        return FetchPolicy(max_bytes=self.max_article_bytes, allow_private=self.allow_private_urls)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Settings from environment-like values; unknown keys are ignored."""
        return cls(
            articles_dir=_path(env, "SANAD_ARTICLES_DIR", cls.articles_dir),
            index_dir=_path(env, "SANAD_INDEX_DIR", cls.index_dir),
            model=env.get("EMBEDDING_MODEL", "").strip() or DEFAULT_MODEL,
            model_cache=_path(env, "SANAD_MODEL_CACHE", _default_cache()),
            backend=_backend(env),
            top_k=_positive_int(env, "SANAD_TOP_K", cls.top_k),
            abstain_threshold=_optional_float(env, "SANAD_ABSTAIN_THRESHOLD"),
            calibration=_optional_path(env, "SANAD_CALIBRATION"),
            allow_private_urls=_bool(env, "SANAD_ALLOW_PRIVATE_URLS", cls.allow_private_urls),
            database=_path(env, "SANAD_DATABASE", cls.database),
            chats_dir=_path(env, "SANAD_CHATS_DIR", cls.chats_dir),
            articles_per_chat=_positive_int(env, "SANAD_ARTICLES_PER_CHAT", cls.articles_per_chat),
            adds_per_hour=_positive_int(env, "SANAD_ADDS_PER_HOUR", cls.adds_per_hour),
            loaded_chats=_positive_int(env, "SANAD_LOADED_CHATS", cls.loaded_chats),
            max_article_bytes=_positive_int(env, "SANAD_MAX_ARTICLE_BYTES", cls.max_article_bytes),
            follow_up_seconds=_seconds(env, "SANAD_FOLLOW_UP_SECONDS", cls.follow_up_seconds),
            query_batch=_positive_int(env, "SANAD_QUERY_BATCH", cls.query_batch),
            query_batch_window_ms=_milliseconds(env, "SANAD_QUERY_BATCH_WINDOW_MS", cls.query_batch_window_ms),
            encoder_threads=_optional_positive_int(env, "SANAD_ENCODER_THREADS", SERVER_ENCODER_THREADS),
            database_url=_database_url(env),
        )
