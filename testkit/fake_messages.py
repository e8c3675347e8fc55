"""Messages in the fake Bot API: what users write (and edit), what the bot sends and edits.

sendMessage, editMessageText and editMessageReplyMarkup are checked as Telegram checks them
(telegram_html.py parses the HTML; the visible text must not be empty and must fit 4,096 UTF-16
code units; inline keyboards are checked by telegram_objects.py). Only the bot's own messages
can be edited, in their chat; an edit that changes nothing is refused with "message is not
modified". `sent`, `current`, `edits_to`, `messages_to`, `messages_by_chat` and
`wait_for_messages` read what the bot did.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from .fake_server import ApiError, FakeServer
from .telegram_html import MESSAGE_LIMIT, parse_text, user_entities, utf16_length
from .telegram_objects import Sent, check_keyboard, message_json, user_json

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class MessageMethods(FakeServer):
    """The users' messages and the bot's sendMessage and edits."""

    # --- the users' side -----------------------------------------------------------------

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        reply_to: Sent | None = None,
    ) -> dict[str, Any]:
        """A user writes `text` in a chat (negative ids are supergroups); returns the message."""
        message = self._text_message(chat_id, text, user_id, reply_to)
        self._push({"message": message})
        return message

    def send_texts(self, texts: Mapping[int, str]) -> float:
        """The user of each chat writes its text, all at the same moment: the updates are queued
        together, so that one getUpdates can hand them all out (a load, not a conversation).
        Returns time.monotonic() once they are queued."""
        messages = [self._text_message(chat_id, text, None, None) for chat_id, text in texts.items()]
        self._push(*({"message": message} for message in messages))
        return time.monotonic()

    def send_other(
        self, chat_id: int, content: dict[str, Any], *, user_id: int | None = None, reply_to: Sent | None = None
    ) -> dict[str, Any]:
        """A user sends a non-text message, e.g. {"sticker": {...}}; returns the message."""
        message = self._new_message(chat_id, user_id, reply_to)
        message.update(content)
        self._push({"message": message})
        return message

    def edit_text(self, message: dict[str, Any], text: str) -> None:
        """A user edits an earlier message."""
        edited = dict(message, text=text, edit_date=int(time.time()))
        edited.pop("entities", None)
        if entities := user_entities(text):
            edited["entities"] = entities
        self._push({"edited_message": edited})

    def _new_message(self, chat_id: int, user_id: int | None, reply_to: Sent | None) -> dict[str, Any]:
        message_id = next(self._message_ids)
        message = message_json(message_id, chat_id, user_json(user_id or abs(chat_id)))
        with self._changed:
            if reply_to is not None:
                message["reply_to_message"] = self._state.messages[(reply_to.chat_id, reply_to.message_id)]
            self._state.messages[(chat_id, message_id)] = message  # a user's: never editable
        return message

    def _text_message(self, chat_id: int, text: str, user_id: int | None, reply_to: Sent | None) -> dict[str, Any]:
        message = self._new_message(chat_id, user_id, reply_to)
        message["text"] = text
        if entities := user_entities(text):
            message["entities"] = entities
        return message

    # --- what the bot did ----------------------------------------------------------------

    @property
    def sent(self) -> list[Sent]:
        """Every message the bot sent, in order."""
        with self._changed:
            return list(self._state.sent)

    def current(self, sent: Sent) -> Sent:
        """The bot's message as it is now, after its edits."""
        with self._changed:
            return self._state.current.get((sent.chat_id, sent.message_id), sent)

    def edits_to(self, chat_id: int) -> list[Sent]:
        """Every edit of the bot's messages in one chat, in order (each as the message was after it)."""
        with self._changed:
            return [edit for edit in self._state.edits if edit.chat_id == chat_id]

    def messages_to(self, chat_id: int) -> list[Sent]:
        """Messages the bot sent to one chat."""
        return [sent for sent in self.sent if sent.chat_id == chat_id]

    def messages_by_chat(self, chat_ids: Iterable[int]) -> dict[int, list[Sent]]:
        """The messages the bot sent to each of the chats, in order (one pass over all it sent)."""
        by_chat: dict[int, list[Sent]] = {chat_id: [] for chat_id in chat_ids}
        for sent in self.sent:
            if sent.chat_id in by_chat:
                by_chat[sent.chat_id].append(sent)
        return by_chat

    def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 30.0, settle: float = 0.3) -> list[Sent]:
        """Wait until the bot has sent `count` messages to a chat, then a little more for stragglers."""
        self.wait_until(lambda: len(self.messages_to(chat_id)) >= count, timeout, f"{count} message(s) to {chat_id}")
        time.sleep(settle)
        return self.messages_to(chat_id)

    # --- the Bot API methods -------------------------------------------------------------

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text", "")
        if complaint := check_keyboard(params.get("reply_markup")):
            raise ApiError(400, complaint)
        parse_mode, plain, entities = _parsed_text(params, "Bad Request: message is too long")
        chat_id = params["chat_id"]
        reply = params.get("reply_parameters") or {}
        message_id = next(self._message_ids)
        message = message_json(message_id, chat_id, self.bot_user)
        message["text"] = plain
        if entities:
            message["entities"] = entities
        markup = params.get("reply_markup")
        if markup:
            message["reply_markup"] = markup
        with self._changed:
            self._state.messages[(chat_id, message_id)] = message
            replied = reply.get("message_id")
            sent = Sent(message_id, chat_id, text, parse_mode, plain, entities, replied, time.monotonic(), markup)
            self._state.sent.append(sent)
            self._state.current[(chat_id, message_id)] = sent
            self._changed.notify_all()
        return message

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        if complaint := check_keyboard(params.get("reply_markup")):
            raise ApiError(400, complaint)
        parse_mode, plain, entities = _parsed_text(params, "Bad Request: MESSAGE_TOO_LONG")
        # Telegram drops an inline keyboard that the edit does not send again.
        return self._edit(params, str(params.get("text", "")), parse_mode, plain, entities)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        if complaint := check_keyboard(params.get("reply_markup")):
            raise ApiError(400, complaint)
        with self._changed:
            before = self._editable(params)
        return self._edit(params, before.text, before.parse_mode, before.plain, before.entities)

    def _editable(self, params: dict[str, Any]) -> Sent:
        """The bot's message an edit names (call with the lock held), or the error Telegram gives."""
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not supported by this fake")
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if not isinstance(chat_id, int) or not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message to edit not found")
        message = self._state.messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return self._state.current[(chat_id, message_id)]

    def _edit(
        self, params: dict[str, Any], text: str, parse_mode: str | None, plain: str, entities: list[dict[str, Any]]
    ) -> dict[str, Any]:
        markup = params.get("reply_markup") or None
        if markup is not None and not markup.get("inline_keyboard"):
            markup = None  # an empty keyboard is no keyboard
        with self._changed:
            before = self._editable(params)
            if (before.plain, before.entities, before.reply_markup) == (plain, entities, markup):
                raise ApiError(400, NOT_MODIFIED)
            edited = Sent(
                before.message_id,
                before.chat_id,
                text,
                parse_mode,
                plain,
                entities,
                before.reply_to,
                time.monotonic(),
                markup,
            )
            message = dict(
                self._state.messages[(before.chat_id, before.message_id)], text=plain, edit_date=int(time.time())
            )
            message.pop("entities", None)
            message.pop("reply_markup", None)
            if entities:
                message["entities"] = entities
            if markup:
                message["reply_markup"] = markup
            self._state.messages[(before.chat_id, before.message_id)] = message
            self._state.current[(before.chat_id, before.message_id)] = edited
            self._state.edits.append(edited)
            self._changed.notify_all()
        return message


def _parsed_text(params: dict[str, Any], too_long: str) -> tuple[str | None, str, list[dict[str, Any]]]:
    """(parse mode, visible text, entities) of a message's text, checked as Telegram does."""
    text = str(params.get("text", ""))
    parse_mode = params.get("parse_mode") or None
    parsed = parse_text(text, parse_mode)
    if isinstance(parsed, str):
        raise ApiError(400, parsed)
    plain, entities = parsed
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_length(plain) > MESSAGE_LIMIT:
        raise ApiError(400, too_long)
    return parse_mode, plain, entities
