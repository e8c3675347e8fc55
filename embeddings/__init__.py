"""Sanad core: articles → passages → index → retrieval → verbatim, cited answers.

Never imports Telegram; the bot imports only the names below.
"""

from .engine import Engine, RetrievalConfig
from .errors import (
    ArticleError,
    ArticleNotFoundError,
    EvalFileError,
    ExtractError,
    ExtractReason,
    FetchError,
    FetchFailedError,
    FetchReason,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    IndexStateError,
    ModelError,
    QuestionError,
    SanadError,
    SettingsError,
    URLRefusedError,
)
from .extract import DOCUMENT_KINDS, ExtractedArticle, decode_document, extract_article
from .fetch import FetchPolicy, fetch_url_async, new_async_client
from .library import Library
from .settings import Settings, read_environment
from .types import Answer, Article, Passage, Quote, Scores, Span

__all__ = [
    "DOCUMENT_KINDS",
    "Answer",
    "Article",
    "ArticleError",
    "ArticleNotFoundError",
    "Engine",
    "EvalFileError",
    "ExtractError",
    "ExtractReason",
    "ExtractedArticle",
    "FetchError",
    "FetchFailedError",
    "FetchPolicy",
    "FetchReason",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexStaleError",
    "IndexStateError",
    "Library",
    "ModelError",
    "Passage",
    "QuestionError",
    "Quote",
    "RetrievalConfig",
    "SanadError",
    "Scores",
    "Settings",
    "SettingsError",
    "Span",
    "URLRefusedError",
    "decode_document",
    "extract_article",
    "fetch_url_async",
    "new_async_client",
    "read_environment",
]
