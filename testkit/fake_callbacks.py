"""Button presses in the fake Bot API: a user presses an inline button (`press_button`), the bot
answers the callback query once (answerCallbackQuery, checked as Telegram checks it), and the
answer is kept (`callback_answer`)."""

from __future__ import annotations

import time
from typing import Any

from .fake_server import ApiError, FakeServer
from .telegram_objects import QUERY_TOO_OLD, CallbackAnswer, Sent, message_json, user_json

CALLBACK_TEXT_LIMIT = 200  # characters of an answerCallbackQuery text


class CallbackMethods(FakeServer):
    """Callback queries: the users' presses and the bot's answers to them."""

    def press_button(self, chat_id: int, data: str, *, user_id: int | None = None, message: Sent | None = None) -> str:
        """A user presses an inline button carrying `data` (on the bot's `message`, if given:
        the query carries it as Telegram stored it); returns the callback query id."""
        query_id = f"cq{next(self._update_ids)}"
        user = user_json(user_id or abs(chat_id))
        with self._changed:
            stored = self._state.messages.get((message.chat_id, message.message_id)) if message else None
            self._state.queries[query_id] = None
        text = message_json(1, chat_id, self.bot_user) | {"text": "زر"}
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": str(chat_id),
                    "data": data,
                    "message": stored or text,
                }
            }
        )
        return query_id

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        """What the bot answered to a button press (None: not yet)."""
        with self._changed:
            return self._state.queries.get(query_id)

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id, text = str(params.get("callback_query_id", "")), str(params.get("text") or "")
        with self._changed:
            if query_id not in self._state.queries or self._state.queries[query_id] is not None:
                raise ApiError(400, QUERY_TOO_OLD)
            if len(text) > CALLBACK_TEXT_LIMIT:
                raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            alert = str(params.get("show_alert", "")).lower() in ("true", "1")
            self._state.queries[query_id] = CallbackAnswer(query_id, text, alert, time.monotonic())
            self._changed.notify_all()
        return True
