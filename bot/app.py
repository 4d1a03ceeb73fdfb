"""Building the python-telegram-bot Application: the one place where the bot is put together.

``partnerbot run`` (Telegram), ``partnerbot chat`` (the terminal) and the tests all call
:func:`build_application`; only the transport differs, so what works locally works on Telegram.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.admin import handlers as admin
from bot.console import handlers as console
from bot.core import basics, buttons, throttle
from bot.core.errors import on_error
from bot.core.persistence import DatabasePersistence
from bot.core.services import SERVICES_KEY, Services
from bot.core.telegram_bot import PartnerBot, UpdateRecorder
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
    throttle, buttons, basics, topics, mentoring, reviews, privacy, admin, console, panel, questions, inline,
    question_jobs)


def bot_commands(modules: Iterable[ModuleType] = HANDLER_MODULES) -> list[BotCommand]:
    """The command menu: every module's public commands, in module order."""
    return [command for module in modules for command in getattr(module, "COMMANDS", [])]


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    commands = application.bot_data["commands"]
    await application.bot.set_my_commands(commands)
    log.info("Bot @%s ready with %d commands", application.bot.username, len(commands))


async def _post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    await application.bot_data[SERVICES_KEY].database.dispose()


def build_application(services: Services, *, request: BaseRequest | None = None, rate_limiter: bool = True,
                      inbox: UpdateRecorder | None = None) -> Application:  # type: ignore[type-arg]
    """Assemble the bot: defaults, transport, handlers, error handler and shared services."""
    settings = services.settings
    if request is None:
        # A few kept-alive connections serve ~30 messages/s; httpcore's pool scans every connection for
        # each request, so hundreds of them cost more than they give.
        request = HTTPXRequest(connection_pool_size=HTTP_CONNECTIONS, pool_timeout=30.0)
        updates_request: BaseRequest = HTTPXRequest()
    else:
        updates_request = request
    base = settings.telegram_api_base_url
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
        .concurrent_updates(PerPersonUpdateProcessor(CONCURRENT_UPDATES))
    )
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services
    application.bot_data["commands"] = bot_commands()
    for module in HANDLER_MODULES:
        module.register(application)
    application.add_error_handler(on_error)
    return application
