"""The buttons under an answer: "المزيد" (the next quotes), "السياق" (the paragraphs around
the lead sentence), 👍 and 👎 (feedback, stored with what was quoted).

An answer is kept in the chats' store with all the quotes the engine ranked (more than it
shows), so the buttons work after a restart. Each button carries only `act:<token>`; the
token's action names the kept answer, and `sources.press_button` has already checked that
the press comes from the chat it was shown in. The kept quotes are sliced again from their
articles, which must still be there with the same text: otherwise the press is answered
with a polite toast, never with a quote of something else.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from telegram import CallbackQuery, Message
from telegram.error import BadRequest

from embeddings import (
    Action,
    ActionKind,
    Answer,
    Article,
    ChatCollections,
    Context,
    Feedback,
    KeptAnswer,
    Quote,
    QuoteRef,
    Vote,
    keep_answer,
    lead_context,
    quoted_text,
    requote,
)

from . import messages
from .context import SanadContext
from .render import render_context, render_more
from .talk import ACTION_PREFIX, Button, Rows, reply_all, without_button

logger = logging.getLogger(__name__)

MORE_PAGES = 3  # "المزيد" can bring this many more batches of SANAD_TOP_K quotes
MAX_KEPT_QUESTION_CHARS = 2000  # a kept question (and its feedback) is cut there
_VOTES: dict[str, tuple[Vote, str]] = {
    "vote_up": ("up", messages.VOTE_UP_THANKS),
    "vote_down": ("down", messages.VOTE_DOWN_THANKS),
}


def quotes_to_ask(shown: int) -> int:
    """How many quotes to ask the engine for when `shown` go in the first message."""
    return shown * (1 + MORE_PAGES)


@dataclass(frozen=True)
class Kept:
    """An answer as its first message shows it (trimmed to the shown quotes) and its keyboard."""

    answer: Answer
    rows: Rows


def keep(chats: ChatCollections, chat_id: int, answer: Answer, shown: int) -> Kept:
    """Keep the answer (all its quotes) for its buttons, and make them. Runs on a worker thread."""
    checksums = {}
    for quote in answer.quotes:
        article = chats.visible_article(chat_id, quote.article_id)
        if article is not None:
            checksums[quote.article_id] = article.checksum
    question = answer.question[:MAX_KEPT_QUESTION_CHARS]
    kept = chats.store.put_answer(keep_answer(chat_id, replace(answer, question=question), checksums, shown))
    return Kept(replace(answer, quotes=answer.quotes[:shown]), _rows(chats, kept))


def _rows(chats: ChatCollections, kept: KeptAnswer) -> Rows:
    """ "المزيد" while quotes are left (an answer's, never a closest one's), "السياق" when
    something was quoted, then 👍 and 👎."""
    first: list[Button] = []
    if kept.kind == "answer" and kept.shown < len(kept.quotes):
        first.append(_button(chats, kept, messages.MORE_BUTTON, "more"))
    if kept.quotes:
        first.append(_button(chats, kept, messages.CONTEXT_BUTTON, "context"))
    votes = [_button(chats, kept, messages.VOTE_UP_BUTTON, "vote_up")]
    votes.append(_button(chats, kept, messages.VOTE_DOWN_BUTTON, "vote_down"))
    return [row for row in (first, votes) if row]


def _button(chats: ChatCollections, kept: KeptAnswer, label: str, kind: ActionKind) -> Button:
    token = chats.store.put_action(kept.chat_id, kind, "", answer=kept.id)
    return label, ACTION_PREFIX + token


async def press(query: CallbackQuery, action: Action, message: Message, context: SanadContext) -> None:
    """Do what a button under an answer stands for; every outcome answers the press once."""
    chats, chat_id, answer_id = context.chats, message.chat.id, action.answer or 0
    if action.kind == "more":
        await _more(query, message, context, answer_id)
    elif action.kind == "context":
        around = await context.run(_context_of, chats, chat_id, answer_id)
        if around is None:
            await query.answer(messages.ANSWER_GONE, show_alert=True)
            return
        await query.answer()
        paragraphs, bold, link = around
        await reply_all(message, render_context(paragraphs, bold, link))
    elif action.kind in _VOTES:
        vote, thanks = _VOTES[action.kind]
        recorded = await context.run(_record_vote, chats, chat_id, answer_id, vote)
        await query.answer(thanks if recorded else messages.ANSWER_GONE, show_alert=not recorded)
    else:
        await query.answer(messages.BUTTON_REFUSED, show_alert=True)


@dataclass(frozen=True)
class _Batch:
    """The next quotes of a kept answer, as "المزيد" shows them."""

    taken: tuple[QuoteRef, ...]  # what the store handed out (now counted as shown)
    quotes: tuple[Quote, ...]  # those whose article is still there, unchanged, sliced again
    left: int  # quotes still not shown after these


async def _more(query: CallbackQuery, message: Message, context: SanadContext, answer_id: int) -> None:
    chats, chat_id = context.chats, message.chat.id
    shown = context.library.engine.top_k
    batch = await context.run(_take_batch, chats, chat_id, answer_id, shown)
    if batch is not None and not batch.taken:
        await query.answer(messages.NO_MORE_TOAST)
        await _drop_button(message, query.data or "")
        return
    if batch is None or not batch.quotes:
        await query.answer(messages.ANSWER_GONE, show_alert=True)
        return
    await query.answer()
    await _drop_button(message, query.data or "")  # this batch's own "المزيد" goes under it
    rows: Rows = ()
    if batch.left:
        token = await context.run(chats.store.put_action, chat_id, "more", "", "", answer_id)
        rows = [[(messages.MORE_BUTTON, ACTION_PREFIX + token)]]
    await reply_all(message, render_more(batch.quotes, last=not batch.left), rows=rows)


def _take_batch(chats: ChatCollections, chat_id: int, answer_id: int, count: int) -> _Batch | None:
    """The next `count` quotes of the chat's kept answer (None: no such answer). Worker thread."""
    taken = chats.store.take_quotes(chat_id, answer_id, count)
    kept = chats.store.kept_answer(chat_id, answer_id)
    if taken is None or kept is None:
        return None
    quotes = [requote(ref, chats.visible_article(chat_id, ref.article_id)) for ref in taken]
    return _Batch(taken, tuple(q for q in quotes if q is not None), len(kept.quotes) - kept.shown)


@dataclass(frozen=True)
class _Lead:
    """A chat's kept answer, and its lead quote sliced again from its article (both None: the
    answer quoted nothing)."""

    kept: KeptAnswer
    quote: Quote | None = None
    article: Article | None = None


def _lead(chats: ChatCollections, chat_id: int, answer_id: int) -> _Lead | None:
    """The kept answer and its lead; None when the answer, or the article its lead came from
    (or that article's text), is gone."""
    kept = chats.store.kept_answer(chat_id, answer_id)
    if kept is None or not kept.quotes:
        return None if kept is None else _Lead(kept)
    ref = kept.quotes[0]
    article = chats.visible_article(chat_id, ref.article_id)
    quote = requote(ref, article)
    return _Lead(kept, quote, article) if quote is not None else None


def _context_of(chats: ChatCollections, chat_id: int, answer_id: int) -> tuple[Context, bool, str | None] | None:
    """The lead's paragraph and neighbours, whether the lead is bold (an answer's), its link."""
    lead = _lead(chats, chat_id, answer_id)
    if lead is None or lead.quote is None or lead.article is None:
        return None
    return lead_context(lead.article, lead.quote.highlight), lead.kept.kind == "answer", lead.quote.link


def _record_vote(chats: ChatCollections, chat_id: int, answer_id: int, vote: Vote) -> bool:
    """Store a press of 👍/👎 with what the answer quoted; False when it is gone. Worker thread."""
    lead = _lead(chats, chat_id, answer_id)
    if lead is None:
        return False
    kept = lead.kept
    quoted = quoted_text(lead.quote) if lead.quote is not None else None
    chats.store.add_feedback(Feedback(chat_id, vote, time.time(), kept.question, kept.kind, kept.confidence, quoted))
    return True


async def _drop_button(message: Message, data: str) -> None:
    """Take the pressed button off the message's keyboard (a courtesy: never fails the press)."""
    markup = message.reply_markup
    if markup is None or not any(b.callback_data == data for row in markup.inline_keyboard for b in row):
        return
    try:
        await message.edit_reply_markup(without_button(markup, data))
    except BadRequest as exc:  # too old to edit, or edited meanwhile
        logger.info("Could not update the buttons of message %s: %s", message.message_id, exc.message)
