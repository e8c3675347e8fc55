"""The bot's rate limiter: answers keep Telegram's limits, "typing" never waits for a slot."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.rate_limit import AnswersFirstRateLimiter

HANG_SECONDS = 30.0  # only turns a hang into a failure


def test_typing_goes_out_while_the_answers_wait_for_a_slot() -> None:
    sent: list[str] = []

    async def post(endpoint: str, data: dict[str, Any]) -> bool:
        sent.append(endpoint)
        return True

    async def scenario() -> None:
        limiter = AnswersFirstRateLimiter(overall_max_rate=1, overall_time_period=3600, max_retries=0)

        def request(endpoint: str, chat_id: int) -> asyncio.Task[Any]:
            data = {"chat_id": chat_id}
            return asyncio.ensure_future(limiter.process_request(post, (endpoint, data), {}, endpoint, data, None))

        await asyncio.wait_for(request("sendMessage", 1), HANG_SECONDS)  # the hour's one slot
        waiting = request("sendMessage", 2)
        for chat_id in (2, 3):
            await asyncio.wait_for(request("sendChatAction", chat_id), HANG_SECONDS)
        assert not waiting.done()  # the limit still holds for messages
        waiting.cancel()

    asyncio.run(scenario())
    assert sent == ["sendMessage", "sendChatAction", "sendChatAction"]
