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

`FakeTelegram` is put together from one class per job, each in its own module:

    fake_server.py     the server, its state and lock, dispatch, injected failures and holds, getUpdates
    fake_messages.py   the users' messages and edits; sendMessage, editMessageText, editMessageReplyMarkup
    fake_files.py      documents the users send; getFile and the download route
    fake_callbacks.py  button presses; answerCallbackQuery
    fake_inline.py     inline queries; answerInlineQuery
    fake_members.py    a group's creator and administrators; getChatMember, getChatAdministrators
    fake_webhook.py    setWebhook, deleteWebhook, getWebhookInfo; what tests see of the deliveries

The HTML parsing lives in telegram_html.py, the JSON objects and records in telegram_objects.py
and the HTTP plumbing in bot_api_http.py; the names tests use from them (`Sent`, `Call`,
`parse_html`, `utf16_length`, `ParseError`) are importable from here too.
"""

from __future__ import annotations

from .fake_callbacks import CALLBACK_TEXT_LIMIT, CallbackMethods
from .fake_files import FileMethods
from .fake_inline import InlineMethods
from .fake_members import MemberMethods
from .fake_messages import NOT_MODIFIED
from .fake_server import BOT_ID, BOT_USERNAME, WaitTimeoutError
from .fake_webhook import WebhookMethods
from .inline_results import InlineAnswer
from .telegram_html import MESSAGE_LIMIT, ParseError, parse_html, utf16_length
from .telegram_objects import Call, CallbackAnswer, Hold, Sent
from .webhook_delivery import Delivery

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "CALLBACK_TEXT_LIMIT",
    "MESSAGE_LIMIT",
    "NOT_MODIFIED",
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


class FakeTelegram(FileMethods, CallbackMethods, InlineMethods, MemberMethods, WebhookMethods):
    """The fake Bot API server; use as a context manager, or `start()` / `stop()`.

    FakeTelegram(token, username=BOT_USERNAME, bot_id=BOT_ID, max_poll_seconds=1.0, *,
    webhook_connections=4): long polls are held at most `max_poll_seconds`, and at most
    `webhook_connections` deliveries to a webhook run at once."""
