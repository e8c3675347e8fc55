"""Telegram callbacks: each reads the update, asks or lists, and sends rendered messages."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from typing import TypeVar

from telegram import Bot, Chat, Message, MessageEntity, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from embeddings import QuestionError

from . import messages
from .context import SanadContext
from .render import render_answer, render_sources, to_plain

logger = logging.getLogger(__name__)

TYPING_REFRESH_SECONDS = 4.5  # Telegram shows "typing" for about 5 seconds per action
_T = TypeVar("_T")


async def show_help(update: Update, context: SanadContext) -> None:
    """Explain what the bot does, with an example question."""
    await _reply(update.effective_message, messages.HELP)


async def list_sources(update: Update, context: SanadContext) -> None:
    """List the indexed articles with their titles and sources."""
    for text in render_sources(context.articles):
        await _reply(update.effective_message, text)


async def ask_command(update: Update, context: SanadContext) -> None:
    """Answer the question written after /ask."""
    message = update.effective_message
    parts = (message.text or "").split(None, 1)
    await _answer(message, context, parts[1] if len(parts) > 1 else "")


async def answer_message(update: Update, context: SanadContext) -> None:
    """Answer a text message: any in a private chat, in a group only one addressed to the bot."""
    message = update.effective_message
    question = _addressed_question(message, context.bot)
    if question is not None:
        await _answer(message, context, question)


async def explain_text_only(update: Update, context: SanadContext) -> None:
    """Say that only written questions are understood (in groups, only to replies to the bot)."""
    message = update.effective_message
    if message.chat.type == Chat.PRIVATE or _replies_to(message, context.bot):
        await _reply(message, messages.NON_TEXT)


async def unknown_command(update: Update, context: SanadContext) -> None:
    """Point to /help when a private chat sends a command the bot does not know."""
    await _reply(update.effective_message, messages.UNKNOWN_COMMAND)


async def dismiss_callback(update: Update, context: SanadContext) -> None:
    """Acknowledge a button press the bot does not know, so the client stops waiting."""
    await update.callback_query.answer()


async def report_error(update: object, context: SanadContext) -> None:
    """Log the failure with its traceback, then tell the user, if any, that it went wrong."""
    if not isinstance(update, Update):
        outside = "Error outside any update (polling for updates, or a background task); carrying on"
        logger.error(outside, exc_info=context.error)
        return
    chat = update.effective_chat
    where = f" in chat {chat.id}" if chat else ""
    logger.error("Failed to handle update %s%s", update.update_id, where, exc_info=context.error)
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, messages.ERROR)
    except TelegramError as exc:
        logger.warning("Could not tell chat %s about the failure: %s", chat.id, exc)


# --- helpers ---------------------------------------------------------------------------------


async def _answer(message: Message, context: SanadContext, question: str) -> None:
    if not question.strip():
        await _reply(message, messages.EMPTY_QUESTION)
        return
    try:
        answer = await _while_typing(message.chat, context.ask(question))
    except QuestionError:
        await _reply(message, messages.EMPTY_QUESTION)
        return
    for text in render_answer(answer):
        await _reply(message, text)


async def _reply(message: Message, text: str) -> None:
    """Send HTML; if Telegram cannot parse it, send the same words as plain text."""
    try:
        await message.reply_text(text)
    except BadRequest as exc:
        if "can't parse entities" not in exc.message.lower():
            raise
        logger.warning("Telegram refused the HTML of a reply (%s); sending it as plain text", exc.message)
        await message.reply_text(to_plain(text), parse_mode=None)


async def _while_typing(chat: Chat, work: Awaitable[_T]) -> _T:
    """Await `work` while showing "typing" in the chat."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            await _send_typing(chat)
            done, _ = await asyncio.wait({task}, timeout=TYPING_REFRESH_SECONDS)
            if done:
                return task.result()
    finally:
        task.cancel()


async def _send_typing(chat: Chat) -> None:
    try:
        await chat.send_action(ChatAction.TYPING)
    except TelegramError as exc:  # only a courtesy: never let it cost the answer
        logger.debug("Could not show typing in chat %s: %s", chat.id, exc)


def _addressed_question(message: Message, bot: Bot) -> str | None:
    """The question in a message, or None if it is a group message not meant for the bot."""
    text = message.text or message.caption or ""
    if message.chat.type == Chat.PRIVATE:
        return _strip_mention(text, bot.username)
    if _mentions(message, bot) or _replies_to(message, bot):
        return _strip_mention(text, bot.username)
    return None


def _mentions(message: Message, bot: Bot) -> bool:
    handle = f"@{bot.username}".lower()
    kinds = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    entities = message.parse_entities(kinds) if message.text else message.parse_caption_entities(kinds)
    return any(
        (entity.type == MessageEntity.MENTION and text.lower() == handle)
        or (entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot.id)
        for entity, text in entities.items()
    )


def _replies_to(message: Message, bot: Bot) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot.id


def _strip_mention(text: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}(?![A-Za-z0-9_])", " ", text, flags=re.IGNORECASE).strip()
