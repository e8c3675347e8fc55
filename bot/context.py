"""What the handlers share: the library (with the engine over it), the chats' own collections,
the worker threads and the web client, opened in post_init; who administers the bot and how
pages are fetched, set when the app is built; the application's metrics."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
from telegram import Chat, ChatMember, User
from telegram.error import TelegramError
from telegram.ext import Application, CallbackContext, ExtBot

from embeddings import ChatCollections, FetchPolicy, IndexedLibrary

from .metrics import Figures, Metrics

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class BotData:
    """The application's resources; empty until post_init, emptied again in post_shutdown."""

    def __init__(self) -> None:
        self.library: IndexedLibrary | None = None  # the shared library and the engine over it
        self.chats: ChatCollections | None = None  # each chat's own articles
        self.executor: ThreadPoolExecutor | None = None
        self.http: httpx.AsyncClient | None = None  # fetches the pages of /add
        self.admin_user_ids: frozenset[int] = frozenset()
        self.fetch_policy: FetchPolicy = FetchPolicy()
        self.typing_after = 0.0  # seconds a question takes before "typing" shows (SANAD_TYPING_AFTER_MS)
        self.metrics = Metrics(self.figures)  # one registry per application

    def figures(self) -> Figures:
        """What /metrics reads now: the library's index size, the loaded chats, replica sync."""
        library, chats = self.library, self.chats
        if library is None:
            return Figures()
        loaded = len(chats.loaded_chats()) if chats is not None else 0
        return Figures(len(library.index), len(library.articles), loaded, library.sync_status())


class SanadContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context: the library, the chats, and work run off the event loop."""

    @property
    def library(self) -> IndexedLibrary:
        """The open library; post_init opens it before the bot starts polling."""
        library = self.bot_data.library
        if library is None:
            raise RuntimeError("the library is not open: post_init has not run or post_shutdown already ran")
        return library

    @property
    def chats(self) -> ChatCollections:
        """The chats' own collections; post_init opens them before the bot starts polling."""
        chats = self.bot_data.chats
        if chats is None:
            raise RuntimeError("the chats are not open: post_init has not run or post_shutdown already ran")
        return chats

    def is_admin(self, user: User | None) -> bool:
        """True if `user` may add and remove articles (ADMIN_USER_IDS)."""
        return user is not None and user.id in self.bot_data.admin_user_ids

    async def may_manage(self, chat: Chat, user: User | None) -> bool:
        """True if `user` may add and forget the chat's own articles: anyone in a private chat,
        in a group its Telegram administrators (asked of the Bot API each time)."""
        if user is None:
            return False
        if chat.type == Chat.PRIVATE:
            return True
        try:
            member = await self.bot.get_chat_member(chat.id, user.id)
        except TelegramError as exc:
            logger.warning("Could not check whether user %s administers chat %s: %s", user.id, chat.id, exc)
            return False
        return member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)

    async def run(self, work: Callable[..., _T], *args: object, **kwargs: object) -> _T:
        """`work(*args, **kwargs)` on the application's worker threads (engine work, file I/O)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.bot_data.executor, functools.partial(work, *args, **kwargs))


# The application as the bot builds it: its context and bot_data types are Sanad's.
SanadApplication = Application[ExtBot[Any], SanadContext, dict[Any, Any], dict[Any, Any], BotData, Any]
