"""Exceptions raised by the Sanad core: every one of them is defined here.

Every message names the value, file or setting at fault and the command that fixes it,
so the command line and the bot can show it to a person as it is. The refusals of a page
or a file also carry a stable `reason` code (`FetchReason`, `ExtractReason`): the bot
translates by it, and `typing.get_args` lists the codes, e.g. to check a table of texts.

    SanadError
    ├── SettingsError              a setting has a value we cannot use
    ├── ArticleError               an article file or text cannot be read or is unusable
    │   ├── ArticleNotFoundError   no article of the library has the id asked for
    │   ├── ExtractError           .source, .reason, .detail: the page or file holds no usable
    │   │                          article text: empty, not_text, file_type, too_large, garbage
    │   └── FetchError             .url, .reason, .detail, .via (the URL asked for, after redirects)
    │       ├── URLRefusedError    refused by policy, will not work as it is: invalid_url, scheme,
    │       │                      private_address, too_many_redirects, too_large, content_type
    │       └── FetchFailedError   the network or the server failed: timeout, network, http_status
    ├── ModelError                 the embedding model cannot be built or loaded
    ├── IndexStateError            the index folder is missing, stale or corrupt
    │   ├── IndexMissingError
    │   ├── IndexStaleError
    │   └── IndexCorruptError
    ├── QuestionError              the question itself is unusable (empty, ...)
    ├── DatabaseError              PostgreSQL (SANAD_DATABASE_URL) failed after the store opened:
    │                              down, restarted, unreachable; trying again later may work
    ├── LimitError                 .limit, .allowed: a chat or a user reached a limit of adding
    │                              (articles_per_chat, adds_per_hour)
    ├── CalibrationError           a calibration file cannot be read or does not fit the code
    └── EvalFileError              an evaluation file is not SQuAD v1.1 or v2.0 JSON

(The bot adds its own `BotSettingsError` under `SanadError`, in `bot/settings.py`.)
"""

from __future__ import annotations

from typing import Literal

FetchReason = Literal[
    "invalid_url",
    "scheme",
    "private_address",
    "too_many_redirects",
    "too_large",
    "content_type",
    "timeout",
    "network",
    "http_status",
]
ExtractReason = Literal["empty", "not_text", "file_type", "too_large", "garbage"]
LimitKind = Literal["articles_per_chat", "adds_per_hour"]


class SanadError(Exception):
    """Base class: a problem a person can fix, described in its message."""


class SettingsError(SanadError):
    """A setting (environment variable or .env entry) has an unusable value."""


class ArticleError(SanadError):
    """An article cannot be read, or its text is unusable."""


class ArticleNotFoundError(ArticleError):
    """No article of the library has the id asked for."""


class ExtractError(ArticleError):
    """A page or file holds no usable article text; `reason` is a stable code for translations."""

    def __init__(self, source: str, reason: ExtractReason, detail: str) -> None:
        self.source, self.reason, self.detail = source, reason, detail
        super().__init__(f"Cannot use {source} as an article: {detail}")


class FetchError(ArticleError):
    """A URL could not be turned into a page; `reason` is a stable code for translations."""

    verb = "Could not fetch"

    def __init__(self, url: str, reason: FetchReason, detail: str, via: str | None = None) -> None:
        self.url, self.reason, self.detail, self.via = url, reason, detail, via
        where = f"{url} (reached by redirects from {via})" if via else url
        super().__init__(f"{self.verb} {where}: {detail}")

    def for_url(self, url: str, via: str | None = None) -> FetchError:
        """The same refusal, naming `url` (and the URL first asked for, `via`)."""
        return type(self)(url, self.reason, self.detail, via)


class URLRefusedError(FetchError):
    """The URL, or what it serves, is refused by the policy: it will not work as it is."""

    verb = "Refused"


class FetchFailedError(FetchError):
    """The network or the server did not deliver the page; it may work later."""


class ModelError(SanadError):
    """The embedding model cannot be built or loaded."""


class IndexStateError(SanadError):
    """The index folder cannot be used as it is."""


class IndexMissingError(IndexStateError):
    """No index has been built yet in the index folder."""


class IndexStaleError(IndexStateError):
    """The index was built from other articles, another model or other settings."""


class IndexCorruptError(IndexStateError):
    """A file of the index folder is damaged; the message names it."""


class QuestionError(SanadError):
    """The question cannot be answered as asked (for example, it is empty)."""


class DatabaseError(SanadError):
    """The database (SANAD_DATABASE_URL) failed while in use; the message says what to check."""


class LimitError(SanadError):
    """Adding is refused by a limit (a setting); `limit` says which, `allowed` its value."""

    def __init__(self, limit: LimitKind, allowed: int, detail: str) -> None:
        self.limit, self.allowed = limit, allowed
        super().__init__(detail)


class CalibrationError(SanadError):
    """A calibration file (SANAD_CALIBRATION, or the packaged one) cannot be used."""


class EvalFileError(SanadError):
    """An evaluation file is not SQuAD v1.1 or v2.0 JSON."""
