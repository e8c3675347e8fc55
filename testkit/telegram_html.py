"""Telegram's side of message text: the HTML parse mode and the entities clients attach.

`parse_html` reads text the way the Bot API does for parse_mode=HTML: the visible text and its
entities, offsets counted in UTF-16 code units; what Telegram refuses raises `ParseError` with
Telegram's own wording. `user_entities` gives the entities a user's client sends along with a
typed message (a leading /command, @mentions, http(s) links). `parse_text` is what sendMessage
and an inline result's message do with a parse_mode; `VisibleText` reads a parsed text's entities.
"""

from __future__ import annotations

import re
from typing import Any

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "tg-emoji": "custom_emoji",
    "blockquote": "blockquote",
}
_TAGS = set(_ENTITY_TYPES)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]*))?)*)\s*>")
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_MENTION_RE = re.compile(r"@[A-Za-z0-9_]{5,32}")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?")
_URL_RE = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
MESSAGE_LIMIT = 4096  # UTF-16 code units of a message's visible text


class ParseError(ValueError):
    """The text is not HTML Telegram accepts; the message is Telegram's wording."""


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the way Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse: the visible text and its entities (offsets in UTF-16 units)."""
    plain: list[str] = []
    units = 0
    stack: list[tuple[str, int, str]] = []  # tag, start offset, attributes
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "<":
            match = _TAG_RE.match(text, pos)
            byte_offset = len(text[:pos].encode("utf-8"))
            if match is None:
                raise ParseError(f"Can't parse entities: unexpected end of name token at byte offset {byte_offset}")
            closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
            if closing:
                if not stack:
                    raise ParseError(f"Can't parse entities: unexpected end tag at byte offset {byte_offset}")
                open_name, start, open_attributes = stack.pop()
                if open_name != name:
                    raise ParseError(
                        f"Can't parse entities: unmatched end tag at byte offset {byte_offset}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                kind = _ENTITY_TYPES[name]
                if name == "blockquote" and "expandable" in open_attributes:
                    kind = "expandable_blockquote"
                if units > start:
                    entities.append({"type": kind, "offset": start, "length": units - start})
            else:
                if name not in _TAGS:
                    raise ParseError(
                        f'Can\'t parse entities: unsupported start tag "{name}" at byte offset {byte_offset}'
                    )
                if name == "blockquote" and any(tag == "blockquote" for tag, _, _ in stack):
                    raise ParseError("Can't parse entities: blockquote entities can't be nested")
                stack.append((name, units, attributes))
            pos = match.end()
            continue
        if char == "&":
            match = _ENTITY_RE.match(text, pos)
            value = _entity_value(match) if match else None
            if match is None or value is None:
                offset = len(text[:pos].encode("utf-8"))
                raise ParseError(f"Can't parse entities: character '&' is reserved at byte offset {offset}")
            plain.append(value)
            units += utf16_length(value)
            pos = match.end()
            continue
        plain.append(char)
        units += utf16_length(char)
        pos += 1
    if stack:
        raise ParseError(f"Can't parse entities: can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    return "".join(plain), entities


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]] | str:
    """(visible text, entities) of a message text sent with `parse_mode` (None: plain text), or
    Telegram's complaint ("Bad Request: ...") when it cannot parse it."""
    if parse_mode is None:
        return text, []
    if parse_mode.upper() != "HTML":
        return f"Bad Request: unsupported parse_mode {parse_mode!r} in this fake"
    try:
        return parse_html(text)
    except ParseError as exc:
        return f"Bad Request: {exc}".replace("Bad Request: C", "Bad Request: c", 1)


class VisibleText:
    """What a parsed message shows: for the records that have its `plain` text and `entities`."""

    plain: str  # the visible text after parsing
    entities: list[dict[str, Any]]

    def entity_texts(self, *kinds: str) -> list[str]:
        """The visible text under each entity of the given types."""
        encoded = self.plain.encode("utf-16-le")
        return [
            encoded[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in self.entities
            if e["type"] in kinds
        ]

    @property
    def quotes(self) -> list[str]:
        """The text of every blockquote."""
        return self.entity_texts("blockquote", "expandable_blockquote")


def _entity_value(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_ENTITIES.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def user_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram's clients attach: a leading /command, @mentions and http(s) links."""
    entities: list[dict[str, Any]] = []
    command = _COMMAND_RE.match(text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_length(command.group())})
    for mention in _MENTION_RE.finditer(text):
        if command and mention.start() < command.end():
            continue
        start = utf16_length(text[: mention.start()])
        entities.append({"type": "mention", "offset": start, "length": utf16_length(mention.group())})
    for url in _URL_RE.finditer(text):
        start = utf16_length(text[: url.start()])
        entities.append({"type": "url", "offset": start, "length": utf16_length(url.group())})
    return sorted(entities, key=lambda entity: int(entity["offset"]))
