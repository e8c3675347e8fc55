"""What the handlers share: the library (with the engine over it), its worker threads and the
web client, opened in post_init; who administers the bot and how pages are fetched, set when the app is built."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
from telegram import User
from telegram.ext import Application, CallbackContext, ExtBot

from embeddings import Answer, Article, FetchPolicy, IndexedLibrary

_T = TypeVar("_T")


class BotData:
    """The application's resources; empty until post_init, emptied again in post_shutdown."""

    def __init__(self) -> None:
        self.library: IndexedLibrary | None = None  # the shared library and the engine over it
        self.executor: ThreadPoolExecutor | None = None
        self.http: httpx.AsyncClient | None = None  # fetches the pages of /add
        self.admin_user_ids: frozenset[int] = frozenset()
        self.fetch_policy: FetchPolicy = FetchPolicy()


class SanadContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context, able to ask the engine without blocking the event loop."""

    @property
    def library(self) -> IndexedLibrary:
        """The open library; post_init opens it before the bot starts polling."""
        library = self.bot_data.library
        if library is None:
            raise RuntimeError("the library is not open: post_init has not run or post_shutdown already ran")
        return library

    @property
    def articles(self) -> tuple[Article, ...]:
        """The indexed articles."""
        return self.library.articles

    def is_admin(self, user: User | None) -> bool:
        """True if `user` may add and remove articles (ADMIN_USER_IDS)."""
        return user is not None and user.id in self.bot_data.admin_user_ids

    async def ask(self, question: str) -> Answer:
        """The engine's answer, computed on the application's worker threads."""
        return await self.run(self.library.engine.ask, question)

    async def run(self, work: Callable[..., _T], *args: object, **kwargs: object) -> _T:
        """`work(*args, **kwargs)` on the application's worker threads (engine work, file I/O)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.bot_data.executor, functools.partial(work, *args, **kwargs))


# The application as the bot builds it: its context and bot_data types are Sanad's.
SanadApplication = Application[ExtBot[Any], SanadContext, dict[Any, Any], dict[Any, Any], BotData, Any]
