"""Sanad core: articles → passages → index → retrieval → verbatim, cited answers.

Never imports Telegram; the bot imports only the names below.
"""

from .collection import Collection
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
from .indexed_library import IndexedLibrary
from .library import Library
from .model import Encoder
from .process import prepare_process
from .settings import Settings, read_environment
from .text_fragment import find_fragment_matches, text_fragment_url
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
    "FetchFailedError",
    "FetchPolicy",
    "FetchReason",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexStaleError",
    "IndexStateError",
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
    "URLRefusedError",
    "decode_document",
    "extract_article",
    "fetch_url_async",
    "find_fragment_matches",
    "new_async_client",
    "prepare_process",
    "read_environment",
    "text_fragment_url",
]
