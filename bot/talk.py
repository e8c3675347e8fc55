"""Talking in a chat: replying (HTML, with a plain-text fallback, and buttons), showing
"typing" while work runs, and reading who a message is addressed to."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from telegram import Bot, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from .render import to_plain

logger = logging.getLogger(__name__)

TYPING_REFRESH_SECONDS = 4.5  # Telegram shows "typing" for about 5 seconds per action
_T = TypeVar("_T")
Button = tuple[str, str]  # (text, callback data)
Buttons = Sequence[Button]  # one button per row
Rows = Sequence[Sequence[Button]]  # rows of buttons side by side
ACTION_PREFIX = "act:"  # callback data of our buttons: this, then a token the store looks up


def message_of(update: Update) -> Message:
    """The message a message handler was called for (its filters let no other update in)."""
    message = update.effective_message
    if message is None:
        raise TypeError(f"update {update.update_id} carries no message")
    return message


def keyboard(buttons: Buttons = (), rows: Rows = ()) -> InlineKeyboardMarkup | None:
    """An inline keyboard: the `rows`, then the `buttons` one per row (None for no buttons)."""
    every = [list(row) for row in rows if row] + [[button] for button in buttons]
    if not every:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in every]
    )


def without_button(markup: InlineKeyboardMarkup | None, data: str) -> InlineKeyboardMarkup | None:
    """The keyboard less the button carrying `data` (None when no button is left)."""
    rows = [[b for b in row if b.callback_data != data] for row in (markup.inline_keyboard if markup else ())]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def reply(message: Message, text: str, buttons: Buttons = (), *, rows: Rows = ()) -> None:
    """Send HTML; if Telegram cannot parse it, send the same words as plain text."""
    markup = keyboard(buttons, rows)
    try:
        await message.reply_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "can't parse entities" not in exc.message.lower():
            raise
        logger.warning("Telegram refused the HTML of a reply (%s); sending it as plain text", exc.message)
        await message.reply_text(to_plain(text), parse_mode=None, reply_markup=markup)


async def reply_all(message: Message, texts: Sequence[str], buttons: Buttons = (), *, rows: Rows = ()) -> None:
    """Send several messages in order, the buttons under the last one."""
    for number, text in enumerate(texts, start=1):
        last = number == len(texts)
        await reply(message, text, buttons if last else (), rows=rows if last else ())


async def while_typing(chat: Chat, work: Awaitable[_T], after: float = 0.0) -> _T:
    """Await `work`, showing "typing" in the chat from `after` seconds on until it is done."""
    task = asyncio.ensure_future(work)
    try:
        if after > 0:
            await asyncio.wait({task}, timeout=after)
        while not task.done():
            await _send_typing(chat)
            await asyncio.wait({task}, timeout=TYPING_REFRESH_SECONDS)
        return task.result()
    finally:
        task.cancel()


async def _send_typing(chat: Chat) -> None:
    try:
        await chat.send_action(ChatAction.TYPING)
    except TelegramError as exc:  # only a courtesy: never let it cost the answer
        logger.debug("Could not show typing in chat %s: %s", chat.id, exc)


def addressed_text(message: Message, bot: Bot) -> str | None:
    """The text of a message (its caption for media), or None if it is a group message not
    meant for the bot; the bot's @name is taken out."""
    text = message.text or message.caption or ""
    if message.chat.type == Chat.PRIVATE or mentions(message, bot) or replies_to(message, bot):
        return strip_mention(text, bot.username)
    return None


def mentions(message: Message, bot: Bot) -> bool:
    """True if the message (or its caption) names the bot."""
    handle = f"@{bot.username}".lower()
    kinds: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    entities = message.parse_entities(kinds) if message.text else message.parse_caption_entities(kinds)
    return any(
        (entity.type == MessageEntity.MENTION and text.lower() == handle)
        or (entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot.id)
        for entity, text in entities.items()
    )


def replies_to(message: Message, bot: Bot) -> bool:
    """True if the message answers one of the bot's."""
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot.id


def strip_mention(text: str, username: str) -> str:
    """`text` without the bot's @name."""
    return re.sub(rf"@{re.escape(username)}(?![A-Za-z0-9_])", " ", text, flags=re.IGNORECASE).strip()
