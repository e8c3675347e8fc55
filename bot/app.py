"""The Telegram application: settings in, handlers wired, library and engine opened before
polling, or before serving the webhook (`webhook.py`) when TELEGRAM_WEBHOOK_URL is set."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from embeddings import (
    ChatCollections,
    FetchPolicy,
    IndexedLibrary,
    SanadError,
    Settings,
    new_async_client,
    prepare_process,
    read_environment,
)

from . import adding, handlers, inline, messages, sources
from .context import BotData, SanadApplication, SanadContext
from .rate_limit import AnswersFirstRateLimiter
from .redact import configure_logging
from .settings import BotSettings
from .talk import ACTION_PREFIX
from .web import WebServer, web_app
from .webhook import run_webhook

logger = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS = 30  # long-poll: Telegram holds getUpdates open until an update or this
RATE_LIMIT_RETRIES = 3  # resend after a 429, waiting the retry_after Telegram asks for
BOOTSTRAP_RETRIES = 3  # getMe / deleteWebhook attempts at start before giving up
DEFAULT_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)
# Edits and the rest: not asked for, not needed. Inline queries come once inline mode is on (/setinline).
UPDATE_TYPES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY)

LibraryOpener = Callable[[], IndexedLibrary]
ChatsOpener = Callable[[IndexedLibrary], ChatCollections]
# Engine threads, with batching on: a question holds one from its chat's state to its answer,
# and the questions on them at the same moment are embedded in batches of SANAD_QUERY_BATCH
# (embeddings/batching.py), one after the other; so enough for a wave of 30 chats (Telegram's
# 30 messages a second), more than a batch holds.
ENGINE_THREADS = 32
DEFAULT_WORKERS = ENGINE_THREADS
# Connections to the Bot API. httpcore's pool walks every connection for each idle one on every
# request and every response (O(n^2)): with PTB's default of 256 a wave of 30 chats opened ~60,
# and that walk was a quarter of the event loop's CPU. 8 carry Telegram's 30 messages a second
# and the "typing" beside them up to ~250 ms a round trip; a request beyond them waits for one
# (up to POOL_TIMEOUT_SECONDS, not PTB's 1 s, so a burst waits rather than fails).
BOT_API_CONNECTIONS = 8
POOL_TIMEOUT_SECONDS = 30.0


def engine_threads(query_batch: int) -> int:
    """The engine threads for a batch cap (SANAD_QUERY_BATCH): ENGINE_THREADS with batching on,
    so that more questions than a batch holds wait for the model together; 1 (one a core) off."""
    return ENGINE_THREADS if query_batch > 1 else 1


def build_application(
    settings: BotSettings,
    open_library: LibraryOpener,
    open_chats: ChatsOpener,
    fetch_policy: FetchPolicy | None = None,
    workers: int = DEFAULT_WORKERS,
) -> SanadApplication:
    """The bot, wired but not started; `open_library`, then `open_chats` (the chats' own
    collections beside that library) run in post_init, before polling. `fetch_policy` limits
    the pages it fetches (default: public addresses only); engine work runs on `workers`
    threads (at least 2). In polling mode with SANAD_LISTEN,
    /healthz and /metrics are served there from post_init on (webhook mode serves its own)."""
    ops: list[WebServer] = []

    async def post_init(application: SanadApplication) -> None:
        if settings.listen is not None and settings.webhook is None:
            ops.append(WebServer(web_app(application), settings.listen))
            await ops[0].start()
        await _open_resources(application, open_library, open_chats, workers)

    async def post_shutdown(application: SanadApplication) -> None:
        while ops:
            await ops.pop().stop()
        await _close_resources(application)

    application = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,
            )
        )
        .context_types(ContextTypes(context=SanadContext, bot_data=BotData))
        .concurrent_updates(True)
        .connection_pool_size(BOT_API_CONNECTIONS)
        .pool_timeout(POOL_TIMEOUT_SECONDS)
        .rate_limiter(AnswersFirstRateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    data: BotData = application.bot_data
    data.admin_user_ids = settings.admin_user_ids
    data.fetch_policy = fetch_policy or FetchPolicy()
    data.typing_after = settings.typing_after
    _add_handlers(application)
    return application


def _add_handlers(application: SanadApplication) -> None:
    new = filters.UpdateType.MESSAGE  # edited messages are left alone
    application.add_handler(CommandHandler(["start", "help"], handlers.show_help, filters=new))
    application.add_handler(CommandHandler("sources", sources.list_sources, filters=new))
    application.add_handler(CommandHandler("ask", handlers.ask_command, filters=new))
    application.add_handler(CommandHandler("add", adding.add_url, filters=new))
    application.add_handler(CommandHandler("share", adding.share_article, filters=new))
    application.add_handler(CommandHandler("forget", sources.forget_article, filters=new))
    application.add_handler(CommandHandler("remove", handlers.remove_article, filters=new))
    application.add_handler(MessageHandler(new & filters.Document.ALL, adding.add_document))  # before captions
    written = filters.TEXT | filters.CAPTION
    application.add_handler(MessageHandler(new & written & ~filters.COMMAND, handlers.answer_message))
    application.add_handler(MessageHandler(new & filters.COMMAND & filters.ChatType.PRIVATE, handlers.unknown_command))
    not_written = ~filters.TEXT & ~filters.CAPTION & ~filters.StatusUpdate.ALL
    application.add_handler(MessageHandler(new & not_written, handlers.explain_text_only))
    application.add_handler(CallbackQueryHandler(sources.press_button, pattern=f"^{ACTION_PREFIX}"))
    application.add_handler(CallbackQueryHandler(handlers.dismiss_callback))
    application.add_handler(InlineQueryHandler(inline.answer_inline))  # the shared library only
    application.add_error_handler(handlers.report_error)
    application.add_error_handler(_count_error)


async def _count_error(update: object, context: SanadContext) -> None:
    """Count a failed update in the metrics (report_error has logged it and told the user)."""
    context.bot_data.metrics.failed()


async def _open_resources(
    application: SanadApplication, open_library: LibraryOpener, open_chats: ChatsOpener, workers: int
) -> None:
    data: BotData = application.bot_data
    # The engine is thread-safe and its work is mostly the model's, which releases the GIL.
    # With batching on, ENGINE_THREADS; with it off (workers 1), one per core keeps every
    # core busy without making questions queue behind each other.
    workers = max(2, workers if workers > 1 else os.cpu_count() or 2)
    data.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sanad-ask")
    data.http = new_async_client()
    logger.info("Loading the model and the index (this takes a few seconds)")
    loop = asyncio.get_running_loop()
    data.library = await loop.run_in_executor(data.executor, open_library)
    data.library.start_sync()  # with PostgreSQL: follow the other replicas' library changes
    data.chats = await loop.run_in_executor(data.executor, open_chats, data.library)
    await _register_commands(application)
    logger.info("Ready: %d article(s) indexed, as @%s", len(data.library.articles), application.bot.username)


async def _register_commands(application: SanadApplication) -> None:
    commands = [BotCommand(name, description) for name, description in messages.COMMANDS]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as exc:  # the menu is a convenience; the commands work without it
        logger.warning("Could not register the command menu (setMyCommands): %s", exc)


async def _close_resources(application: SanadApplication) -> None:
    data: BotData = application.bot_data
    if data.http is not None:
        await data.http.aclose()
    if data.executor is not None:
        data.executor.shutdown(wait=False, cancel_futures=True)
    if data.chats is not None:
        data.chats.close()
    if data.library is not None:
        await asyncio.to_thread(data.library.close)  # stops following (joins its thread)
    data.library, data.chats, data.executor, data.http = None, None, None, None


def run(
    application: SanadApplication, settings: BotSettings, stop_signals: Sequence[int] | None = DEFAULT_STOP_SIGNALS
) -> None:
    """Serve the webhook when the settings give one, else long-poll; until a stop signal."""
    if settings.webhook is not None:
        run_webhook(application, settings, UPDATE_TYPES, stop_signals)
    else:
        run_polling(application, stop_signals)


def run_polling(application: SanadApplication, stop_signals: Sequence[int] | None = DEFAULT_STOP_SIGNALS) -> None:
    """Initialise, open the library, then long-poll until a stop signal (None: only `stop_running`)."""
    application.run_polling(
        poll_interval=0,
        timeout=POLL_TIMEOUT_SECONDS,
        bootstrap_retries=BOOTSTRAP_RETRIES,
        allowed_updates=UPDATE_TYPES,
        stop_signals=stop_signals,
    )


def _read_settings() -> tuple[BotSettings, Settings]:
    """Both settings objects; raises SanadError naming every problem found in either."""
    env = read_environment()
    problems: list[str] = []
    bot_settings = core_settings = None
    try:
        bot_settings = BotSettings.from_env(env)
    except SanadError as exc:
        problems.append(str(exc))
    try:
        core_settings = Settings.from_env(env)
    except SanadError as exc:
        problems.append(str(exc))
    if bot_settings is None or core_settings is None:
        raise SanadError("\n".join(problems))
    return bot_settings, core_settings


def main() -> int:
    """Run the bot until stopped; the exit code says how it ended (2: fix the settings)."""
    try:
        bot_settings, core_settings = _read_settings()
    except SanadError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(secrets=[*bot_settings.secrets(), *core_settings.secrets()])
    prepare_process()
    core_settings = replace(core_settings, encoder_threads=core_settings.server_encoder_threads)
    fetch_policy = core_settings.fetch_policy()
    open_library = partial(IndexedLibrary.open, core_settings, log=logger.info)
    open_chats = partial(ChatCollections.open, core_settings)
    workers = engine_threads(core_settings.query_batch)
    application = build_application(bot_settings, open_library, open_chats, fetch_policy, workers)
    try:
        run(application, bot_settings)
    except InvalidToken:
        logger.error("Telegram refused TELEGRAM_BOT_TOKEN; copy the token again from @BotFather into .env")
        return 2
    except SanadError as exc:
        logger.error("%s", exc)
        return 1
    except TelegramError as exc:
        logger.error("Cannot reach the Bot API at %s: %s", bot_settings.api_base_url, exc)
        return 1
    except Exception:
        logger.exception("The bot stopped on an unexpected error")  # through the redacting handler
        return 1
    return 0
