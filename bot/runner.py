"""Running the bot on Telegram: long polling by default, a webhook when WEBHOOK_URL is set.

The database is opened and migrated on the same event loop that python-telegram-bot then runs on,
because async database connections belong to the loop that made them.
"""

from __future__ import annotations

import asyncio
import logging

import typer
from telegram import Update
from telegram.error import InvalidToken, NetworkError

from bot.app import build_application
from bot.core.config import Settings
from bot.core.startup import StartupError, configure_logging, new_database_notice, prepare

log = logging.getLogger(__name__)


def run_telegram(settings: Settings) -> None:
    """Start the bot and block until it is stopped (Ctrl-C or SIGTERM)."""
    configure_logging(settings.log_level)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        services = loop.run_until_complete(prepare(settings))
    except StartupError as exc:
        loop.close()
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if services.database.created_empty:
        log.warning(new_database_notice(settings))
    application = build_application(services)
    try:
        if settings.web_port is not None or settings.webhook_url:
            from bot.console.server import ConsoleSetupError, run_bot_with_console

            try:
                loop.run_until_complete(run_bot_with_console(application, services, Update.ALL_TYPES))
            except ConsoleSetupError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from None
            except KeyboardInterrupt:
                pass
        else:
            log.info("Starting in long-polling mode")
            application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    except InvalidToken:
        typer.echo("Setting TELEGRAM_BOT_TOKEN: Telegram did not accept this token "
                   "(check it with @BotFather)", err=True)
        raise typer.Exit(2) from None
    except NetworkError as exc:
        typer.echo(f"Setting TELEGRAM_API_BASE_URL: cannot reach Telegram at "
                   f"{settings.telegram_api_base_url} ({type(exc).__name__})", err=True)
        raise typer.Exit(2) from None
