"""Helpers for the review-nudge tests: a migrated database, a recording sender, and clock control."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

import pytest
from sqlmodel import col, select

from bot.core.local_api import Sent
from bot.reviews.checkins import Summary, finish_answering, record_score, start_answering
from bot.reviews.dispatch import Claimed, Outcome
from bot.reviews.handlers.jobs import dispatch_due
from bot.reviews.partnerships import create_partnership
from bot.reviews.questions import COMMENT_STEP, QUESTIONS
from bot.reviews.schedule import Schedule
from db.engine import Database
from db.migrate import upgrade_database
from db.review_models import ReviewOccurrence
from tests.conftest import Harness

LONDON = "Europe/London"
T = TypeVar("T")


@asynccontextmanager
async def migrated(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await upgrade_database(database)
    try:
        yield database
    finally:
        await database.dispose()


async def act(database: Database, rule: Callable[..., Awaitable[T]], /, **arguments: Any) -> T:
    """Run one rule as one action of the bot runs it: in its own transaction, committed when it returns and
    rolled back when it raises."""
    async with database.transaction() as session:
        return await rule(session=session, **arguments)


@dataclass
class Recorder:
    """A sender that records each nudge and answers with a chosen outcome (default: sent)."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)  # by chat id
    sent: Counter[int] = field(default_factory=Counter)  # occurrence id -> sends
    items: list[Claimed] = field(default_factory=list)
    delay: float = 0.0

    async def __call__(self, item: Claimed) -> Outcome:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.items.append(item)
        outcome = self.outcomes.get(item.chat_id, Outcome("sent", message_id=len(self.items)))
        if outcome.kind == "sent":
            self.sent[item.occurrence_id] += 1
        return outcome


async def add_weekly(database: Database, *, chat_id: int, now: datetime, weekday: int, at: time,
                     start: date, zone: str = LONDON, name: str = "Riverside") -> int:
    partnership, _ = await act(database, create_partnership, chat_id=chat_id,
                               created_by=chat_id if chat_id > 0 else 77, name=name, partners=["A", "B"],
                               schedule=Schedule("weekly", at, zone, start, weekday=weekday), now=now)
    return partnership.id or 0


async def occurrences(database: Database, partnership_id: int) -> list[ReviewOccurrence]:
    async with database.session() as session:
        return list((await session.exec(select(ReviewOccurrence).where(
            ReviewOccurrence.partnership_id == partnership_id).order_by(col(ReviewOccurrence.id)))).all())


async def pending_due(database: Database, partnership_id: int) -> datetime:
    [row] = [o for o in await occurrences(database, partnership_id) if o.status == "pending"]
    return row.due_at


def set_clock(bot: Harness, instant: datetime) -> None:
    bot.services.clock = lambda: instant


async def run_dispatch(bot: Harness) -> None:
    """Run the every-minute job once, now, as APScheduler would."""
    [job] = bot.application.job_queue.get_jobs_by_name("review-dispatch")
    await job.run(bot.application)


def nudges_to(bot: Harness, chat_id: int) -> list[Any]:
    return [s for s in bot.fake.api.sent_to(chat_id) if s.method == "sendMessage" and "Check-in time" in s.text]


NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


SENT_AT = datetime(2027, 1, 4, 9, 1, tzinfo=UTC)


GOOD = {"purpose": "5", "roles": "4", "communication": "4", "progress": "5", "weight": "5", "value": "4",
        "stage": "flying"}


async def nudged(database: Database, chat_id: int, when: datetime = SENT_AT) -> tuple[int, int]:
    """A partnership whose first nudge has gone out: (partnership id, occurrence id)."""
    pid = await add_weekly(database, chat_id=chat_id, now=NOW, weekday=0, at=time(9), start=date(2027, 1, 1))
    await dispatch_due(database, when, Recorder())
    sent = [o for o in await occurrences(database, pid) if o.status == "sent"]
    return pid, sent[-1].id or 0


async def answer_all(database: Database, occurrence_id: int, *, chat_id: int, user_id: int,
                     values: dict[str, str], comment: str | None = None, now: datetime = SENT_AT
                     ) -> Summary | None:
    progress = await act(database, start_answering, occurrence_id=occurrence_id, chat_id=chat_id, user_id=user_id,
                         now=now)
    for step, question in enumerate(QUESTIONS):
        progress = await act(database, record_score, answer_id=progress.answer_id, user_id=user_id, step=step,
                             value=values[question.key])
    assert progress.step == COMMENT_STEP
    return await act(database, finish_answering, answer_id=progress.answer_id, user_id=user_id, comment=comment,
                     now=now)


async def step(bot: Harness, chat_id: int, action: Any) -> Sent:
    """Do something as a person and return the bot's next message (or edit) in that chat."""
    mark = bot.fake.mark()
    action()

    def shown() -> list[Sent]:  # what a person reads: not the removal of the tapped buttons
        return [s for s in bot.fake.api.outbox[mark:] if s.chat_id == chat_id and s.method != "editMessageReplyMarkup"]

    assert await bot.fake.api_wait(lambda: bool(shown())), f"no reply in chat {chat_id}"
    return shown()[-1]


#: The review tests' bot: a set-up and a check-in are many taps in a minute, and these tests are not about the
#: flood guard; no panel chat.
REVIEW_BOT = pytest.mark.bot_settings(panel_chat_id=None, rate_limit_per_minute=1000)
