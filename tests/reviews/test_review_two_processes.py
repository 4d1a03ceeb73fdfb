"""Two bot processes on one PostgreSQL database dispatching 1,000 due nudges: each is sent exactly once.

Each "process" is a thread with its own event loop, its own database engine (its own connections) and its
own python-telegram-bot Bot, sending through the bot's real sender to one shared fake Bot API, where the
nudges are counted. Runs only with TEST_DATABASE_URL (PostgreSQL: FOR UPDATE SKIP LOCKED); the SQLite
race is covered, smaller, in test_review_dispatch.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import insert, select

from bot.app import LOCAL_TOKEN
from bot.core.local_api import LocalBotApi
from bot.core.local_request import LocalRequest
from bot.reviews.dispatch import DispatchReport, due_at
from bot.reviews.handlers.jobs import dispatch_due, make_sender
from db.engine import Database
from db.review_models import Partnership, ReviewOccurrence
from tests.reviews.review_support import act, migrated

# a load of 1,000 nudges on PostgreSQL (FOR UPDATE SKIP LOCKED): CI runs it, `-m "not slow"` skips it
pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

COUNT = 1000
NOW = datetime(2027, 1, 4, 9, 0, 30, tzinfo=UTC)


async def seed(database: Database) -> None:
    rows = [{"chat_id": 10_000 + i, "created_by": None, "name": f"P{i}", "partners": "", "cadence": "weekly",
             "weekday": 0, "day": None, "local_time": "09:00", "timezone": "Europe/London", "start_date": NOW.date(),
             "status": "active", "schedule_version": 1, "created_at": NOW, "updated_at": NOW} for i in range(COUNT)]
    due = datetime.combine(NOW.date(), time(9), tzinfo=UTC)
    async with database.session() as session:
        await session.exec(insert(Partnership.__table__), params=rows)  # type: ignore[attr-defined]
        ids = (await session.exec(select(Partnership.__table__.c.id))).all()  # type: ignore[attr-defined]
        await session.exec(insert(ReviewOccurrence.__table__), params=[  # type: ignore[attr-defined]
            {"partnership_id": pid, "schedule_version": 1, "slot_date": NOW.date(), "slot_at": due, "due_at": due,
             "status": "pending", "late": False, "snoozes": 0, "attempts": 0} for (pid,) in ids])
        await session.commit()


def dispatcher(url: str, api: LocalBotApi, start: threading.Barrier, reports: list[DispatchReport]) -> None:
    """One bot process: its own loop, engine and Bot; waits for the other, then dispatches."""
    from telegram import Bot

    async def main() -> None:
        database = Database(url)
        bot = Bot(LOCAL_TOKEN, request=LocalRequest(api), get_updates_request=LocalRequest(api))
        await bot.initialize()
        try:
            await asyncio.to_thread(start.wait, 30)
            reports.append(await dispatch_due(database, NOW, make_sender(bot, NOW), batch=40))
        finally:
            await bot.shutdown()
            await database.dispose()

    asyncio.run(main())


async def test_two_processes_send_each_of_1000_nudges_exactly_once(db_url: str) -> None:
    async with migrated(db_url) as database:
        await seed(database)
    api = LocalBotApi()
    start = threading.Barrier(2)
    reports: list[DispatchReport] = []
    threads = [threading.Thread(target=dispatcher, args=(db_url, api, start, reports)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        await asyncio.to_thread(thread.join, 120)
    assert len(reports) == 2, "a dispatcher failed"
    per_chat = Counter(s.chat_id for s in api.outbox if s.method == "sendMessage")
    assert len(per_chat) == COUNT and set(per_chat.values()) == {1}
    assert sum(r.sent for r in reports) == COUNT
    assert all(r.claimed > 0 for r in reports), f"both processes should have taken part: {reports}"
    async with migrated(db_url) as database:
        assert await act(database, due_at, at=NOW + timedelta(minutes=1)) == []
