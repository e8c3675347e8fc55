"""Sanad core: articles → passages → index → retrieval → verbatim, cited answers.

Never imports Telegram; the bot imports only the names below.
"""

from .collection import Collection
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
from .indexed_library import IndexedLibrary
from .library import ArticleNotFoundError, Library
from .model import Encoder
from .process import prepare_process
from .settings import Settings, read_environment
from .types import EXAMPLE_QUESTION, Answer, Article, Passage, Quote, Scores, Span

__all__ = [
    "DOCUMENT_KINDS",
    "EXAMPLE_QUESTION",
    "Answer",
    "Article",
    "ArticleError",
    "ArticleNotFoundError",
    "Collection",
    "Encoder",
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
    "IndexedLibrary",
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
    "prepare_process",
    "read_environment",
]
