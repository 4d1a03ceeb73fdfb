"""Watching the database while the bot runs: when its SQLite file is deleted or replaced, the admins hear
about it at once (the bot already refuses to save anything, see :class:`db.engine.DatabaseVanished`);
and handled updates are cleared from the inbox after a day."""

from __future__ import annotations

import logging

from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, ContextTypes

from bot.core.inbox import INBOX_KEY, purge_handled
from bot.core.services import services
from bot.core.storage import job_guard

log = logging.getLogger(__name__)

COMMANDS: list = []  # type: ignore[type-arg]
CHECK_EVERY_SECONDS = 15
TOLD_KEY = "database_problem_told"


def admin_notice(problem: str) -> str:
    return (f"⚠️ <b>Database problem</b>: {problem}. I'm refusing to save anything, so nothing is acknowledged "
            "that would be lost. Restore the file (or fix DATABASE_URL) and restart me; `partnerbot doctor` "
            "checks it.")


async def check_database(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    problem = svc.database.problem
    if problem is None or context.application.bot_data.get(TOLD_KEY):
        return
    context.application.bot_data[TOLD_KEY] = True
    for admin_id in sorted(svc.settings.admin_ids):
        try:
            await context.bot.send_message(admin_id, admin_notice(problem))
        except (Forbidden, BadRequest) as exc:
            log.warning("Could not tell an admin about the database (%s)", type(exc).__name__)


@job_guard("Inbox clearing")
async def purge_inbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handled updates (their ids only) are kept a day to drop repeat deliveries, then deleted."""
    if context.application.bot_data.get(INBOX_KEY) is None:  # the bot does not record updates
        return
    svc = services(context)
    async with svc.database.transaction() as session:
        await purge_handled(session=session, now=svc.clock())


def register(application: Application) -> None:  # type: ignore[type-arg]
    if application.job_queue is not None:
        application.job_queue.run_repeating(purge_inbox, interval=3600, first=60, name="inbox-purge")
        application.job_queue.run_repeating(check_database, interval=CHECK_EVERY_SECONDS, first=5,
                                            name="database-health")
