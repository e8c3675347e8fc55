"""Sanad core: articles → passages → index → retrieval → verbatim, cited answers.

Never imports Telegram; the bot imports only the names below.
"""

from .chats import ChatAnswer, ChatCollections, ChatLimits
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
    LimitError,
    LimitKind,
    ModelError,
    QuestionError,
    SanadError,
    SettingsError,
    URLRefusedError,
)
from .extract import DOCUMENT_KINDS, ExtractedArticle, decode_document, extract_article
from .fetch import FetchPolicy, fetch_url_async, new_async_client
from .indexed_library import IndexedLibrary
from .kept_answer import Context, ContextParagraph, keep_answer, lead_context, quote_ref, quoted_text, requote
from .library import Library
from .model import Encoder
from .pasted import looks_like_article
from .process import prepare_process
from .replica import SyncStatus
from .settings import Settings, hide_passwords, read_environment
from .store import (
    Action,
    ActionKind,
    ChatStore,
    ChatSummary,
    Feedback,
    KeptAnswer,
    PostgresChatStore,
    QuotedText,
    QuoteRef,
    SQLiteChatStore,
    StoredArticle,
    UpdateClaim,
    Vote,
    open_chat_store,
)
from .store.base import own_article_id, own_article_number
from .text_fragment import find_fragment_matches, text_fragment_url
from .types import ANSWER_KINDS, EXAMPLE_QUESTION, Answer, AnswerKind, Article, Passage, Quote, Scores, Span

__all__ = [
    "ANSWER_KINDS",
    "DOCUMENT_KINDS",
    "EXAMPLE_QUESTION",
    "Action",
    "ActionKind",
    "Answer",
    "AnswerKind",
    "Article",
    "ArticleError",
    "ArticleNotFoundError",
    "ChatAnswer",
    "ChatCollections",
    "ChatLimits",
    "ChatStore",
    "ChatSummary",
    "Collection",
    "Context",
    "ContextParagraph",
    "Encoder",
    "Engine",
    "EvalFileError",
    "ExtractError",
    "ExtractReason",
    "ExtractedArticle",
    "Feedback",
    "FetchError",
    "FetchFailedError",
    "FetchPolicy",
    "FetchReason",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexStaleError",
    "IndexStateError",
    "IndexedLibrary",
    "KeptAnswer",
    "Library",
    "LimitError",
    "LimitKind",
    "ModelError",
    "Passage",
    "PostgresChatStore",
    "QuestionError",
    "Quote",
    "QuoteRef",
    "QuotedText",
    "RetrievalConfig",
    "SQLiteChatStore",
    "SanadError",
    "Scores",
    "Settings",
    "SettingsError",
    "Span",
    "StoredArticle",
    "SyncStatus",
    "URLRefusedError",
    "UpdateClaim",
    "Vote",
    "decode_document",
    "extract_article",
    "fetch_url_async",
    "find_fragment_matches",
    "hide_passwords",
    "keep_answer",
    "lead_context",
    "looks_like_article",
    "new_async_client",
    "open_chat_store",
    "own_article_id",
    "own_article_number",
    "prepare_process",
    "quote_ref",
    "quoted_text",
    "read_environment",
    "requote",
    "text_fragment_url",
]
