"""Telegram callbacks for questions, help and errors: each reads the update, asks the chat's
collections, and sends rendered messages. Adding articles is `adding.py`'s job, listing and
forgetting them (and the buttons) `sources.py`'s."""

from __future__ import annotations

import logging
import time

from telegram import Chat, Message, Update
from telegram.error import TelegramError

from embeddings import ArticleNotFoundError, DatabaseError, QuestionError

from . import adding, answer_buttons, messages
from .context import SanadContext
from .render import render_answer, render_removed, render_unknown_article
from .talk import ACTION_PREFIX, addressed_text, message_of, replies_to, reply, reply_all, while_typing
from .views import render_focus_miss, render_focused_answer

logger = logging.getLogger(__name__)

MAX_KEPT_QUESTION_CHARS = 2000  # a question kept for the "search everything" button is cut there


async def show_help(update: Update, context: SanadContext) -> None:
    """Explain what the bot does, with an example question (and, to admins, their commands)."""
    admin = context.is_admin(update.effective_user)
    await reply(message_of(update), f"{messages.HELP}\n\n{messages.ADMIN_HELP}" if admin else messages.HELP)


async def ask_command(update: Update, context: SanadContext) -> None:
    """Answer the question written after /ask."""
    message = message_of(update)
    parts = (message.text or "").split(None, 1)
    await answer(message, context, parts[1] if len(parts) > 1 else "")


async def answer_message(update: Update, context: SanadContext) -> None:
    """Add the article a message for the bot is (a link, a long text), or answer it as a question."""
    message = message_of(update)
    text = addressed_text(message, context.bot)
    if text is not None and not await adding.take_article(update, context, text):
        await answer(message, context, text)


async def explain_text_only(update: Update, context: SanadContext) -> None:
    """Say that only written questions are understood (in groups, only to replies to the bot)."""
    message = message_of(update)
    if message.chat.type == Chat.PRIVATE or replies_to(message, context.bot):
        await reply(message, messages.NON_TEXT)


async def unknown_command(update: Update, context: SanadContext) -> None:
    """Point to /help when a private chat sends a command the bot does not know."""
    await reply(message_of(update), messages.UNKNOWN_COMMAND)


async def dismiss_callback(update: Update, context: SanadContext) -> None:
    """Acknowledge a button press the bot does not know, so the client stops waiting."""
    if update.callback_query is not None:
        await update.callback_query.answer()


async def remove_article(update: Update, context: SanadContext) -> None:
    """Remove the shared library's article whose id is written after /remove; admins only."""
    message = message_of(update)
    if not await adding.admin_only(update, context):
        return
    if not context.args:
        await reply(message, messages.REMOVE_USAGE)
        return
    try:
        article = await context.run(context.library.remove_article, context.args[0])
    except ArticleNotFoundError:
        await reply(message, render_unknown_article(context.args[0]))
        return
    admin = update.effective_user.id if update.effective_user else None
    logger.info("Admin %s removed article %s", admin, article.id)
    await reply(message, render_removed(article))


async def report_error(update: object, context: SanadContext) -> None:
    """Log the failure with its traceback (a failed database: its message, which says what to
    check), then tell the user, if any, that it went wrong and to try again."""
    if not isinstance(update, Update):
        outside = "Error outside any update (polling for updates, or a background task); carrying on"
        logger.error(outside, exc_info=context.error)
        return
    chat = update.effective_chat
    where = f" in chat {chat.id}" if chat else ""
    database_down = isinstance(context.error, DatabaseError)
    if database_down:
        logger.error("Failed to handle update %s%s: %s", update.update_id, where, context.error)
    else:
        logger.error("Failed to handle update %s%s", update.update_id, where, exc_info=context.error)
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, messages.DATABASE_DOWN if database_down else messages.ERROR)
    except TelegramError as exc:
        logger.warning("Could not tell chat %s about the failure: %s", chat.id, exc)


async def answer(message: Message, context: SanadContext, question: str, *, everything: bool = False) -> None:
    """Answer `question` in the message's chat: from its focus (the reply names it; when it has
    no answer, only the closest passage or nothing, a button offers everything), else from all
    the chat can see."""
    if not question.strip():
        await reply(message, messages.EMPTY_QUESTION)
        return
    chats, chat_id = context.chats, message.chat.id
    started = time.perf_counter()
    shown = context.library.engine.top_k  # the rest of the ranked quotes wait for "المزيد"
    asked = context.run(chats.ask, chat_id, question, everything=everything, k=answer_buttons.quotes_to_ask(shown))
    try:
        result = await while_typing(message.chat, asked, after=context.bot_data.typing_after)
    except QuestionError:
        await reply(message, messages.EMPTY_QUESTION)
        return
    kept = await context.run(answer_buttons.keep, chats, chat_id, result.answer, shown)
    answered, rows = kept.answer, kept.rows
    context.bot_data.metrics.answered(answered.kind or "not_found", time.perf_counter() - started)
    if result.focus is None:
        await reply_all(message, render_answer(answered), rows=rows)
    elif answered.kind == "answer":
        await reply_all(message, render_focused_answer(answered, result.focus), rows=rows)
    else:  # closest or not_found: offer everything the chat can see
        token = await context.run(chats.store.put_action, chat_id, "search_all", "", question[:MAX_KEPT_QUESTION_CHARS])
        button = [(messages.SEARCH_ALL_BUTTON, ACTION_PREFIX + token)]
        if answered.kind == "closest":
            await reply_all(message, render_focused_answer(answered, result.focus), button, rows=rows)
        else:
            await reply(message, render_focus_miss(result.focus), button, rows=rows)
