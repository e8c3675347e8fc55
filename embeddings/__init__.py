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
from .settings import Settings, read_environment
from .types import Answer, Article, Passage, Quote, Scores, Span

__all__ = [
    "Answer",
    "Article",
    "ArticleError",
    "Engine",
    "EvalFileError",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexStaleError",
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
    "read_environment",
]
