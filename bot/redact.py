"""Logging set-up that keeps the bot token and the database password out of every log line
and traceback: the given secrets are replaced wherever they appear, and so is the password of
any URL (`scheme://user:PASSWORD@host`) or `password=...` entry, whatever logged it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from embeddings import hide_passwords

REDACTED = "<redacted>"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CHATTY_LIBRARIES = ("httpx", "httpcore")  # they log every request URL, which holds the token
_NOISY_LIBRARIES = ("bm25s",)  # debug lines while the index is built


class RedactFilter(logging.Filter):
    """Replaces secrets in a record's message, arguments, traceback and stack text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(secret for secret in secrets if secret)

    def redact(self, text: str) -> str:
        """`text` with every secret, and every password in a URL or conninfo, replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return hide_passwords(text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def quiet_http_libraries() -> None:
    """Stop httpx and httpcore from logging request URLs (they contain the token)."""
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(secrets: Iterable[str], level: int = logging.INFO) -> None:
    """Log to stderr, with secrets redacted from every record that reaches the handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactFilter(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.captureWarnings(True)
    quiet_http_libraries()
    for name in _NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO)
