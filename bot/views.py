"""The replies about a chat's own articles, as Telegram HTML: pure functions, no I/O.

Confirmations of adding and forgetting, refusals by a limit, the header naming the focused
article over an answer, and the /sources listing (the shared library and the chat's own
articles, the focus marked). Inserted values are cut and escaped here; button texts are
plain text, cut to `BUTTON_TITLE_CHARS`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from embeddings import Answer, Article, LimitError, StoredArticle

from . import messages
from .render import MESSAGE_LIMIT, SHOWN_CHARS, render_answer, to_plain, utf16_length

BUTTON_TITLE_CHARS = 32
_ENTRY_GAP = "\n\n"


@dataclass(frozen=True)
class Listed:
    """One line of /sources: the article, the id to type for it, whether it is the focus."""

    article: Article
    ident: str
    focused: bool = False


def shown(value: str, limit: int = SHOWN_CHARS) -> str:
    """A value for a template: on one line, cut to `limit` characters, HTML-escaped."""
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return html.escape(value, quote=False)


def button_title(title: str) -> str:
    """An article's title as a button shows it (plain text, short)."""
    title = " ".join(title.split())
    return title if len(title) <= BUTTON_TITLE_CHARS else title[: BUTTON_TITLE_CHARS - 1] + "…"


def render_chat_added(stored: StoredArticle, added: bool, group: bool = False) -> str:
    """The reply to a chat's article added (or found already there): title, paragraphs, how to ask."""
    template = messages.CHAT_ADDED if added else messages.CHAT_PRESENT
    paragraphs = len(stored.text.split("\n"))
    owner = messages.GROUP_OWN_LABEL if group else messages.OWN_LABEL
    return template.format(title=shown(stored.title), number=stored.number, paragraphs=paragraphs, owner=owner)


def render_limit(error: LimitError) -> str:
    """Which limit refused the article, and what to do."""
    return messages.LIMIT_REFUSALS[error.limit].format(allowed=error.allowed)


def render_focused_answer(answer: Answer, focus: Article, limit: int = MESSAGE_LIMIT) -> list[str]:
    """An answer from the focused article, its first message headed by the article's title
    (so the answer cites it by paragraph only)."""
    header = messages.FOCUS_HEADER.format(title=shown(focus.title))
    room = limit - utf16_length(to_plain(header)) - len(_ENTRY_GAP)
    parts = render_answer(answer, limit=room, named=focus.id)
    return [f"{header}{_ENTRY_GAP}{parts[0]}", *parts[1:]]


def render_focus_miss(focus: Article) -> str:
    """The focused article does not answer: say so (a button offers to search everything)."""
    return messages.FOCUS_MISS.format(title=shown(focus.title))


def render_focus_set(article: Article | None) -> str:
    """The reply to picking an article in /sources (None: everything)."""
    return messages.FOCUS_CLEARED if article is None else messages.FOCUS_SET.format(title=shown(article.title))


def render_forgot(stored: StoredArticle) -> str:
    """The reply to one article forgotten."""
    return messages.FORGOT.format(title=shown(stored.title), number=stored.number)


def render_unknown_own(ident: str) -> str:
    """The reply to /forget with an id that is not one of the chat's own articles."""
    return messages.UNKNOWN_OWN.format(id=shown(ident, 40))


def render_listing(
    shared: Sequence[Listed], own: Sequence[Listed], limit: int = MESSAGE_LIMIT, *, group: bool = False
) -> list[str]:
    """/sources: the shared library, then the chat's (or group's) own articles, in messages within `limit`."""
    entries = [_heading(messages.SHARED_LABEL, len(shared))] if shared else []
    entries += [_entry(n, item) for n, item in enumerate(shared, start=1)]
    if own:
        entries.append(_heading(messages.GROUP_OWN_LABEL if group else messages.OWN_LABEL, len(own)))
    else:
        entries.append(messages.NO_GROUP_ARTICLES if group else messages.NO_OWN_ARTICLES)
    entries += [_entry(n, item) for n, item in enumerate(own, start=1)]
    return _pack(entries, limit)


def _heading(label: str, count: int) -> str:
    return f"<b>{html.escape(label)} ({count}):</b>"


def _entry(number: int, item: Listed) -> str:
    article = item.article
    line = f"{messages.ARTICLE_LABEL} {number}: <b>{shown(article.title)}</b>"
    if article.source:
        line += f" — {shown(article.source)}"
    line += f"\n{messages.ID_LABEL}: <code>{shown(item.ident, 80)}</code>"
    return f"{line}\n{messages.FOCUS_MARK}" if item.focused else line


def _pack(entries: Sequence[str], limit: int) -> list[str]:
    """Entries joined into messages whose visible text fits `limit` (each entry fits alone:
    its values are cut to SHOWN_CHARS)."""
    packed: list[str] = []
    for entry in entries:
        joined = f"{packed[-1]}{_ENTRY_GAP}{entry}" if packed else entry
        if packed and utf16_length(to_plain(joined)) <= limit:
            packed[-1] = joined
        else:
            packed.append(entry)
    return packed
