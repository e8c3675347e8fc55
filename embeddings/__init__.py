"""Sanad core: articles → passages → index → retrieval → verbatim, cited answers.

Never imports Telegram; the bot imports only the names below.
"""

from .engine import Engine, RetrievalConfig
from .errors import (
    ArticleError,
    EvalFileError,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    ModelError,
    QuestionError,
    SanadError,
    SettingsError,
)
from .extract import DOCUMENT_KINDS, ExtractedArticle, ExtractError, ExtractReason, decode_document, extract_article
from .fetch import FetchError, FetchPolicy, FetchReason
from .library import ArticleNotFoundError, Library
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
    "FetchPolicy",
    "FetchReason",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexStaleError",
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
    "decode_document",
    "extract_article",
    "read_environment",
]
