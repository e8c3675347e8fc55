"""The bot's rate limiter: PTB's AIORateLimiter (Telegram's 30 messages a second, 20 a minute
in a group, resending after a 429), except for "typing".

AIORateLimiter counts every request that names a chat, so each question spent two of the 30
slots a second: its "typing" and its answer; 30 chats asking at once waited a second longer
for their answers than Telegram requires. Telegram's limits are on messages; "typing" is a
courtesy whose failures are ignored (talk.py), so it goes straight out and never delays an
answer, nor waits behind one.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

UNLIMITED_ENDPOINTS = frozenset({"sendChatAction"})

_Result = bool | dict[str, Any] | list[dict[str, Any]]


class AnswersFirstRateLimiter(AIORateLimiter):
    """AIORateLimiter, with the chat actions ("typing") sent without taking a slot."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, _Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> _Result:
        """Send a chat action at once; any other request through AIORateLimiter."""
        if endpoint in UNLIMITED_ENDPOINTS:
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
