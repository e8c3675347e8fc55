"""The HTTP face of the fake Bot API: requests decoded as the Bot API reads them, answers written back.

Bot API clients send parameters as JSON, as a form or in the query string; form and query values
are strings, so the fields that carry JSON or whole numbers are decoded here. File downloads
(/file/bot<token>/<path>) are answered with bytes, every other route with JSON.
"""

from __future__ import annotations

import contextlib
import json
import re
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

_JSON_FIELDS = {
    "reply_parameters",
    "commands",
    "allowed_updates",
    "link_preview_options",
    "reply_markup",
    "scope",
    "results",
    "button",
    "is_personal",
}
_INT_FIELDS = {"chat_id", "offset", "limit", "timeout", "message_id", "reply_to_message_id", "user_id", "cache_time"}


class BotApi(Protocol):
    """What the handler serves: Bot API methods (JSON) and file downloads (bytes)."""

    def handle(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API request: (HTTP status, JSON body)."""
        ...

    def download(self, path: str) -> tuple[int, bytes]:
        """Answer one file download: (HTTP status, body)."""
        ...


def _decode_params(raw: dict[str, str]) -> dict[str, Any]:
    """Form or query values as the Bot API reads them: JSON fields parsed, whole numbers made ints."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _JSON_FIELDS:
            params[key] = json.loads(value)
        elif key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
            params[key] = int(value)
        else:
            params[key] = value
    return params


def handler_for(fake: BotApi) -> type[BaseHTTPRequestHandler]:
    """A request handler class (for ThreadingHTTPServer) that serves `fake`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Answer at once, as Telegram's servers do: with Nagle's algorithm on, the body (written
        # after the headers) waited for the client's delayed ACK, ~40 ms a request on Linux.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self._respond_json(*fake.handle(urlsplit(self.path).path, self._params()))

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path.startswith("/file/"):
                self._respond(*fake.download(parts.path), "application/octet-stream")
                return
            self._respond_json(*fake.handle(parts.path, _decode_params(dict(parse_qsl(parts.query)))))

        def _params(self) -> dict[str, Any]:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
            if not body:
                return {}
            if self.headers.get("Content-Type", "").startswith("application/json"):
                params: dict[str, Any] = json.loads(body)
                return params
            return _decode_params(dict(parse_qsl(body, keep_blank_values=True)))

        def _respond_json(self, status: int, body: dict[str, Any]) -> None:
            self._respond(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")

        def _respond(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # the bot may give up on a long poll (stopping); Telegram does not mind either
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Silent: request lines hold the token."""

    return Handler
