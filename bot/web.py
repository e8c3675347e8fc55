"""The bot's HTTP server on SANAD_LISTEN: a small Starlette app served by uvicorn, in the bot's
own event loop (as in PTB's custom-webhook example).

    POST <path of TELEGRAM_WEBHOOK_URL>   updates from Telegram (webhook mode only, `webhook.py`)
    GET  /healthz                         200 or 503, JSON: index loaded? database reachable?
    GET  /metrics                         Prometheus text format (`metrics.py`)

The runner owns the signals (PTB's `run_polling`, or `run_webhook`), not uvicorn; the socket is
bound before anything else starts, so a taken port fails at once, naming SANAD_LISTEN.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .context import SanadApplication
from .health import check_health
from .metrics import CONTENT_TYPE, WebhookOutcome
from .settings import BotSettingsError, Listen

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1_000_000  # an update is a few kilobytes; anything larger is not Telegram's
GRACEFUL_STOP_SECONDS = 30  # on stop, requests in flight (updates being answered) get this long


class Reply(Protocol):
    """What the webhook answers a delivery: an HTTP status and a short text."""

    @property
    def status(self) -> int: ...

    @property
    def text(self) -> str: ...


class Receiver(Protocol):
    """The webhook endpoint, as the web app serves it (`webhook.WebhookEndpoint`)."""

    @property
    def path(self) -> str: ...

    def authorized(self, secret: str | None) -> bool:
        """True if the delivery carries the webhook's secret."""
        ...

    async def receive(self, body: bytes) -> Reply:
        """Handle one authorized delivery; its reply."""
        ...


def web_app(application: SanadApplication, webhook: Receiver | None = None) -> Starlette:
    """The routes: /healthz, /metrics, and the webhook's path when there is one."""
    data = application.bot_data

    async def healthz(request: Request) -> Response:
        health = await check_health(data, started=application.running)
        return JSONResponse(health.body(), status_code=health.status_code)

    async def metrics(request: Request) -> Response:
        return Response(data.metrics.exposition(), media_type=CONTENT_TYPE)

    routes = [Route("/healthz", healthz, methods=["GET"]), Route("/metrics", metrics, methods=["GET"])]
    if webhook is not None:
        routes.append(Route(webhook.path, _webhook_route(webhook, data.metrics.delivered), methods=["POST"]))
    return Starlette(routes=routes)


def _webhook_route(
    webhook: Receiver, count: Callable[[WebhookOutcome], None]
) -> Callable[[Request], Awaitable[Response]]:
    async def deliver(request: Request) -> Response:
        if not webhook.authorized(request.headers.get(SECRET_HEADER)):  # before reading any body
            count("refused")
            return PlainTextResponse("wrong or missing secret token", status_code=403)
        if int(request.headers.get("content-length") or 0) > MAX_UPDATE_BYTES:
            count("refused")
            return PlainTextResponse("too large for an update", status_code=413)
        reply = await webhook.receive(await request.body())
        return PlainTextResponse(reply.text, status_code=reply.status)

    return deliver


class _Server(uvicorn.Server):
    """uvicorn, leaving the signals to the bot's runner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """The app served on `listen` from the running event loop: `await start()`, `await stop()`."""

    def __init__(self, app: Starlette, listen: Listen) -> None:
        self.listen = listen
        config = uvicorn.Config(
            app,
            log_config=None,  # the bot's logging (redacted) stays as it is
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind SANAD_LISTEN (BotSettingsError if it cannot be), then serve until `stop()`."""
        sock = _bind(self.listen)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="sanad-web")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError(f"the HTTP server on {self.listen} stopped while starting")
            await asyncio.sleep(0.01)
        logger.info("Listening on http://%s (/healthz, /metrics)", self.listen)

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish, and close."""
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


def _bind(listen: Listen) -> socket.socket:
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    try:
        return socket.create_server((listen.host, listen.port), family=family)
    except OSError as exc:
        raise BotSettingsError(
            f"cannot listen on SANAD_LISTEN={listen} ({exc.strerror or exc}); choose another host:port, "
            "or stop what listens there"
        ) from exc
