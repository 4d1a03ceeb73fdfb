"""The delivery rules with a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL): claim, send,
mark; once and only once; late after downtime; a crash between claim and mark never resends; Telegram
refusals pause the schedule with the reason; RetryAfter is retried later; DST folds are sent once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select

from bot.reviews.dispatch import MAX_SEND_ATTEMPTS, Outcome, claim_due, due_at, record_outcomes
from bot.reviews.errors import NotAllowed
from bot.reviews.handlers.jobs import dispatch_due
from bot.reviews.inputs import LAST_DAY
from bot.reviews.partnerships import change_schedule, get_partnership, list_partnerships, pause, resume, stop
from bot.reviews.schedule import Schedule
from db.engine import Database
from db.review_models import Partnership
from tests.reviews.review_support import Recorder, act, add_weekly, migrated, occurrences, pending_due

NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # Monday 4 January 2027, 08:00 in London
MONDAY = 0


async def test_a_due_nudge_is_sent_once_and_the_series_moves_on(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid = await add_weekly(database, chat_id=501, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        due = await pending_due(database, pid)
        assert due == datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
        sender = Recorder()
        assert (await dispatch_due(database, due - timedelta(minutes=1), sender)).claimed == 0
        report = await dispatch_due(database, due + timedelta(seconds=30), sender)
        assert (report.claimed, report.sent, report.late) == (1, 1, 0)
        again = await dispatch_due(database, due + timedelta(minutes=1), sender)
        assert again.claimed == 0 and sum(sender.sent.values()) == 1
        rows = await occurrences(database, pid)
        assert [(o.status, o.slot_date) for o in rows] == [("sent", date(2027, 1, 4)), ("pending", date(2027, 1, 11))]
        assert rows[0].message_id == 1 and rows[0].sent_at is not None


async def test_after_three_weeks_offline_one_late_nudge_not_three(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid = await add_weekly(database, chat_id=502, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        sender = Recorder()
        back = datetime(2027, 1, 26, 12, 0, tzinfo=UTC)  # a Tuesday, three Mondays later
        report = await dispatch_due(database, back, sender)
        assert (report.sent, report.late) == (1, 1)
        assert sender.items[0].late and sender.items[0].slot_local.date() == date(2027, 1, 4)
        assert (await dispatch_due(database, back + timedelta(minutes=1), sender)).claimed == 0
        assert await pending_due(database, pid) == datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


async def test_the_fall_back_fold_is_sent_once_at_the_first(db_url: str) -> None:
    async with migrated(db_url) as database:
        start = datetime(2027, 10, 25, tzinfo=UTC)
        pid = await add_weekly(database, chat_id=503, now=start, weekday=6, at=time(1, 30), start=date(2027, 10, 1))
        sender = Recorder()
        first = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST
        assert (await dispatch_due(database, first - timedelta(minutes=1), sender)).sent == 0
        assert (await dispatch_due(database, first + timedelta(seconds=5), sender)).sent == 1
        second = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 01:30 GMT, the same wall time again
        assert (await dispatch_due(database, second + timedelta(seconds=5), sender)).sent == 0
        assert await pending_due(database, pid) == datetime(2027, 11, 7, 1, 30, tzinfo=UTC)


async def test_the_spring_forward_gap_is_sent_at_half_past_two(db_url: str) -> None:
    async with migrated(db_url) as database:
        start = datetime(2027, 3, 22, tzinfo=UTC)
        await add_weekly(database, chat_id=504, now=start, weekday=6, at=time(1, 30), start=date(2027, 3, 1))
        sender = Recorder()
        assert (await dispatch_due(database, datetime(2027, 3, 28, 1, 29, tzinfo=UTC), sender)).sent == 0
        assert (await dispatch_due(database, datetime(2027, 3, 28, 1, 30, tzinfo=UTC), sender)).sent == 1
        assert f"{sender.items[0].slot_local:%H:%M%z}" == "02:30+0100"


async def test_a_crash_between_claim_and_mark_never_resends(db_url: str) -> None:
    """Simulates the process dying after the claim transaction committed and before the mark."""
    async with migrated(db_url) as database:
        pid = await add_weekly(database, chat_id=505, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        moment = datetime(2027, 1, 4, 9, 0, 30, tzinfo=UTC)
        claimed = await act(database, claim_due, now=moment)  # ... and the process is killed here
        assert len(claimed) == 1
        sender = Recorder()
        for minutes in (1, 2, 20, 60):  # later runs, of this or another process
            report = await dispatch_due(database, moment + timedelta(minutes=minutes), sender)
            assert report.sent == 0
        assert not sender.sent
        rows = await occurrences(database, pid)
        assert rows[0].status == "uncertain" and "not resent" in (rows[0].last_error or "")
        assert rows[1].status == "pending" and rows[1].slot_date == date(2027, 1, 11)  # the series continues
        [view] = await act(database, list_partnerships, chat_id=505)  # reported to admins (reviews list)
        assert [(p.status, p.occurrence_id) for p in view.problems] == [("uncertain", rows[0].id)]
        # A mark that arrives late (the process was only slow) still records the delivery.
        await act(database, record_outcomes, claimed=claimed, outcomes=[Outcome("sent", message_id=9)], now=moment)
        assert (await occurrences(database, pid))[0].status == "sent"


async def test_two_dispatchers_racing_send_each_nudge_once(db_url: str) -> None:
    """Two engines on one database (two processes in miniature): every nudge exactly once."""
    async with migrated(db_url) as first, migrated(db_url) as _:
        for chat in range(600, 660):
            await add_weekly(first, chat_id=chat, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
    second_db, third_db = Database(db_url), Database(db_url)
    try:
        sender = Recorder(delay=0.001)
        moment = datetime(2027, 1, 4, 9, 1, tzinfo=UTC)
        reports = await asyncio.gather(dispatch_due(second_db, moment, sender, batch=7),
                                       dispatch_due(third_db, moment, sender, batch=7))
        assert sum(r.sent for r in reports) == 60
        assert len(sender.sent) == 60 and set(sender.sent.values()) == {1}
    finally:
        await second_db.dispose()
        await third_db.dispose()


async def test_blocked_or_missing_chats_pause_the_schedule_with_the_reason(db_url: str) -> None:
    async with migrated(db_url) as database:
        blocked = await add_weekly(database, chat_id=506, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        missing = await add_weekly(database, chat_id=-507, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        fine = await add_weekly(database, chat_id=508, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        sender = Recorder(outcomes={
            506: Outcome("blocked", reason="Telegram refused: Forbidden: bot was blocked by the user"),
            -507: Outcome("blocked", reason="Telegram refused: chat not found")})
        report = await dispatch_due(database, datetime(2027, 1, 4, 9, 1, tzinfo=UTC), sender)
        assert (report.sent, report.failed, sorted(report.paused)) == (1, 2, sorted([blocked, missing]))
        async with database.session() as session:
            rows = {p.id: p for p in (await session.exec(select(Partnership))).all()}
        assert rows[blocked].status == "paused" and "blocked" in (rows[blocked].paused_reason or "")
        assert rows[missing].status == "paused" and "chat not found" in (rows[missing].paused_reason or "")
        assert rows[fine].status == "active"
        assert [o.status for o in await occurrences(database, blocked)] == ["failed", "cancelled"]
        # Nothing more is tried for a paused partnership, even much later.
        later = await dispatch_due(database, datetime(2027, 2, 1, 10, tzinfo=UTC), Recorder())
        assert later.claimed == 1  # only the active one's next nudge


async def test_retry_after_is_retried_later_and_a_migrated_group_follows(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid = await add_weekly(database, chat_id=509, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        group = await add_weekly(database, chat_id=-510, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        moment = datetime(2027, 1, 4, 9, 1, tzinfo=UTC)
        sender = Recorder(outcomes={509: Outcome("retry", retry_at=moment + timedelta(seconds=8), reason="429"),
                                    -510: Outcome("migrated", new_chat_id=-100510, reason="supergroup")})
        report = await dispatch_due(database, moment, sender)
        assert (report.sent, report.retried) == (0, 2)
        assert (await occurrences(database, pid))[0].status == "pending"
        assert (await dispatch_due(database, moment + timedelta(seconds=5), Recorder())).claimed == 1
        after = Recorder()
        assert (await dispatch_due(database, moment + timedelta(seconds=9), after)).sent == 1
        assert (await act(database, get_partnership,
                          partnership_id=group)).chat_id == -100510  # type: ignore[union-attr]
        assert [item.chat_id for item in after.items] == [509]
        rows = await occurrences(database, pid)
        assert [o.status for o in rows] == ["sent", "pending"] and rows[0].attempts == 2


async def test_retries_give_up_after_five_attempts(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid = await add_weekly(database, chat_id=511, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        moment = datetime(2027, 1, 4, 9, 1, tzinfo=UTC)
        sender = Recorder(outcomes={511: Outcome("retry", retry_at=moment, reason="could not reach Telegram")})
        for attempt in range(7):
            await dispatch_due(database, moment + timedelta(minutes=attempt), sender)
        rows = await occurrences(database, pid)
        assert rows[0].status == "failed" and "gave up" in (rows[0].last_error or "")
        assert len(sender.items) == MAX_SEND_ATTEMPTS


async def test_pause_resume_change_and_stop(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid = await add_weekly(database, chat_id=512, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        with pytest.raises(NotAllowed):  # another chat cannot pause it
            await act(database, pause, partnership_id=pid, chat_id=999, now=NOW)
        await act(database, pause, partnership_id=pid, chat_id=512, now=NOW)
        assert (await dispatch_due(database, datetime(2027, 1, 20, tzinfo=UTC), Recorder())).claimed == 0
        _, upcoming = await act(database, resume, partnership_id=pid, chat_id=512,
                                now=datetime(2027, 1, 20, tzinfo=UTC))
        assert upcoming.slot_date == date(2027, 1, 25)  # nothing missed while paused is sent
        monthly = Schedule("monthly", time(14, 0), "Australia/Sydney", date(2027, 1, 1), day=LAST_DAY)
        _, changed = await act(database, change_schedule, partnership_id=pid, chat_id=512, schedule=monthly,
                               now=datetime(2027, 1, 20, tzinfo=UTC))
        assert changed.local.isoformat() == "2027-01-31T14:00:00+11:00"
        assert await pending_due(database, pid) == changed.utc
        await act(database, stop, partnership_id=pid, chat_id=512, now=datetime(2027, 1, 21, tzinfo=UTC))
        assert (await dispatch_due(database, datetime(2027, 3, 1, tzinfo=UTC), Recorder())).claimed == 0
        assert [v.partnership.id for v in await act(database, list_partnerships, chat_id=512)] == []


async def test_due_preview_claims_nothing(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid = await add_weekly(database, chat_id=513, now=NOW, weekday=MONDAY, at=time(9), start=date(2027, 1, 1))
        [preview] = await act(database, due_at, at=datetime(2027, 1, 4, 12, tzinfo=UTC))
        assert preview.partnership_id == pid and preview.late and preview.due_local.hour == 9
        assert await act(database, due_at, at=datetime(2027, 1, 4, 8, tzinfo=UTC)) == []
        assert [o.status for o in await occurrences(database, pid)] == ["pending"]
