"""Start-up checks shared by ``run``, ``chat`` and ``doctor``: each failure becomes one clear line.

A newcomer who mistypes a setting should read what to fix, not a traceback; so every step here
raises :class:`StartupError` with a message that names the setting or file at fault.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError

from bot.core.config import Settings, mask_url
from bot.core.services import Services
from db.engine import Database
from db.migrate import current_revision, upgrade_database
from knowledge.engine import Matcher
from knowledge.loader import KnowledgeBase, KnowledgeError, load_knowledge_base

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Something the bot needs is not ready; ``str()`` is the one line to print."""


def describe_db_error(exc: BaseException) -> str:
    """A short, password-free reason a database could not be used."""
    reason = getattr(exc, "orig", None) or exc
    text = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
    return text[:200]


async def open_database(settings: Settings, *, migrate: bool = True, timeout: float = 15.0) -> Database:
    """Open the database and apply the migrations, or raise StartupError naming DATABASE_URL."""
    database: Database | None = None
    try:
        database = Database(settings.database_url)
        if migrate:
            database.created_empty = not database.existed or await asyncio.wait_for(
                current_revision(database), timeout) is None
            await asyncio.wait_for(upgrade_database(database), timeout)
        else:
            async with database.engine.connect():
                pass
    except (SQLAlchemyError, OSError, TimeoutError, ConnectionError, ValueError) as exc:
        if database is not None:
            await database.dispose()
        where = mask_url(settings.database_url)
        reason = "no answer in time" if isinstance(exc, TimeoutError) else describe_db_error(exc)
        raise StartupError(f"Setting DATABASE_URL: cannot open the database at {where}: {reason}") from None
    return database


def new_database_notice(settings: Settings) -> str:
    """What ``run`` says when it starts on a database with nothing in it (first run, or data gone)."""
    return (f"Created a new, empty database at {mask_url(settings.database_url)}. If this bot has run before, "
            "its data is not there: stop it and check DATABASE_URL (and the file) before people use it.")


def load_kb(settings: Settings | None = None) -> KnowledgeBase:
    """Load the knowledge base (from KNOWLEDGE_DIR when set), or raise StartupError naming the broken file."""
    try:
        if settings is None:
            return load_knowledge_base()
        return load_knowledge_base(settings.themes_dir, settings.templates_dir)
    except KnowledgeError as exc:
        raise StartupError(f"Knowledge base: {exc}") from None


def build_matcher(kb: KnowledgeBase) -> Matcher:
    """The question matcher for ``kb``; says once in the log when it runs on words alone."""
    matcher = Matcher(kb)
    if not matcher.by_meaning:
        from knowledge.embedding import model_problem

        log.warning("Matching by meaning is off (%s): answering on words alone, which understands fewer "
                    "ways of asking.", model_problem() or "no model")
    return matcher


def reload_knowledge(services: Services) -> KnowledgeBase:
    """Load the knowledge base again and swap it into running ``services`` (/reload and the console).

    Raises StartupError, keeping the current knowledge base, when the files on disk have a problem."""
    kb = load_kb(services.settings)
    services.kb, services.matcher = kb, build_matcher(kb)
    return kb


async def prepare(settings: Settings) -> Services:
    """Everything a running bot needs, checked in the order a person would fix it."""
    kb = load_kb(settings)
    database = await open_database(settings)
    return Services(settings=settings, database=database, kb=kb, matcher=build_matcher(kb))


class _NoRetryTracebacks(logging.Filter):
    """python-telegram-bot logs a full traceback when Telegram cannot be reached at start; the runner
    already prints one clear line for that, so keep the message and drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Network Retry Loop"):
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("telegram.ext").addFilter(_NoRetryTracebacks())
    # httpx logs every request URL, and the URL holds the bot token: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
