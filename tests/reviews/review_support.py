"""Helpers for the review-nudge tests: a migrated database, a recording sender, and clock control."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlmodel import col, select

from bot.reviews.dispatch import Claimed, Outcome
from bot.reviews.partnerships import create_partnership
from bot.reviews.schedule import Schedule
from db.engine import Database
from db.migrate import upgrade_database
from db.review_models import ReviewOccurrence
from tests.conftest import Harness

LONDON = "Europe/London"


@asynccontextmanager
async def migrated(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await upgrade_database(database)
    try:
        yield database
    finally:
        await database.dispose()


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
    partnership, _ = await create_partnership(
        database, chat_id=chat_id, created_by=chat_id if chat_id > 0 else 77, name=name, partners=["A", "B"],
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
