"""Inline mode: `@bot question` typed in any chat answers from the SHARED LIBRARY only.

An inline query carries no chat of ours (the user may be typing in a chat the bot is not in),
so no chat's own articles are ever searched: the answer comes from the shared library's engine
(`context.library`), never from `context.chats`. The result is an article whose title is the
answering sentence (shortened), whose description names the article and its paragraph, and
whose message, once chosen, is the rendered answer (one message: as many quotes as fit). An
empty or too short query gets a hint result. Results are the same for everyone who types the
same words, so they are not personal, and cached briefly (`CACHE_SECONDS`) since the library
changes when its admins add or remove an article.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from embeddings import Answer, QuestionError

from . import messages
from .context import SanadContext
from .render import render_answer

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30  # Telegram's default is 300; the shared library changes now and then
MIN_LETTERS = 3  # a query with fewer letters is not a question yet: a hint instead
SHOWN_CHARS = 100  # a result's title or description is cut there (a line or two in the client)
HINT_ID = "hint"


async def answer_inline(update: Update, context: SanadContext) -> None:
    """Answer an inline query from the shared library (a hint when it is not a question yet)."""
    query = update.inline_query
    if query is None:
        return
    question = query.query.strip()
    results = [hint_result()]
    if is_question(question):
        try:
            answer = await context.run(context.library.ask, question)  # the shared library only
        except QuestionError:
            answer = None
        if answer is not None:
            results = [answer_result(answer)]
    try:
        await query.answer(results, cache_time=CACHE_SECONDS, is_personal=False)
    except TelegramError as exc:  # typically the query expired while the user kept typing
        logger.warning("Could not answer inline query %s: %s", query.id, exc)


def is_question(query: str) -> bool:
    """True when the query has enough letters to be asked."""
    return sum(char.isalpha() for char in query) >= MIN_LETTERS


def hint_result() -> InlineQueryResultArticle:
    """How to ask inline, as a result (sent as a message when chosen)."""
    return _article(HINT_ID, messages.INLINE_HINT_TITLE, messages.INLINE_HINT_DESCRIPTION, messages.INLINE_HINT_MESSAGE)


def answer_result(answer: Answer) -> InlineQueryResultArticle:
    """The answer as one result: the answering (or closest) sentence as its title, its article
    and paragraph as the description, the rendered answer as the message."""
    if answer.kind == "not_found" or not answer.quotes:
        title, description = messages.INLINE_NOT_FOUND_TITLE, messages.INLINE_NOT_FOUND_DESCRIPTION
        return _article(f"none-{_digest(answer.question)}", title, description, messages.NOT_FOUND)
    lead = answer.quotes[0]
    prefix = messages.INLINE_CLOSEST_PREFIX if answer.kind == "closest" else ""
    title = prefix + shortened(lead.highlight_text)
    description = shortened(f"{lead.title} — {messages.PARAGRAPH_LABEL} {lead.paragraph}")
    key = f"{answer.kind}:{lead.article_id}:{lead.start}:{lead.highlight.start}:{len(answer.quotes)}"
    return _article(f"{answer.kind}-{_digest(key)}", title, description, single_message(answer))


def single_message(answer: Answer) -> str:
    """The rendered answer as one message: its quotes from the first, as many as fit whole;
    else the first message of the lead quote alone (cut where the renderer cuts)."""
    for count in range(len(answer.quotes), 0, -1):
        parts = render_answer(replace(answer, quotes=answer.quotes[:count]))
        if len(parts) == 1:
            return parts[0]
    return render_answer(replace(answer, quotes=answer.quotes[:1]))[0]


def shortened(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` on one line, cut at a word before `limit` characters (with "…")."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line.rfind(" ", 0, limit)
    return line[: cut if cut > limit // 2 else limit - 1].rstrip() + "…"


def _digest(text: str) -> str:
    """A short stable id part (result ids are at most 64 bytes, unique within an answer)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _article(ident: str, title: str, description: str, text: str) -> InlineQueryResultArticle:
    content = InputTextMessageContent(text, parse_mode=ParseMode.HTML)
    return InlineQueryResultArticle(ident, title, content, description=description)
