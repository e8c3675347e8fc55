"""/sources, /forget and the buttons: what a chat can ask about, picking its focus, forgetting
(the buttons under an answer are `answer_buttons.py`'s, once the press is checked here).

Every button carries only `act:<token>`; the store says which chat the token was shown in and
what it does. A press is refused unless it comes from that chat, and the article it names is
looked up again in the pressing chat's own articles (or the shared library) before anything
happens; forgetting in a group also needs the presser to administer it.
"""

from __future__ import annotations

import logging

from telegram import Chat, Message, Update

from embeddings import Action, Article, ArticleNotFoundError, ChatCollections, own_article_id, own_article_number

from . import answer_buttons, handlers, messages
from .context import SanadContext
from .talk import ACTION_PREFIX, Buttons, message_of, reply, reply_all
from .views import Listed, button_title, render_focus_set, render_forgot, render_listing, render_unknown_own

logger = logging.getLogger(__name__)


async def list_sources(update: Update, context: SanadContext) -> None:
    """List the shared library and the chat's own articles, the focus marked, with buttons."""
    message = message_of(update)
    manage = await context.may_manage(message.chat, update.effective_user)
    group = message.chat.type != Chat.PRIVATE
    texts, buttons = await context.run(_listing, context.chats, message.chat.id, manage, group)
    await reply_all(message, texts, buttons)


async def forget_article(update: Update, context: SanadContext) -> None:
    """/forget <number> deletes one of the chat's own articles; /forget all asks to confirm first."""
    message = message_of(update)
    if not await context.may_manage(message.chat, update.effective_user):
        await reply(message, messages.GROUP_ADMINS_ONLY)
        return
    given = (context.args or [""])[0]
    chats, chat_id = context.chats, message.chat.id
    if given.lower() == "all":
        await _confirm_forget_all(message, context)
        return
    number = int(given) if given.isascii() and given.isdigit() else None
    if number is None:
        await reply(message, messages.FORGET_USAGE if not given else render_unknown_own(given))
        return
    try:
        stored = await context.run(chats.forget, chat_id, number)
    except ArticleNotFoundError:
        await reply(message, render_unknown_own(given))
        return
    await reply(message, render_forgot(stored))


async def press_button(update: Update, context: SanadContext) -> None:
    """Do what a button of ours stands for, if it was shown in the chat where it is pressed."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    token = (query.data or "").removeprefix(ACTION_PREFIX)
    action = await context.run(context.chats.store.action, token)
    message = query.message if isinstance(query.message, Message) else None
    if action is None or action.chat_id != chat.id or message is None:
        logger.warning("Refused a button press in chat %s (token of chat %s)", chat.id, action and action.chat_id)
        await query.answer(messages.BUTTON_REFUSED, show_alert=True)
        return
    if action.kind in ("forget", "forget_all") and not await context.may_manage(chat, update.effective_user):
        await query.answer(messages.BUTTON_ADMINS_ONLY, show_alert=True)
        return
    if action.answer is not None:  # a button under an answer: more, context, feedback
        await answer_buttons.press(query, action, message, context)
        return
    await query.answer()
    await _do(action, message, context)


async def _do(action: Action, message: Message, context: SanadContext) -> None:
    chats, chat_id = context.chats, message.chat.id
    try:
        if action.kind == "focus":
            article = await context.run(chats.set_focus, chat_id, action.target or None)
            await reply(message, render_focus_set(article))
        elif action.kind == "forget":
            stored = await context.run(chats.forget, chat_id, own_article_number(action.target) or 0)
            await reply(message, render_forgot(stored))
        elif action.kind == "forget_all":
            count = await context.run(chats.forget_all, chat_id)
            await reply(message, messages.FORGOT_ALL.format(count=count))
        else:
            await handlers.answer(message, context, action.payload, everything=True)
    except ArticleNotFoundError:
        await reply(message, messages.BUTTON_REFUSED)


async def _confirm_forget_all(message: Message, context: SanadContext) -> None:
    chats, chat_id = context.chats, message.chat.id
    count = len(await context.run(chats.own_articles, chat_id))
    if not count:
        await reply(message, messages.NOTHING_TO_FORGET)
        return
    token = await context.run(chats.store.put_action, chat_id, "forget_all", "")
    button = (messages.CONFIRM_FORGET_ALL_BUTTON, ACTION_PREFIX + token)
    await reply(message, messages.FORGET_ALL_CONFIRM.format(count=count), [button])


def _listing(chats: ChatCollections, chat_id: int, manage: bool, group: bool) -> tuple[list[str], Buttons]:
    """The /sources messages and their buttons (tokens stored as it goes). Runs on a worker thread."""
    focus = chats.focus(chat_id)
    focused = focus.id if focus is not None else None
    shared = [Listed(a, a.id, a.id == focused) for a in chats.shared_articles()]
    own = [Listed(s.article(), str(s.number), own_article_id(s.number) == focused) for s in chats.own_articles(chat_id)]
    buttons: list[tuple[str, str]] = []
    for item in [*own, *shared]:
        if not item.focused:
            buttons.append(_button(chats, chat_id, messages.ASK_ABOUT_BUTTON, "focus", item.article))
    if manage:
        buttons += [_button(chats, chat_id, messages.FORGET_BUTTON, "forget", item.article) for item in own]
    if focus is not None:
        buttons.append((messages.EVERYTHING_BUTTON, ACTION_PREFIX + chats.store.put_action(chat_id, "focus", "")))
    return render_listing(shared, own, group=group), buttons


def _button(chats: ChatCollections, chat_id: int, template: str, kind: str, article: Article) -> tuple[str, str]:
    token = chats.store.put_action(chat_id, "focus" if kind == "focus" else "forget", article.id)
    return template.format(title=button_title(article.title)), ACTION_PREFIX + token
