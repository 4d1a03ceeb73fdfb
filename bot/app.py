"""Building the python-telegram-bot Application: the one place where the bot is put together.

``partnerbot run`` (Telegram), ``partnerbot chat`` (the terminal) and the tests all call
:func:`build_application`; only the transport differs, so what works locally works on Telegram.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from types import ModuleType
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.admin import handlers as admin
from bot.console import handlers as console
from bot.core import basics, buttons, health, throttle
from bot.core.errors import on_error
from bot.core.forms import conversation as forms
from bot.core.inbox import INBOX_KEY, Inbox
from bot.core.persistence import DatabasePersistence
from bot.core.services import SERVICES_KEY, Services
from bot.core.telegram_bot import PartnerBot
from bot.core.update_processor import PerPersonUpdateProcessor
from bot.mentoring import handlers as mentoring
from bot.panel import handlers as panel
from bot.privacy import handlers as privacy
from bot.questions.handlers import ask as questions
from bot.questions.handlers import inline, topics
from bot.questions.handlers import jobs as question_jobs
from bot.reviews import handlers as reviews

log = logging.getLogger(__name__)

#: A well-formed token for the terminal chat, where no Telegram account is involved.
LOCAL_TOKEN = "1000000001:LOCAL_terminal_chat_needs_no_real_token"

#: How many updates are handled at once (PTB processes them one by one by default).
CONCURRENT_UPDATES = 32
HTTP_CONNECTIONS = 16

#: Conversation modules in the order their handlers are tried; each has COMMANDS and register().
HANDLER_MODULES: tuple[ModuleType, ...] = (
    throttle, buttons, health, basics, topics, mentoring, reviews, privacy, admin, console, panel, questions,
    inline, question_jobs)


def bot_commands(modules: Iterable[ModuleType] = HANDLER_MODULES) -> list[BotCommand]:
    """The command menu: every module's public commands, in module order."""
    return [command for module in modules for command in getattr(module, "COMMANDS", [])]


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    inbox: Inbox | None = application.bot_data.get(INBOX_KEY)
    if inbox is not None:  # updates fetched before a crash and never handled: handled now, oldest first
        try:
            waiting = await inbox.unhandled()
        except SQLAlchemyError as exc:
            log.warning("Could not read the inbox (%s): updates from before the restart wait", type(exc).__name__)
            waiting = []
        for payload in waiting:
            update = Update.de_json(payload, application.bot)
            if update is not None:
                await application.update_queue.put(update)
        if waiting:
            log.warning("Handling %d update(s) received before the last stop but never handled", len(waiting))
    commands = application.bot_data["commands"]
    await application.bot.set_my_commands(commands)
    log.info("Bot @%s ready with %d commands", application.bot.username, len(commands))


async def _post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    database = application.bot_data[SERVICES_KEY].database
    tally = application.bot_data.get(question_jobs.TALLY_KEY)
    if tally is not None:  # the questions counted since the last save: a clean stop loses none
        await question_jobs.flush_tally(tally, database)
    await database.dispose()


def _handled(application: Application, inbox: Inbox) -> Callable[[object], Awaitable[None]]:  # type: ignore[type-arg]
    """After an update's handlers ran: save the conversation state it changed, then mark it handled, so a
    crash in between replays it rather than losing the state."""

    async def mark(update: object) -> None:
        if isinstance(update, Update) and not throttle.is_waiting(application, update.update_id):
            await application.update_persistence()
            await inbox.mark_handled(update.update_id)

    return mark


def build_application(services: Services, *, request: BaseRequest | None = None, rate_limiter: bool = True,
                      record_updates: bool = True) -> Application:  # type: ignore[type-arg]
    """Assemble the bot: defaults, transport, handlers, error handler and shared services."""
    settings = services.settings
    inbox = Inbox(services.database) if record_updates else None
    if request is None:
        # A few kept-alive connections serve ~30 messages/s; httpcore's pool scans every connection for
        # each request, so hundreds of them cost more than they give.
        request = HTTPXRequest(connection_pool_size=HTTP_CONNECTIONS, pool_timeout=30.0)
        updates_request: BaseRequest = HTTPXRequest()
    else:
        updates_request = request
    base = settings.telegram_api_base_url
    processor = PerPersonUpdateProcessor(CONCURRENT_UPDATES)
    telegram_bot = PartnerBot(
        settings.token or LOCAL_TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
        request=request, get_updates_request=updates_request,
        defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz),
        rate_limiter=AIORateLimiter(max_retries=3) if rate_limiter else None, inbox=inbox)
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .bot(telegram_bot)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .persistence(DatabasePersistence(services.database))
        # Different people's updates are handled side by side (a slow database write for one person must
        # not hold up everyone else's answers); each person's own updates stay in order.
        .concurrent_updates(processor)
    )
    application = builder.build()
    if inbox is not None:
        application.bot_data[INBOX_KEY] = inbox
        processor.after_handled = _handled(application, inbox)
    application.bot_data[SERVICES_KEY] = services
    application.bot_data["commands"] = bot_commands()
    forms.register(application)  # ends forms left too long, before any feature sees the update
    for module in HANDLER_MODULES:
        module.register(application)
    forms.register_late(application)  # /cancel, Cancel and Back when no form is open
    application.add_error_handler(on_error)
    return application
