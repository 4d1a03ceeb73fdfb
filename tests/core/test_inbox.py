"""The inbox keeps a handled update's id for a day (to drop a repeat delivery from Telegram), then the hourly
job deletes it; an update not yet handled is never deleted, however old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.core.inbox import KEEP_HANDLED, purge_handled
from db.engine import Database
from db.models import InboxUpdate

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


async def test_handled_updates_go_after_a_day_and_unhandled_ones_stay(db_url: str) -> None:
    database = Database(db_url)
    try:
        async with database.transaction() as session:
            session.add_all([
                InboxUpdate(update_id=1, payload="{}", received_at=NOW - timedelta(days=3),
                            handled_at=NOW - KEEP_HANDLED - timedelta(minutes=1)),
                InboxUpdate(update_id=2, payload="{}", received_at=NOW - timedelta(hours=2),
                            handled_at=NOW - timedelta(hours=2)),
                InboxUpdate(update_id=3, payload='{"update_id": 3}', received_at=NOW - timedelta(days=3))])
        async with database.transaction() as session:
            assert await purge_handled(session=session, now=NOW) == 1
        async with database.transaction() as session:
            left = (await session.exec(select(InboxUpdate.update_id).order_by(col(InboxUpdate.update_id)))).all()
        assert list(left) == [2, 3]
    finally:
        await database.dispose()
