"""The question feature's scheduled work: the 30-day retention of unanswered questions (the rule is in
``bot/questions/retention.py``)."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.core.services import services
from bot.core.storage import job_guard
from bot.questions.retention import forget_old_identities

log = logging.getLogger(__name__)


@job_guard("Retention job")
async def retention(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: logged questions lose the asker's identity after 30 days (see /privacy)."""
    svc = services(context)
    count = await forget_old_identities(svc.database, svc.clock())
    if count:
        log.info("Retention: %d old question(s) made anonymous", count)


def register(application: Application) -> None:  # type: ignore[type-arg]
    if application.job_queue is not None:
        application.job_queue.run_repeating(retention, interval=6 * 3600, first=60, name="retention")
