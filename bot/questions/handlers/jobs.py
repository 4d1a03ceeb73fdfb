"""The question feature's scheduled work: the 30-day retention of unanswered questions (the rule is in
``bot/questions/retention.py``), and saving the tally of questions a day (``bot/questions/usage.py``).
Each run is one transaction."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram.ext import Application, ContextTypes

from bot.core.services import services
from bot.core.storage import job_guard
from bot.questions.retention import forget_old_identities
from bot.questions.usage import QuestionTally, add_counts
from db.engine import Database

log = logging.getLogger(__name__)


@job_guard("Retention job")
async def retention(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: logged questions lose the asker's identity after 30 days (see /privacy)."""
    svc = services(context)
    async with svc.database.transaction() as session:
        count = await forget_old_identities(session=session, now=svc.clock())
    if count:
        log.info("Retention: %d old question(s) made anonymous", count)


TALLY_KEY = "question_tally"
TALLY_EVERY_SECONDS = 60


def question_tally(context: ContextTypes.DEFAULT_TYPE) -> QuestionTally:
    """This process's tally of questions by outcome (created on first use)."""
    return context.application.bot_data.setdefault(TALLY_KEY, QuestionTally())


async def flush_tally(tally: QuestionTally, database: Database) -> int:
    """Add the tally to ``question_day`` in one transaction; returns how many questions were written.

    When the database fails, nothing is written and the counts go back into the tally for the next save
    (so this never raises: a lost minute of counts is not worth a traceback)."""
    taken = tally.take()
    if not taken:
        return 0
    try:
        async with database.transaction() as session:
            await add_counts(session=session, counts=taken)
    except (SQLAlchemyError, OSError) as exc:  # not the job guard: the counts must go back into the tally
        tally.put_back(taken)
        log.warning("Usage counts not saved yet (%s); will retry", type(exc).__name__)
        return 0
    return sum(taken.values())


async def save_tally(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: add the questions counted since the last run to the database (kept for the next run on failure)."""
    await flush_tally(question_tally(context), services(context).database)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.bot_data.setdefault(TALLY_KEY, QuestionTally())
    if application.job_queue is not None:
        application.job_queue.run_repeating(retention, interval=6 * 3600, first=60, name="retention")
        application.job_queue.run_repeating(save_tally, interval=TALLY_EVERY_SECONDS, first=TALLY_EVERY_SECONDS,
                                            name="question-tally")
