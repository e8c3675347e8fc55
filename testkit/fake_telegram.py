"""A small Bot API server for the end-to-end tests and the benchmarks, run in a thread on 127.0.0.1.

It speaks the HTTP interface the bot uses (getMe, getUpdates with long polling,
sendMessage with inline keyboards, editMessageText and editMessageReplyMarkup, sendChatAction,
setMyCommands, answerCallbackQuery, getChatMember, getChatAdministrators, deleteWebhook,
getFile and the file download route /file/bot<token>/<file_path>) and checks
messages the way Telegram does: HTML entities are parsed (unknown or unbalanced tags, a bare
`<` or `&` are refused with "Bad Request: can't parse entities: ..."), the visible text must
not be empty and must fit 4,096 UTF-16 code units. Tests play the users (`send_text`, ...),
read what the bot sent (`sent`, `wait_for_messages`), and inject failures (`fail_next`).
A user sending a file (`send_document`) stores its bytes for getFile and the download; a
user pressing a button (`press_button`) sends the bot's message that carries it, as it is
now (after the bot's edits), and the bot's answer to the press is kept (`callback_answer`);
a group's administrators are whoever `set_admins` names.
Only the bot's own messages can be edited, in their chat; an edit that changes nothing is
refused with "message is not modified", as Telegram does. `current` gives a message as it
is after its edits, `edits_to` every edit in a chat.
A load (the benchmarks) sends many chats' questions in one batch (`send_texts`) and reads each
chat's replies (`messages_by_chat`). A user typing `@bot question` sends an inline query
(`send_inline_query`); the bot's answerInlineQuery is checked as Telegram checks it
(inline_results.py) and kept (`wait_for_inline_answer`).
Webhooks: setWebhook, deleteWebhook and getWebhookInfo as Telegram answers them (getUpdates is
refused with 409 while a webhook is set); updates are then POSTed to the webhook — or, standing
in for a load balancer, in turn to the URLs `deliver_to` names — with the secret header, and
delivered again until answered 2xx (`deliveries` records every attempt; webhook_delivery.py).
A test may `hold` the answer to one request (e.g. a replica's "typing") until it says so.

The HTML parsing lives in telegram_html.py, the JSON objects and records in telegram_objects.py
and the HTTP plumbing in bot_api_http.py; the names tests use from them (`Sent`, `Call`,
`parse_html`, `utf16_length`, `ParseError`) are importable from here too.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote

from .bot_api_http import handler_for
from .inline_results import InlineAnswer, InlineAnswerError, check_inline_answer, inline_query_json
from .telegram_html import ParseError, parse_html, user_entities, utf16_length
from .telegram_objects import Call, CallbackAnswer, Hold, Sent, chat_json, check_keyboard, member_json, user_json
from .webhook_delivery import GET_UPDATES_CONFLICT, Delivery, WebhookQueue, check_webhook, start_deliveries

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "MESSAGE_LIMIT",
    "Call",
    "CallbackAnswer",
    "Delivery",
    "FakeTelegram",
    "Hold",
    "InlineAnswer",
    "ParseError",
    "Sent",
    "WaitTimeoutError",
    "parse_html",
    "utf16_length",
]

MESSAGE_LIMIT = 4096
CALLBACK_TEXT_LIMIT = 200  # characters of an answerCallbackQuery text
BOT_ID = 7000001
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
BOT_USERNAME = "sanad_test_bot"


class WaitTimeoutError(AssertionError):
    """`wait_until` gave up. An AssertionError, so that a test fails with its message; code
    that is not a test (the benchmarks) catches it by this name."""


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    parameters: dict[str, Any] | None
    when: Callable[[dict[str, Any]], bool] | None
    remaining: int


@dataclass
class _State:
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
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


class FakeTelegram:
    """The fake Bot API server; use as a context manager, or `start()` / `stop()`."""

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
        self._state = _State()
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

    # --- the users' side -----------------------------------------------------------------

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        reply_to: Sent | None = None,
    ) -> dict[str, Any]:
        """A user writes `text` in a chat (negative ids are supergroups); returns the message."""
        message = self._text_message(chat_id, text, user_id, reply_to)
        self._push({"message": message})
        return message

    def send_texts(self, texts: Mapping[int, str]) -> float:
        """The user of each chat writes its text, all at the same moment: the updates are queued
        together, so that one getUpdates can hand them all out (a load, not a conversation).
        Returns time.monotonic() once they are queued."""
        messages = [self._text_message(chat_id, text, None, None) for chat_id, text in texts.items()]
        self._push(*({"message": message} for message in messages))
        return time.monotonic()

    def send_other(
        self, chat_id: int, content: dict[str, Any], *, user_id: int | None = None, reply_to: Sent | None = None
    ) -> dict[str, Any]:
        """A user sends a non-text message, e.g. {"sticker": {...}}; returns the message."""
        message = self._new_message(chat_id, user_id, reply_to)
        message.update(content)
        self._push({"message": message})
        return message

    def send_document(
        self,
        chat_id: int,
        file_name: str,
        data: bytes,
        *,
        user_id: int | None = None,
        caption: str | None = None,
        file_size: int | None = None,
        mime_type: str = "text/plain",
        reply_to: Sent | None = None,
    ) -> dict[str, Any]:
        """A user sends a file; `file_size` may claim another size than `data` has. Returns the message."""
        number = next(self._update_ids)
        file_id, path = f"doc{number}", f"documents/file_{number}{Path(file_name).suffix}"
        with self._changed:
            self._state.files[file_id] = (path, data)
        document = {
            "file_id": file_id,
            "file_unique_id": f"udoc{number}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data) if file_size is None else file_size,
        }
        content: dict[str, Any] = {"document": document}
        if caption is not None:
            content["caption"] = caption
            if entities := user_entities(caption):
                content["caption_entities"] = [e for e in entities if e["type"] == "mention"]
        return self.send_other(chat_id, content, user_id=user_id, reply_to=reply_to)

    def edit_text(self, message: dict[str, Any], text: str) -> None:
        """A user edits an earlier message."""
        edited = dict(message, text=text, edit_date=int(time.time()))
        edited.pop("entities", None)
        if entities := user_entities(text):
            edited["entities"] = entities
        self._push({"edited_message": edited})

    def press_button(self, chat_id: int, data: str, *, user_id: int | None = None, message: Sent | None = None) -> str:
        """A user presses an inline button carrying `data` (on the bot's `message`, if given:
        the query carries it as Telegram stored it); returns the callback query id."""
        query_id = f"cq{next(self._update_ids)}"
        user = user_json(user_id or abs(chat_id))
        with self._changed:
            stored = self._state.messages.get((message.chat_id, message.message_id)) if message else None
            self._state.queries[query_id] = None
        chat, bot = chat_json(chat_id), self.bot_user
        text = {"message_id": 1, "date": int(time.time()), "chat": chat, "from": bot, "text": "زر"}
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": str(chat_id),
                    "data": data,
                    "message": stored or text,
                }
            }
        )
        return query_id

    def deliver_to(self, *urls: str) -> None:
        """Deliver webhook updates to these URLs in turn (a load balancer in front of replicas)
        instead of the webhook's own URL; no URLs: the webhook's own again."""
        with self._changed:
            self._state.webhook.targets = urls
            self._changed.notify_all()

    def hold(self, method: str, *, when: Callable[[dict[str, Any]], bool] | None = None) -> Hold:
        """Hold back the answer to the next request of `method` (that satisfies `when`)."""
        hold = Hold(method, when)
        with self._changed:
            self._state.holds.append(hold)
        return hold

    def send_inline_query(self, user_id: int, query: str, *, chat_type: str = "private") -> str:
        """A user types `@bot query` in a chat of `chat_type`; returns the inline query id."""
        query_id = f"iq{next(self._update_ids)}"
        with self._changed:
            self._state.inline_pending.add(query_id)
        self._push({"inline_query": inline_query_json(query_id, user_id, query, chat_type)})
        return query_id

    def wait_for_inline_answer(self, query_id: str, timeout: float = 30.0) -> InlineAnswer:
        """The bot's (accepted) answer to an inline query, once it came."""
        self.wait_until(
            lambda: query_id in self._state.inline_answers, timeout, f"an answer to inline query {query_id}"
        )
        with self._changed:
            return self._state.inline_answers[query_id]

    def set_admins(self, chat_id: int, creator: int, *administrators: int) -> None:
        """Make `creator` the group's creator and the others its administrators; anyone else is a member."""
        with self._changed:
            self._state.admins[chat_id] = (creator, *administrators)

    def _new_message(self, chat_id: int, user_id: int | None, reply_to: Sent | None) -> dict[str, Any]:
        message_id = next(self._message_ids)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat_json(chat_id),
            "from": user_json(user_id or abs(chat_id)),
        }
        with self._changed:
            if reply_to is not None:
                message["reply_to_message"] = self._state.messages[(reply_to.chat_id, reply_to.message_id)]
            self._state.messages[(chat_id, message_id)] = message  # a user's: never editable
        return message

    def _text_message(self, chat_id: int, text: str, user_id: int | None, reply_to: Sent | None) -> dict[str, Any]:
        message = self._new_message(chat_id, user_id, reply_to)
        message["text"] = text
        if entities := user_entities(text):
            message["entities"] = entities
        return message

    def _push(self, *updates: dict[str, Any]) -> None:
        with self._changed:
            self._state.updates.extend({"update_id": next(self._update_ids), **update} for update in updates)
            self._changed.notify_all()

    # --- what the bot did ----------------------------------------------------------------

    @property
    def sent(self) -> list[Sent]:
        """Every message the bot sent, in order."""
        with self._changed:
            return list(self._state.sent)

    def calls(self, method: str | None = None) -> list[Call]:
        """Every request the bot made (successful or not), optionally of one method."""
        with self._changed:
            return [call for call in self._state.calls if method is None or call.method == method]

    def current(self, sent: Sent) -> Sent:
        """The bot's message as it is now, after its edits."""
        with self._changed:
            return self._state.current.get((sent.chat_id, sent.message_id), sent)

    def edits_to(self, chat_id: int) -> list[Sent]:
        """Every edit of the bot's messages in one chat, in order (each as the message was after it)."""
        with self._changed:
            return [edit for edit in self._state.edits if edit.chat_id == chat_id]

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        """What the bot answered to a button press (None: not yet)."""
        with self._changed:
            return self._state.queries.get(query_id)

    def messages_to(self, chat_id: int) -> list[Sent]:
        """Messages the bot sent to one chat."""
        return [sent for sent in self.sent if sent.chat_id == chat_id]

    def messages_by_chat(self, chat_ids: Iterable[int]) -> dict[int, list[Sent]]:
        """The messages the bot sent to each of the chats, in order (one pass over all it sent)."""
        by_chat: dict[int, list[Sent]] = {chat_id: [] for chat_id in chat_ids}
        for sent in self.sent:
            if sent.chat_id in by_chat:
                by_chat[sent.chat_id].append(sent)
        return by_chat

    def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 30.0, settle: float = 0.3) -> list[Sent]:
        """Wait until the bot has sent `count` messages to a chat, then a little more for stragglers."""
        self.wait_until(lambda: len(self.messages_to(chat_id)) >= count, timeout, f"{count} message(s) to {chat_id}")
        time.sleep(settle)
        return self.messages_to(chat_id)

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
            self._state.failures.append(_Failure(method, status, description, parameters, when, times))

    @property
    def deliveries(self) -> list[Delivery]:
        """Every attempt to deliver an update to a webhook, in order."""
        with self._changed:
            return list(self._state.webhook.deliveries)

    def deliveries_in_flight(self) -> dict[int, str]:
        """The updates being delivered right now, and the URL each is at."""
        with self._changed:
            return dict(self._state.webhook.in_flight)

    def pending_updates(self) -> int:
        """How many updates wait to be fetched or delivered."""
        with self._changed:
            return len(self._state.updates)

    @property
    def downloads(self) -> list[str]:
        """The file paths the bot downloaded, in order."""
        with self._changed:
            return list(self._state.downloads)

    def pending_failures(self) -> int:
        """How many injected failures have not happened yet."""
        with self._changed:
            return sum(f.remaining for f in self._state.failures)

    # --- the server's side ---------------------------------------------------------------

    def handle(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API request: (HTTP status, JSON body)."""
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            if path.startswith("/bot"):
                return 401, _error(401, "Unauthorized")
            return 404, _error(404, "Not Found")
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
                return 409, _error(409, GET_UPDATES_CONFLICT)
            return 200, {"ok": True, "result": self._get_updates(params)}
        action = getattr(self, f"_api_{method}", None)
        if action is None:
            return 404, _error(404, "Not Found: method not found")
        try:
            return 200, {"ok": True, "result": action(params)}
        except _ApiError as exc:
            return exc.status, _error(exc.status, exc.description)

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
                body = _error(failure.status, failure.description.replace("{path}", path))
                if failure.parameters:
                    body["parameters"] = failure.parameters
                return failure.status, body
        return None

    def download(self, path: str) -> tuple[int, bytes]:
        """Answer a file download, /file/bot<token>/<file_path>: (HTTP status, body)."""
        prefix, path = f"/file/bot{self.token}/", unquote(path)  # httpx sends the token's ':' as %3A
        if not path.startswith(prefix):
            return 401, b"Unauthorized"
        file_path = path[len(prefix) :]
        with self._changed:
            found = next((data for p, data in self._state.files.values() if p == file_path), None)
            if found is not None:
                self._state.downloads.append(file_path)
                self._changed.notify_all()
        return (200, found) if found is not None else (404, b"Not Found")

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

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        with self._changed:
            self._state.webhook.webhook = None
            if params.get("drop_pending_updates") in (True, "true", "True"):
                self._state.updates.clear()
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        webhook = check_webhook(params)
        if isinstance(webhook, str):
            raise _ApiError(400, webhook)
        if not webhook.url:
            return self._api_deleteWebhook(params)
        with self._changed:
            if params.get("drop_pending_updates") in (True, "true", "True"):
                self._state.updates.clear()
            wanted = min(webhook.max_connections, self.webhook_connections)
            self._deliverers += start_deliveries(self._state, self._changed, webhook, wanted - len(self._deliverers))
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            return self._state.webhook.info(self._state.updates)

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        for command in params.get("commands", []):
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]) or not 1 <= len(command["description"]) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        if params.get("action") not in {"typing", "upload_photo", "record_voice", "upload_document"}:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id, text = str(params.get("callback_query_id", "")), str(params.get("text") or "")
        with self._changed:
            if query_id not in self._state.queries or self._state.queries[query_id] is not None:
                raise _ApiError(
                    400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
                )
            if len(text) > CALLBACK_TEXT_LIMIT:
                raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            alert = str(params.get("show_alert", "")).lower() in ("true", "1")
            self._state.queries[query_id] = CallbackAnswer(query_id, text, alert, time.monotonic())
            self._changed.notify_all()
        return True

    def _api_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("inline_query_id", ""))
        with self._changed:
            try:
                answer = check_inline_answer(params, known=query_id in self._state.inline_pending)
            except InlineAnswerError as exc:
                raise _ApiError(exc.status, exc.description) from exc
            self._state.inline_pending.discard(query_id)  # a query is answered once
            self._state.inline_answers[query_id] = answer
            self._changed.notify_all()
        return True

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id", "")
        with self._changed:
            stored = self._state.files.get(file_id)
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, data = stored
        if len(data) > 20_000_000:
            raise _ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data), "file_path": path}

    def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = int(params.get("chat_id", 0)), int(params.get("user_id", 0))
        with self._changed:
            admins = self._state.admins.get(chat_id, ())
        status = "creator" if admins[:1] == (user_id,) else "administrator" if user_id in admins else "member"
        return member_json(user_id, status)

    def _api_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._changed:
            admins = self._state.admins.get(params.get("chat_id", 0), ())
        return [member_json(user, "creator" if n == 0 else "administrator") for n, user in enumerate(admins)]

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text", "")
        if complaint := check_keyboard(params.get("reply_markup")):
            raise _ApiError(400, complaint)
        parse_mode, plain, entities = _parsed_text(params, "Bad Request: message is too long")
        chat_id = params["chat_id"]
        reply = params.get("reply_parameters") or {}
        message_id = next(self._message_ids)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat_json(chat_id),
            "from": self.bot_user,
            "text": plain,
        }
        if entities:
            message["entities"] = entities
        markup = params.get("reply_markup")
        if markup:
            message["reply_markup"] = markup
        with self._changed:
            self._state.messages[(chat_id, message_id)] = message
            replied = reply.get("message_id")
            sent = Sent(message_id, chat_id, text, parse_mode, plain, entities, replied, time.monotonic(), markup)
            self._state.sent.append(sent)
            self._state.current[(chat_id, message_id)] = sent
            self._changed.notify_all()
        return message

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        if complaint := check_keyboard(params.get("reply_markup")):
            raise _ApiError(400, complaint)
        parse_mode, plain, entities = _parsed_text(params, "Bad Request: MESSAGE_TOO_LONG")
        # Telegram drops an inline keyboard that the edit does not send again.
        return self._edit(params, str(params.get("text", "")), parse_mode, plain, entities)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        if complaint := check_keyboard(params.get("reply_markup")):
            raise _ApiError(400, complaint)
        with self._changed:
            before = self._editable(params)
        return self._edit(params, before.text, before.parse_mode, before.plain, before.entities)

    def _editable(self, params: dict[str, Any]) -> Sent:
        """The bot's message an edit names (call with the lock held), or the error Telegram gives."""
        if "inline_message_id" in params:
            raise _ApiError(400, "Bad Request: inline messages are not supported by this fake")
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if not isinstance(chat_id, int) or not isinstance(message_id, int):
            raise _ApiError(400, "Bad Request: message to edit not found")
        message = self._state.messages.get((chat_id, message_id))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return self._state.current[(chat_id, message_id)]

    def _edit(
        self, params: dict[str, Any], text: str, parse_mode: str | None, plain: str, entities: list[dict[str, Any]]
    ) -> dict[str, Any]:
        markup = params.get("reply_markup") or None
        if markup is not None and not markup.get("inline_keyboard"):
            markup = None  # an empty keyboard is no keyboard
        with self._changed:
            before = self._editable(params)
            if (before.plain, before.entities, before.reply_markup) == (plain, entities, markup):
                raise _ApiError(400, NOT_MODIFIED)
            edited = Sent(
                before.message_id,
                before.chat_id,
                text,
                parse_mode,
                plain,
                entities,
                before.reply_to,
                time.monotonic(),
                markup,
            )
            message = dict(
                self._state.messages[(before.chat_id, before.message_id)], text=plain, edit_date=int(time.time())
            )
            message.pop("entities", None)
            message.pop("reply_markup", None)
            if entities:
                message["entities"] = entities
            if markup:
                message["reply_markup"] = markup
            self._state.messages[(before.chat_id, before.message_id)] = message
            self._state.current[(before.chat_id, before.message_id)] = edited
            self._state.edits.append(edited)
            self._changed.notify_all()
        return message


def _parsed_text(params: dict[str, Any], too_long: str) -> tuple[str | None, str, list[dict[str, Any]]]:
    """(parse mode, visible text, entities) of a message's text, checked as Telegram does."""
    text = str(params.get("text", ""))
    parse_mode = params.get("parse_mode") or None
    plain = text
    entities: list[dict[str, Any]] = []
    if parse_mode is not None and parse_mode.upper() == "HTML":
        try:
            plain, entities = parse_html(text)
        except ParseError as exc:
            raise _ApiError(400, f"Bad Request: {exc}".replace("Bad Request: C", "Bad Request: c", 1)) from exc
    elif parse_mode is not None:
        raise _ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r} in this fake")
    if not plain.strip():
        raise _ApiError(400, "Bad Request: message text is empty")
    if utf16_length(plain) > MESSAGE_LIMIT:
        raise _ApiError(400, too_long)
    return parse_mode, plain, entities


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def _error(status: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": status, "description": description}
