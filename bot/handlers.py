"""Telegram callbacks: each reads the update, asks, lists or changes the library, and sends
rendered messages. Adding and removing articles is for admins (ADMIN_USER_IDS) only."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from pathlib import PurePath
from typing import TypeVar

from telegram import Bot, Chat, Document, Message, MessageEntity, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from embeddings import (
    DOCUMENT_KINDS,
    ArticleNotFoundError,
    ExtractedArticle,
    ExtractError,
    FetchError,
    QuestionError,
    decode_document,
    extract_article,
    fetch_url_async,
)

from . import messages
from .context import SanadContext
from .render import (
    render_added,
    render_answer,
    render_refusal,
    render_removed,
    render_sources,
    render_unknown_article,
    to_plain,
)

logger = logging.getLogger(__name__)

TYPING_REFRESH_SECONDS = 4.5  # Telegram shows "typing" for about 5 seconds per action
_T = TypeVar("_T")


async def show_help(update: Update, context: SanadContext) -> None:
    """Explain what the bot does, with an example question (and, to admins, their commands)."""
    admin = context.is_admin(update.effective_user)
    await _reply(_message_of(update), f"{messages.HELP}\n\n{messages.ADMIN_HELP}" if admin else messages.HELP)


async def list_sources(update: Update, context: SanadContext) -> None:
    """List the indexed articles with their ids, titles and sources."""
    for text in render_sources(context.articles):
        await _reply(_message_of(update), text)


async def ask_command(update: Update, context: SanadContext) -> None:
    """Answer the question written after /ask."""
    message = _message_of(update)
    parts = (message.text or "").split(None, 1)
    await _answer(message, context, parts[1] if len(parts) > 1 else "")


async def answer_message(update: Update, context: SanadContext) -> None:
    """Answer a text message: any in a private chat, in a group only one addressed to the bot."""
    message = _message_of(update)
    question = _addressed_question(message, context.bot)
    if question is not None:
        await _answer(message, context, question)


async def explain_text_only(update: Update, context: SanadContext) -> None:
    """Say that only written questions are understood (in groups, only to replies to the bot)."""
    message = _message_of(update)
    if message.chat.type == Chat.PRIVATE or _replies_to(message, context.bot):
        await _reply(message, messages.NON_TEXT)


async def unknown_command(update: Update, context: SanadContext) -> None:
    """Point to /help when a private chat sends a command the bot does not know."""
    await _reply(_message_of(update), messages.UNKNOWN_COMMAND)


async def dismiss_callback(update: Update, context: SanadContext) -> None:
    """Acknowledge a button press the bot does not know, so the client stops waiting."""
    if update.callback_query is not None:
        await update.callback_query.answer()


async def add_url(update: Update, context: SanadContext) -> None:
    """Add the article at the URL written after /add (a title may follow it); admins only."""
    message = _message_of(update)
    if not await _admin_only(update, context):
        return
    if not context.args:
        await _reply(message, messages.ADD_USAGE)
        return
    url, title = context.args[0], " ".join(context.args[1:])
    await _reply(message, await _while_typing(message.chat, _add_from_url(context, url, title)))


async def add_document(update: Update, context: SanadContext) -> None:
    """Add the article in a .txt, .md or .html file (its caption, if any, is the title); admins only."""
    message = _message_of(update)
    if message.chat.type != Chat.PRIVATE and not (_mentions(message, context.bot) or _replies_to(message, context.bot)):
        return  # a file shared in a group, not sent to the bot
    if not await _admin_only(update, context):
        return
    document = message.document
    if document is None:  # the handler's filter only lets documents in
        return
    refusal = _document_refusal(document, context.bot_data.fetch_policy.max_bytes)
    if refusal is not None:
        await _reply(message, refusal)
        return
    title = _strip_mention(message.caption or "", context.bot.username)
    await _reply(message, await _while_typing(message.chat, _add_from_document(context, document, title)))


async def remove_article(update: Update, context: SanadContext) -> None:
    """Remove the article whose id is written after /remove; admins only."""
    message = _message_of(update)
    if not await _admin_only(update, context):
        return
    if not context.args:
        await _reply(message, messages.REMOVE_USAGE)
        return
    try:
        article = await context.run(context.library.remove_article, context.args[0])
    except ArticleNotFoundError:
        await _reply(message, render_unknown_article(context.args[0]))
        return
    admin = update.effective_user.id if update.effective_user else None
    logger.info("Admin %s removed article %s", admin, article.id)
    await _reply(message, render_removed(article))


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


def _message_of(update: Update) -> Message:
    """The message a message handler was called for (its filters let no other update in)."""
    message = update.effective_message
    if message is None:
        raise TypeError(f"update {update.update_id} carries no message")
    return message


async def _admin_only(update: Update, context: SanadContext) -> bool:
    """True for an admin; anyone else is told, politely, that this is for admins."""
    if context.is_admin(update.effective_user):
        return True
    await _reply(_message_of(update), messages.ADMIN_ONLY)
    return False


async def _add_from_url(context: SanadContext, url: str, title: str) -> str:
    """Fetch, extract and store the article at `url`; the reply to send."""
    known = await context.run(context.library.find_article, source=url)
    if known is not None:
        return render_added(known, added=False)
    data = context.bot_data
    try:
        page = await fetch_url_async(url, data.fetch_policy, client=data.http)
        extracted = await asyncio.to_thread(extract_article, page)
    except (FetchError, ExtractError) as exc:
        logger.info("Refused to add %s: %s", url, exc)
        return render_refusal(exc)
    return await _store(context, extracted, title, page.url)


async def _add_from_document(context: SanadContext, document: Document, title: str) -> str:
    """Download, decode and store the article in an uploaded file; the reply to send."""
    name = document.file_name or ""
    telegram_file = await context.bot.get_file(document.file_id)
    data = await telegram_file.download_as_bytearray()
    try:
        extracted = await asyncio.to_thread(decode_document, bytes(data), name)
    except ExtractError as exc:
        logger.info("Refused to add the file %s: %s", name, exc)
        return render_refusal(exc)
    return await _store(context, extracted, title, name)


async def _store(context: SanadContext, extracted: ExtractedArticle, title: str, source: str) -> str:
    article, added = await context.run(context.library.add_article, extracted.text, title or extracted.title, source)
    if added:
        logger.info("Added article %s from %s", article.id, source)
    return render_added(article, added)


def _document_refusal(document: Document, max_bytes: int) -> str | None:
    """The reply refusing a file before it is downloaded (wrong type, too big), or None."""
    if PurePath(document.file_name or "").suffix.lower() not in DOCUMENT_KINDS:
        return messages.EXTRACT_REFUSALS["file_type"]
    if document.file_size is not None and document.file_size > max_bytes:
        return messages.EXTRACT_REFUSALS["too_large"]
    return None


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
    kinds: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
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
