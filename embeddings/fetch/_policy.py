"""What a fetch accepts and what it gives back: `FetchPolicy` and `FetchedPage`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import SettingsError

Kind = Literal["html", "text", "markdown"]

ALLOWED_TYPES: dict[str, Kind] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "text/markdown": "markdown",
}


@dataclass(frozen=True)
class FetchPolicy:
    """The limits of one fetch; the defaults are the ones the bot uses."""

    timeout: float = 15.0  # seconds for the whole fetch, redirects included
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private: bool = False  # allow loopback, private, link-local... (tests, intranets)

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise SettingsError(f"FetchPolicy.timeout must be a positive number of seconds, not {self.timeout!r}.")
        if self.max_bytes < 1:
            raise SettingsError(f"FetchPolicy.max_bytes must be at least 1, not {self.max_bytes!r}.")
        if self.max_redirects < 0:
            raise SettingsError(f"FetchPolicy.max_redirects must be 0 or more, not {self.max_redirects!r}.")


@dataclass(frozen=True)
class FetchedPage:
    """A fetched page: the final URL (after redirects), its media type and decoded text."""

    url: str
    content_type: str  # media type without parameters, e.g. "text/html"; "" when not sent
    text: str

    @property
    def kind(self) -> Kind:
        """How to extract the article: from the media type, else sniffed from the text."""
        if self.content_type in ALLOWED_TYPES:
            return ALLOWED_TYPES[self.content_type]
        head = self.text[:512].lstrip().lower()
        return "html" if head.startswith(("<!doctype html", "<html")) else "text"


def media_type(content_type: str) -> str:
    """The media type of a Content-Type header, lower case, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()
