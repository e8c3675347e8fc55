"""The core of the fake Bot API: the server in its thread, the state under one lock, and how a
request is answered.

`FakeServer` listens on 127.0.0.1, records every request (`calls`), answers it with an injected
failure (`fail_next`) or after a test lets it go (`hold`), else with the method `_api_<name>`
that one of the job modules (fake_messages.py, fake_files.py, fake_callbacks.py, fake_inline.py,
fake_members.py, fake_webhook.py) adds; `FakeTelegram` (fake_telegram.py) is all of them. Here
too: the queue of updates handed out by getUpdates with long polling, and the methods that only
answer (getMe, setMyCommands, sendChatAction).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Self

from .bot_api_http import handler_for
from .inline_results import InlineAnswer
from .telegram_objects import Call, CallbackAnswer, Hold, Sent
from .webhook_delivery import GET_UPDATES_CONFLICT, WebhookQueue

BOT_ID = 7000001
BOT_USERNAME = "sanad_test_bot"


class WaitTimeoutError(AssertionError):
    """`wait_until` gave up. An AssertionError, so that a test fails with its message; code
    that is not a test (the benchmarks) catches it by this name."""


class ApiError(Exception):
    """A Bot API method refuses the request: Telegram's HTTP status and description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def error_body(status: int, description: str) -> dict[str, Any]:
    """The JSON body of a refused request, as Telegram writes it."""
    return {"ok": False, "error_code": status, "description": description}


@dataclass
class Failure:
    """An injected failure: the next `remaining` calls of `method` (that satisfy `when`) get it."""

    method: str
    status: int
    description: str
    parameters: dict[str, Any] | None
    when: Callable[[dict[str, Any]], bool] | None
    remaining: int


@dataclass
class ServerState:
    """Everything the fake knows, read and changed under its lock (`FakeServer._changed`)."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # as they are now
    current: dict[tuple[int, int], Sent] = field(default_factory=dict)  # the bot's, after their edits
    edits: list[Sent] = field(default_factory=list)  # each edit, as the message was after it
    queries: dict[str, CallbackAnswer | None] = field(default_factory=dict)  # callback query -> answer
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # file_id -> (file_path, bytes)
    downloads: list[str] = field(default_factory=list)  # file paths the bot downloaded
    admins: dict[int, tuple[int, ...]] = field(default_factory=dict)  # chat -> (creator, administrators...)
    holds: list[Hold] = field(default_factory=list)
    webhook: WebhookQueue = field(default_factory=WebhookQueue)
    inline_pending: set[str] = field(default_factory=set)  # inline query ids not answered yet
    inline_answers: dict[str, InlineAnswer] = field(default_factory=dict)
    stopping: bool = False


class FakeServer:
    """The server, its state and the dispatch of requests; use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self,
        token: str,
        username: str = BOT_USERNAME,
        bot_id: int = BOT_ID,
        max_poll_seconds: float = 1.0,
        *,
        webhook_connections: int = 4,
    ) -> None:
        self.token = token
        self.max_poll_seconds = max_poll_seconds  # hold long polls at most this long (tests stay brisk)
        self.webhook_connections = webhook_connections  # at most this many deliveries at once (Telegram: 40)
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Sanad",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,  # after /setinline in @BotFather
        }
        self._state = ServerState()
        self._changed = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._deliverers: list[threading.Thread] = []

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1, serving from a daemon thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-telegram", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake every waiting long poll."""
        with self._changed:
            self._state.stopping = True
            self._changed.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Root URL, the value for TELEGRAM_API_BASE_URL."""
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"  # an IPv4 server: the host is a str, not bytes

    # --- what tests arrange and read -----------------------------------------------------

    def hold(self, method: str, *, when: Callable[[dict[str, Any]], bool] | None = None) -> Hold:
        """Hold back the answer to the next request of `method` (that satisfies `when`)."""
        hold = Hold(method, when)
        with self._changed:
            self._state.holds.append(hold)
        return hold

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (that satisfy `when`) with an error."""
        with self._changed:
            self._state.failures.append(Failure(method, status, description, parameters, when, times))

    def pending_failures(self) -> int:
        """How many injected failures have not happened yet."""
        with self._changed:
            return sum(f.remaining for f in self._state.failures)

    def calls(self, method: str | None = None) -> list[Call]:
        """Every request the bot made (successful or not), optionally of one method."""
        with self._changed:
            return [call for call in self._state.calls if method is None or call.method == method]

    def pending_updates(self) -> int:
        """How many updates wait to be fetched or delivered."""
        with self._changed:
            return len(self._state.updates)

    def wait_until(self, condition: Callable[[], object], timeout: float, what: str = "condition") -> None:
        """Block until `condition()` is truthy (re-checked on every request, and every 0.1 s)
        or raise WaitTimeoutError naming `what` and the last requests."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    methods = [c.method for c in self._state.calls][-20:]
                    raise WaitTimeoutError(f"timed out after {timeout} s waiting for {what}; last calls: {methods}")
                self._changed.wait(min(left, 0.1))

    def _push(self, *updates: dict[str, Any]) -> None:
        """Queue updates (a user did something), numbered in order, and wake the waiters."""
        with self._changed:
            self._state.updates.extend({"update_id": next(self._update_ids), **update} for update in updates)
            self._changed.notify_all()

    # --- the server's side ---------------------------------------------------------------

    def handle(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API request: (HTTP status, JSON body)."""
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            if path.startswith("/bot"):
                return 401, error_body(401, "Unauthorized")
            return 404, error_body(404, "Not Found")
        method = path[len(prefix) :]
        with self._changed:
            self._state.calls.append(Call(method, params, time.monotonic()))
            self._changed.notify_all()
            hold = self._take_hold(method, params)
            failure = self._take_failure(method, params, path)
        if hold is not None:
            hold.released.wait(timeout=60)
        if failure is not None:
            return failure
        if method == "getUpdates":
            if self._state.webhook.webhook is not None:
                return 409, error_body(409, GET_UPDATES_CONFLICT)
            return 200, {"ok": True, "result": self._get_updates(params)}
        action = getattr(self, f"_api_{method}", None)
        if action is None:
            return 404, error_body(404, "Not Found: method not found")
        try:
            return 200, {"ok": True, "result": action(params)}
        except ApiError as exc:
            return exc.status, error_body(exc.status, exc.description)

    def download(self, path: str) -> tuple[int, bytes]:
        """Answer a file download, /file/bot<token>/<file_path>: (HTTP status, body). No files here: 404."""
        return 404, b"Not Found"

    def _take_hold(self, method: str, params: dict[str, Any]) -> Hold | None:
        for hold in self._state.holds:
            if hold.method == method and not hold.reached.is_set() and (hold.when is None or hold.when(params)):
                hold.reached.set()
                return hold
        return None

    def _take_failure(self, method: str, params: dict[str, Any], path: str) -> tuple[int, dict[str, Any]] | None:
        for failure in self._state.failures:
            if failure.method == method and failure.remaining > 0 and (failure.when is None or failure.when(params)):
                failure.remaining -= 1
                body = error_body(failure.status, failure.description.replace("{path}", path))
                if failure.parameters:
                    body["parameters"] = failure.parameters
                return failure.status, body
        return None

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset", 0)
        timeout = min(float(params.get("timeout", 0) or 0), self.max_poll_seconds)
        limit = params.get("limit", 100) or 100
        deadline = time.monotonic() + timeout
        with self._changed:
            self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
            while not self._state.updates and not self._state.stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return self._state.updates[:limit]

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        for command in params.get("commands", []):
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]) or not 1 <= len(command["description"]) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        if params.get("action") not in {"typing", "upload_photo", "record_voice", "upload_document"}:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True
