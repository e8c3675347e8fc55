"""Webhook mode: Telegram POSTs each update to TELEGRAM_WEBHOOK_URL, and the bot handles it
before it answers, so the HTTP status tells Telegram whether to deliver it again.

One delivery:
1. the secret header is compared with TELEGRAM_WEBHOOK_SECRET in constant time: wrong or
   missing, 403 and nothing else is read (`web.py`);
2. the body becomes an `Update` (400 if it is none); a bot not started yet answers 503;
3. the update is claimed in the database by its `update_id`: `done` (handled before, here or
   on another replica), 200 without handling it again; `busy` (a live replica handles it right
   now, maybe this one), 503; the database unreachable, 503 — Telegram keeps it and retries;
4. it is handled through the application's update processor (its concurrency limit), awaited;
   if a handler raised (the error handler saw it), the claim is released and the answer is
   500, so Telegram retries it, on whichever replica the proxy picks; after `MAX_ATTEMPTS`
   the update is given up (logged, 200), so one poisonous update is not retried for a day;
5. the claim is recorded done, 200.

A replica killed mid-update loses its database session, and with it its claim (see
`embeddings/store/postgres.py`): Telegram's retry is handled by another replica at once.
What is not exactly once: a replica killed between sending an answer and recording it done
(a few milliseconds) has that update answered again by the retry.

`setWebhook` is called by one replica only, the one holding the "set-webhook" lead in the
database (with the embedded SQLite store there is one process, which does); nobody calls
deleteWebhook on stop, since the other replicas still serve it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Update

from embeddings import ChatStore, UpdateClaim

from .context import SanadApplication, SanadContext
from .metrics import WebhookOutcome
from .settings import BotSettings, Webhook
from .web import WebServer, web_app

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # handling that failed this often is given up
LEAD_ROLE = "set-webhook"


@dataclass(frozen=True)
class Reply:
    """The answer to one delivery."""

    status: int
    outcome: WebhookOutcome
    text: str


class WebhookEndpoint:
    """Receives the updates Telegram delivers, each handled at most once across replicas.
    It adds an error handler to the application: that is how it learns a handler raised."""

    def __init__(self, application: SanadApplication, webhook: Webhook) -> None:
        self._application = application
        self._secret = webhook.secret.encode()
        self.path = webhook.path
        self._in_flight: set[int] = set()  # update ids this process handles right now
        self._failed: set[int] = set()  # ... of those, the ones a handler raised for
        application.add_error_handler(self._note_failure)

    def authorized(self, secret: str | None) -> bool:
        """True if the delivery carries the webhook's secret (compared in constant time)."""
        return hmac.compare_digest((secret or "").encode(), self._secret)

    async def receive(self, body: bytes) -> Reply:
        """Handle one authorized delivery and say what Telegram should hear."""
        reply = await self._receive(body)
        self._application.bot_data.metrics.delivered(reply.outcome)
        return reply

    async def _receive(self, body: bytes) -> Reply:
        update = self._parse(body)
        if update is None:
            return Reply(400, "refused", "not a Telegram update")
        chats = self._application.bot_data.chats
        if not self._application.running or chats is None:
            return Reply(503, "unavailable", "starting")
        if update.update_id in self._in_flight:  # Telegram gave up waiting and sent it again
            return Reply(503, "busy", "being handled")
        self._in_flight.add(update.update_id)
        try:
            return await self._claim_and_handle(update, chats.store)
        finally:
            self._in_flight.discard(update.update_id)

    async def _claim_and_handle(self, update: Update, store: ChatStore) -> Reply:
        try:
            claim: UpdateClaim = await asyncio.to_thread(store.claim_update, update.update_id)
        except Exception as exc:  # noqa: BLE001 - whatever the database raised, Telegram keeps the update
            logger.warning("Could not claim update %s (database): %s; Telegram will retry it", update.update_id, exc)
            return Reply(503, "unavailable", "database unavailable")
        if claim.state == "done":
            return Reply(200, "duplicate", "handled before")
        if claim.state == "busy":
            return Reply(503, "busy", "another replica handles it")
        if await self._handle(update):
            await _finish(store, update.update_id, done=True)
            return Reply(200, "handled", "ok")
        if claim.attempt >= MAX_ATTEMPTS:
            logger.error("Gave up on update %s after %d failed attempts", update.update_id, claim.attempt)
            await _finish(store, update.update_id, done=True)
            return Reply(200, "gave_up", "given up")
        await _finish(store, update.update_id, done=False)
        return Reply(500, "failed", "handling failed; retry")

    async def _handle(self, update: Update) -> bool:
        """Process the update as the application would, awaited; True if no handler raised."""
        application = self._application
        await application.update_processor.process_update(update, application.process_update(update))
        failed = update.update_id in self._failed
        self._failed.discard(update.update_id)
        return not failed

    async def _note_failure(self, update: object, context: SanadContext) -> None:
        """Error handler: remember that handling this update raised."""
        if isinstance(update, Update) and update.update_id in self._in_flight:
            self._failed.add(update.update_id)

    def _parse(self, body: bytes) -> Update | None:
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                return None
            return Update.de_json(data, self._application.bot)
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("A webhook delivery with the right secret is not an update: %s", exc)
            return None


async def _finish(store: ChatStore, update_id: int, *, done: bool) -> None:
    try:
        await asyncio.to_thread(store.finish_update, update_id, done=done)
    except Exception as exc:  # noqa: BLE001 - the answer was sent (or not) already; say so and go on
        logger.warning("Could not record update %s as %s: %s", update_id, "done" if done else "failed", exc)


async def set_webhook(application: SanadApplication, webhook: Webhook, allowed_updates: Sequence[str]) -> bool:
    """Tell Telegram where to deliver updates, if this replica leads "set-webhook"; True if it did."""
    chats = application.bot_data.chats
    if chats is None:
        raise RuntimeError("set_webhook runs after post_init, which opens the chats' store")
    if not await asyncio.to_thread(chats.store.try_lead, LEAD_ROLE):
        logger.info("Another replica sets the webhook; this one serves it")
        return False
    await application.bot.set_webhook(
        webhook.url, secret_token=webhook.secret, allowed_updates=list(allowed_updates), drop_pending_updates=False
    )
    logger.info("Webhook set: Telegram delivers updates to %s", webhook.url)
    return True


def run_webhook(
    application: SanadApplication,
    settings: BotSettings,
    allowed_updates: Sequence[str],
    stop_signals: Sequence[int] | None,
) -> None:
    """Listen on SANAD_LISTEN, open the library, set the webhook (one replica), then serve until
    a stop signal or `application.stop_running()`; requests in flight finish before the bot stops."""
    webhook, listen = settings.webhook, settings.listen
    if webhook is None or listen is None:
        raise ValueError("run_webhook needs settings with a webhook and an address to listen on")
    server = WebServer(web_app(application, WebhookEndpoint(application, webhook)), listen)
    loop = _event_loop()
    for sig in stop_signals or ():
        loop.add_signal_handler(sig, loop.stop)
    try:
        loop.run_until_complete(server.start())  # /healthz says 503 while the rest starts
        loop.run_until_complete(application.initialize())
        if application.post_init:
            loop.run_until_complete(application.post_init(application))
        loop.run_until_complete(set_webhook(application, webhook, allowed_updates))
        loop.run_until_complete(application.start())
        logger.info("Serving the webhook at %s on %s", webhook.path, listen)
        loop.run_forever()  # until a signal, or stop_running(), stops the loop
    finally:
        loop.run_until_complete(server.stop())
        if application.running:
            loop.run_until_complete(application.stop())
            if application.post_stop:
                loop.run_until_complete(application.post_stop(application))
        loop.run_until_complete(application.shutdown())
        if application.post_shutdown:
            loop.run_until_complete(application.post_shutdown(application))
        loop.close()


def _event_loop() -> asyncio.AbstractEventLoop:
    """The thread's event loop (a new one if it has none), as PTB's run_polling takes it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: no current loop
            return asyncio.get_event_loop()
    except RuntimeError:  # 3.14+: no current loop
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        return loop
