"""bot.redact: the token never reaches a log line, an argument or a traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from bot.redact import REDACTED, RedactFilter
from embeddings import Settings

SECRET = "123456:SECRET-token-value_abcdefghijklmnop"


def _log_through_filter(emit: Callable[[logging.Logger], None]) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter([SECRET]))
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_secret_in_message_and_arguments_is_redacted() -> None:
    out = _log_through_filter(lambda log: log.warning("GET /bot%s/getMe failed (%s)", SECRET, f"url={SECRET}"))
    assert SECRET not in out and out.count(REDACTED) == 2


def test_secret_in_traceback_is_redacted() -> None:
    def emit(log: logging.Logger) -> None:
        try:
            raise RuntimeError(f"The token `{SECRET}` was rejected by the server.")
        except RuntimeError:
            log.exception("start failed")

    out = _log_through_filter(emit)
    assert "RuntimeError" in out and SECRET not in out and REDACTED in out


def test_a_database_password_is_redacted_given_or_not() -> None:
    password = "pg-Pass_word-9"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(
        RedactFilter(Settings.from_env({"SANAD_DATABASE_URL": f"postgresql://u:{password}@db/x"}).secrets())
    )
    logger = logging.getLogger("tests.redact.database")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting to postgresql://u:%s@db/x", password)
        logger.warning("the server said: password %s is wrong", password)
        logger.warning("another one: host=db password=other-secret and https://me:also-secret@proxy/")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert password not in out and "other-secret" not in out and "also-secret" not in out
    assert "postgresql://u:" in out and "host=db password=***" in out and "https://me:***@proxy/" in out
