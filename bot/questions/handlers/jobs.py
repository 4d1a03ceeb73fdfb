"""The question feature's scheduled work: the 30-day retention of unanswered questions (the rule is in
``bot/questions/retention.py``), and saving the tally of questions a day (``bot/questions/usage.py``)."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.core.services import services
from bot.core.storage import job_guard
from bot.questions.retention import forget_old_identities
from bot.questions.usage import QuestionTally

log = logging.getLogger(__name__)


@job_guard("Retention job")
async def retention(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: logged questions lose the asker's identity after 30 days (see /privacy)."""
    svc = services(context)
    count = await forget_old_identities(svc.database, svc.clock())
    if count:
        log.info("Retention: %d old question(s) made anonymous", count)


TALLY_KEY = "question_tally"
TALLY_EVERY_SECONDS = 60


def question_tally(context: ContextTypes.DEFAULT_TYPE) -> QuestionTally:
    """This process's tally of questions by outcome (created on first use)."""
    return context.application.bot_data.setdefault(TALLY_KEY, QuestionTally())


async def save_tally(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: add the questions counted since the last run to the database (kept for the next run on failure)."""
    await question_tally(context).flush(services(context).database)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.bot_data.setdefault(TALLY_KEY, QuestionTally())
    if application.job_queue is not None:
        application.job_queue.run_repeating(retention, interval=6 * 3600, first=60, name="retention")
        application.job_queue.run_repeating(save_tally, interval=TALLY_EVERY_SECONDS, first=TALLY_EVERY_SECONDS,
                                            name="question-tally")
