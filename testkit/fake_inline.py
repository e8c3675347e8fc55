"""Inline queries in the fake Bot API: a user typing `@bot question` sends one
(`send_inline_query`); the bot's answerInlineQuery is checked as Telegram checks it
(inline_results.py), once per query, and kept (`wait_for_inline_answer`)."""

from __future__ import annotations

from typing import Any

from .fake_server import ApiError, FakeServer
from .inline_results import InlineAnswer, InlineAnswerError, check_inline_answer, inline_query_json


class InlineMethods(FakeServer):
    """Inline mode: the users' queries and the bot's answers to them."""

    def send_inline_query(self, user_id: int, query: str, *, chat_type: str = "private") -> str:
        """A user types `@bot query` in a chat of `chat_type`; returns the inline query id."""
        query_id = f"iq{next(self._update_ids)}"
        with self._changed:
            self._state.inline_pending.add(query_id)
        self._push({"inline_query": inline_query_json(query_id, user_id, query, chat_type)})
        return query_id

    def wait_for_inline_answer(self, query_id: str, timeout: float = 30.0) -> InlineAnswer:
        """The bot's (accepted) answer to an inline query, once it came."""
        self.wait_until(
            lambda: query_id in self._state.inline_answers, timeout, f"an answer to inline query {query_id}"
        )
        with self._changed:
            return self._state.inline_answers[query_id]

    def _api_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("inline_query_id", ""))
        with self._changed:
            try:
                answer = check_inline_answer(params, known=query_id in self._state.inline_pending)
            except InlineAnswerError as exc:
                raise ApiError(exc.status, exc.description) from exc
            self._state.inline_pending.discard(query_id)  # a query is answered once
            self._state.inline_answers[query_id] = answer
            self._changed.notify_all()
        return True
