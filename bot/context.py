"""What the handlers share: the engine and the threads it answers on, opened in post_init."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from embeddings import Answer, Article, Engine


class BotData:
    """The application's resources; empty until post_init, emptied again in post_shutdown."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.executor: ThreadPoolExecutor | None = None


class SanadContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context, able to ask the engine without blocking the event loop."""

    @property
    def engine(self) -> Engine:
        """The open engine; post_init opens it before the bot starts polling."""
        engine = self.bot_data.engine
        if engine is None:
            raise RuntimeError("the engine is not open: post_init has not run or post_shutdown already ran")
        return engine

    @property
    def articles(self) -> tuple[Article, ...]:
        """The indexed articles."""
        return self.engine.articles

    async def ask(self, question: str) -> Answer:
        """The engine's answer, computed on the application's worker threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.bot_data.executor, self.engine.ask, question)
