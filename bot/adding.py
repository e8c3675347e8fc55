"""Adding articles from Telegram: a link, `/add <link>`, an uploaded file, a pasted or forwarded
text. They go into the chat's own collection (in a group, only its administrators may add),
except `/add` from the bot's admins, which adds to the shared library as before; `/share`
copies one of an admin's own articles into the shared library."""

from __future__ import annotations

import logging
import re
from pathlib import PurePath

from telegram import Chat, Document, Message, MessageEntity, Update

from embeddings import (
    DOCUMENT_KINDS,
    ExtractedArticle,
    ExtractError,
    FetchError,
    LimitError,
    decode_document,
    extract_article,
    fetch_url_async,
    looks_like_article,
)

from . import messages
from .context import SanadContext
from .render import render_added, render_refusal
from .talk import mentions, message_of, replies_to, reply, strip_mention, while_typing
from .views import render_chat_added, render_limit

logger = logging.getLogger(__name__)

_LINK = re.compile(r"https?://[^\s<>\"'«»]+", re.IGNORECASE)
_LINK_TAIL = ".,;:!?؟،)]}»”’"
PASTED_SOURCE = ""  # a pasted text has no source to show


async def take_article(update: Update, context: SanadContext, text: str) -> bool:
    """If `text` (a message for the bot) is an article — a long text, or one link — add it to
    the chat's own articles and return True; False when it is a question."""
    message = message_of(update)
    pasted = looks_like_article(text)
    url = None if pasted else single_link(message, text)
    if not pasted and url is None:
        return False
    if not await _may_add(update, context):
        return True
    work = _own_from_text(context, message, text) if url is None else _own_from_url(context, message, url, "")
    await reply(message, await while_typing(message.chat, work))
    return True


async def add_url(update: Update, context: SanadContext) -> None:
    """/add <link> [title]: to the shared library for the bot's admins, else to the chat's own."""
    message = message_of(update)
    if not context.args:
        await reply(message, messages.ADD_USAGE)
        return
    url, title = context.args[0], " ".join(context.args[1:])
    if context.is_admin(update.effective_user):
        await reply(message, await while_typing(message.chat, _shared_from_url(context, url, title)))
    elif await _may_add(update, context):
        await reply(message, await while_typing(message.chat, _own_from_url(context, message, url, title)))


async def add_document(update: Update, context: SanadContext) -> None:
    """Add a .txt, .md or .html file (its caption is the title) to the chat's own articles."""
    message = message_of(update)
    if message.chat.type != Chat.PRIVATE and not (mentions(message, context.bot) or replies_to(message, context.bot)):
        return  # a file shared in a group, not sent to the bot
    document = message.document
    if document is None or not await _may_add(update, context):  # the filter only lets documents in
        return
    refusal = _document_refusal(document, context.bot_data.fetch_policy.max_bytes)
    if refusal is not None:
        await reply(message, refusal)
        return
    title = strip_mention(message.caption or "", context.bot.username)
    await reply(message, await while_typing(message.chat, _own_from_document(context, message, document, title)))


async def share_article(update: Update, context: SanadContext) -> None:
    """/share <number>: copy one of the admin's own articles into the shared library; admins only."""
    message = message_of(update)
    if not await admin_only(update, context):
        return
    number = _number(context.args)
    stored = None if number is None else await context.run(context.chats.store.article, message.chat.id, number)
    if stored is None:
        await reply(message, messages.SHARE_USAGE)
        return
    article, added = await context.run(context.library.add_article, stored.text, stored.title, stored.source)
    if added:
        context.bot_data.metrics.added("library")
    logger.info("Chat %s shared its article %s as %s", message.chat.id, number, article.id)
    await reply(message, render_added(article, added))


async def admin_only(update: Update, context: SanadContext) -> bool:
    """True for one of the bot's admins; anyone else is told, politely, that this is for admins."""
    if context.is_admin(update.effective_user):
        return True
    await reply(message_of(update), messages.ADMIN_ONLY)
    return False


def single_link(message: Message, text: str) -> str | None:
    """The one http(s) link of a message (its entities, else the text), or None for none or several."""
    kinds: list[str | None] = [MessageEntity.URL, MessageEntity.TEXT_LINK]
    entities = message.parse_entities(kinds) if message.text else message.parse_caption_entities(kinds)
    found = {entity.url if entity.type == MessageEntity.TEXT_LINK else shown for entity, shown in entities.items()}
    links = {link for link in found if link and _LINK.fullmatch(link)} or set(_LINK.findall(text))
    links = {link.rstrip(_LINK_TAIL) for link in links}
    return links.pop() if len(links) == 1 else None


def forward_source(message: Message) -> str:
    """Where a forwarded channel post came from (its t.me link), or "" for a pasted text."""
    origin = message.forward_origin
    chat = getattr(origin, "chat", None)
    number = getattr(origin, "message_id", None)
    if chat is not None and chat.username and number:
        return f"https://t.me/{chat.username}/{number}"
    return PASTED_SOURCE


async def _may_add(update: Update, context: SanadContext) -> bool:
    """True if the sender may add to this chat's articles; in a group a member is told who may."""
    message = message_of(update)
    if await context.may_manage(message.chat, update.effective_user):
        return True
    await reply(message, messages.GROUP_ADMINS_ONLY)
    return False


def _user_id(message: Message) -> int:
    return message.from_user.id if message.from_user else message.chat.id


async def _shared_from_url(context: SanadContext, url: str, title: str) -> str:
    """Fetch, extract and store the article at `url` in the shared library; the reply to send."""
    known = await context.run(context.library.find_article, source=url)
    if known is not None:
        return render_added(known, added=False)
    try:
        extracted, source = await _fetch(context, url)
    except (FetchError, ExtractError) as exc:
        logger.info("Refused to add %s: %s", url, exc)
        return render_refusal(exc)
    article, added = await context.run(context.library.add_article, extracted.text, title or extracted.title, source)
    if added:
        context.bot_data.metrics.added("library")
        logger.info("Added article %s from %s to the shared library", article.id, source)
    return render_added(article, added)


async def _own_from_url(context: SanadContext, message: Message, url: str, title: str) -> str:
    """Fetch, extract and store the article at `url` in the chat's own articles; the reply."""
    chats, chat_id = context.chats, message.chat.id
    known = await context.run(chats.find, chat_id, source=url)
    if known is None:
        try:
            await context.run(chats.check_can_add, chat_id, _user_id(message))
            extracted, source = await _fetch(context, url)
        except LimitError as exc:
            return render_limit(exc)
        except (FetchError, ExtractError) as exc:
            logger.info("Refused to add %s: %s", url, exc)
            return render_refusal(exc)
        return await _store_own(context, message, extracted, title, source)
    await context.run(chats.set_focus, chat_id, known.article().id)
    return render_chat_added(known, added=False, group=message.chat.type != Chat.PRIVATE)


async def _own_from_text(context: SanadContext, message: Message, text: str) -> str:
    """Store a pasted (or forwarded) text in the chat's own articles; the reply."""
    try:
        extracted = await context.run(extract_article, text, kind="text", source="the message")
    except ExtractError as exc:
        return render_refusal(exc)
    return await _store_own(context, message, extracted, "", forward_source(message))


async def _own_from_document(context: SanadContext, message: Message, document: Document, title: str) -> str:
    """Download, decode and store an uploaded file in the chat's own articles; the reply."""
    try:
        await context.run(context.chats.check_can_add, message.chat.id, _user_id(message))
    except LimitError as exc:
        return render_limit(exc)
    name = document.file_name or ""
    telegram_file = await context.bot.get_file(document.file_id)
    data = await telegram_file.download_as_bytearray()
    try:
        max_bytes = context.bot_data.fetch_policy.max_bytes
        extracted = await context.run(decode_document, bytes(data), name, max_bytes=max_bytes)
    except ExtractError as exc:
        logger.info("Refused to add the file %s: %s", name, exc)
        return render_refusal(exc)
    return await _store_own(context, message, extracted, title, name)


async def _store_own(
    context: SanadContext, message: Message, extracted: ExtractedArticle, title: str, source: str
) -> str:
    chat_id, user_id = message.chat.id, _user_id(message)
    try:
        stored, added = await context.run(
            context.chats.add, chat_id, user_id, extracted.text, title or extracted.title, source
        )
    except LimitError as exc:
        return render_limit(exc)
    if added:
        context.bot_data.metrics.added("chat")
        logger.info("Chat %s added its article %s (%d characters)", chat_id, stored.number, len(stored.text))
    return render_chat_added(stored, added, group=message.chat.type != Chat.PRIVATE)


async def _fetch(context: SanadContext, url: str) -> tuple[ExtractedArticle, str]:
    """The article at `url` and the URL it was read from (after redirects)."""
    data = context.bot_data
    page = await fetch_url_async(url, data.fetch_policy, client=data.http)
    return await context.run(extract_article, page), page.url


def _document_refusal(document: Document, max_bytes: int) -> str | None:
    """The reply refusing a file before it is downloaded (wrong type, too big), or None."""
    if PurePath(document.file_name or "").suffix.lower() not in DOCUMENT_KINDS:
        return messages.EXTRACT_REFUSALS["file_type"]
    if document.file_size is not None and document.file_size > max_bytes:
        return messages.EXTRACT_REFUSALS["too_large"]
    return None


def _number(args: list[str] | None) -> int | None:
    """The article number given to a command (`/share 3`), or None."""
    raw = args[0] if args else ""
    return int(raw) if raw.isascii() and raw.isdigit() else None
