"""Review nudges: the rules, free of Telegram. Schedules, occurrences, dispatch, check-ins, history.

A partnership asks to be nudged to review itself regularly ("not just at the end of the year"). Its
schedule is computed in its own local time with :mod:`zoneinfo`, so 09:00 Europe/London stays 09:00 on
the wall in winter and in summer:

* a local time that does not exist on the spring-forward day moves forward by the gap (01:30 on the
  day the clocks go from 01:00 to 02:00 becomes 02:30);
* a local time that happens twice on the fall-back day is sent once, at the first of the two.

Every occurrence is a row (``review_occurrence``); exactly one ``pending`` row per active partnership
holds its next nudge. Nothing lives only in memory.

Delivery guarantee (claim, send, mark)
--------------------------------------
A job runs every minute in every bot process and calls :func:`dispatch_due`, which repeats:

1. **Claim**, in one transaction: one ``UPDATE ... WHERE id IN (SELECT ... WHERE status = 'pending'
   AND due_at <= now ... FOR UPDATE SKIP LOCKED)`` turns due rows into ``sending`` with a fresh claim
   token and the claim time (on SQLite the single statement is atomic: SQLite has one writer at a
   time, and the outer ``status = 'pending'`` condition makes a second claimer find nothing). In the
   same transaction the next occurrence of each claimed series is created as a new ``pending`` row
   (unique per partnership, schedule version and local date, so it cannot be created twice). Commit.
2. **Send** each claimed nudge to Telegram, outside any transaction.
3. **Mark** each row by its claim token: ``sent`` (with the message id), back to ``pending`` for a
   RetryAfter or a connection that was never made (Telegram said it did not deliver), ``failed`` when
   Telegram refused it for good (blocked, chat not found: the schedule is then paused and the reason
   recorded), or ``uncertain`` when the outcome is unknown (a timeout after the request went out).

So a nudge is sent **at most once**: a row leaves ``pending`` only through a claim, and nothing ever
resends a ``sending`` or ``uncertain`` row. If the process dies between claim and mark, the row stays
``sending``; the next run (of any process) marks claims older than :data:`STALE_CLAIM_AFTER`
``uncertain`` and logs them (``partnerbot reviews list`` shows them) but does **not** resend them,
because the message may already have reached Telegram. The cost of that choice: a crash in the
seconds between claim and send can lose the nudges claimed in that batch (at most :data:`CLAIM_BATCH`),
never duplicate one. The series itself always continues, because the next occurrence was created in
the claim transaction. After downtime the missed nudge is claimed once, marked ``late``, and the next
occurrence is the first one after *now*, so a bot that was off for three weeks sends one late weekly
nudge, not three. Snooze is the one deliberate re-send: it moves a delivered occurrence back to
``pending`` at a later time, because the partnership asked for it again.
"""

from __future__ import annotations

import asyncio
import calendar
import csv
import difflib
import io
import json
import logging
import re
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import bindparam, delete, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import Database
from db.review_models import (
    MAX_COMMENT,
    MAX_PARTNERS_TEXT,
    MAX_PARTNERSHIP_NAME,
    MAX_REASON,
    Partnership,
    ReviewAnswer,
    ReviewOccurrence,
)

log = logging.getLogger(__name__)

# -- constants ----------------------------------------------------------------------------------
CADENCES = ("weekly", "fortnightly", "monthly", "quarterly")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LAST_DAY = -1
MAX_PARTNERS = 12
MAX_PARTNER_NAME = 100
#: A claim older than this with no mark is taken to belong to a process that died mid-send.
STALE_CLAIM_AFTER = timedelta(minutes=15)
#: A nudge claimed more than this after it was due is marked late ("while I was offline").
LATE_AFTER = timedelta(minutes=10)
#: A group check-in is summarised when everyone who started has finished, or after this long.
CHECKIN_WINDOW = timedelta(hours=48)
CLAIM_BATCH = 200
MAX_SEND_ATTEMPTS = 5
LOW_SCORE = 2.5  # an average at or below this (on 1-5; "no" is 1, "partly" 3) gets tips
MAX_FUTURE_START = timedelta(days=2 * 366)
LIVE_STATUSES = ("sent", "uncertain")  # occurrences that may have reached the chat: answerable


class ReviewInputError(ValueError):
    """A value a person typed that cannot be used; ``str()`` is the friendly one-line explanation."""


class NotAllowed(Exception):
    """The object does not belong to the chat or person asking (a forged or stale button)."""


# -- input parsing (shared by the chat and the command line) --------------------------------------
def parse_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise ReviewInputError("Please type a name for the partnership.")
    if len(name) > MAX_PARTNERSHIP_NAME:
        raise ReviewInputError(f"That name is {len(name)} characters: please keep it under "
                               f"{MAX_PARTNERSHIP_NAME}.")
    return name


def parse_partners(text: str) -> list[str]:
    """Organisation names separated by commas (or new lines), duplicates dropped, bounded in size."""
    names: list[str] = []
    for raw in re.split(r"[,;\n]", text):
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_PARTNER_NAME:
            raise ReviewInputError(f"“{name[:30]}…” is too long: keep each name under {MAX_PARTNER_NAME} "
                                   "characters.")
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if len(names) > MAX_PARTNERS:
        raise ReviewInputError(f"That's {len(names)} organisations: I can keep up to {MAX_PARTNERS}.")
    if len(", ".join(names)) > MAX_PARTNERS_TEXT:
        raise ReviewInputError(f"That list is too long for me: please shorten the names "
                               f"({MAX_PARTNERS_TEXT} characters at most in all).")
    return names


def parse_cadence(text: str) -> str:
    value = text.strip().lower()
    if value not in CADENCES:
        raise ReviewInputError(f"“{text}” is not a cadence: use weekly, fortnightly, monthly or quarterly.")
    return value


def parse_weekday(text: str) -> int:
    value = text.strip().lower()
    for index, name in enumerate(WEEKDAY_NAMES):
        if len(value) >= 3 and name.lower().startswith(value):
            return index
    raise ReviewInputError(f"“{text}” is not a weekday: use mon, tue, wed, thu, fri, sat or sun.")


def parse_day(text: str) -> int:
    value = text.strip().lower()
    if value in {"last", "last day", "end"}:
        return LAST_DAY
    if value.isdigit() and 1 <= int(value) <= 28:
        return int(value)
    raise ReviewInputError(f"“{text}” is not a day I can use: type a day from 1 to 28, or last "
                           "(29th to 31st are not in every month).")


_TIME_24 = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
_TIME_12 = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)$")


def parse_time(text: str) -> time:
    value = text.strip().lower()
    hour = minute = -1
    if match := _TIME_24.match(value):
        hour, minute = int(match[1]), int(match[2])
    elif match := _TIME_12.match(value):
        hour, minute = int(match[1]) % 12 + (12 if match[3] == "pm" else 0), int(match[2] or 0)
        if int(match[1]) > 12:
            hour = -1
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ReviewInputError(f"“{text}” is not a time I understand: type it like 09:00 or 14:30 "
                               "(24-hour clock).")
    return time(hour, minute)


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(text: str) -> str:
    """An IANA zone name, matched without regard to case; a friendly error with suggestions otherwise."""
    value = text.strip().replace(" ", "_")
    names = _zone_names()
    found = names.get(value.lower())
    if found is not None:
        try:
            ZoneInfo(found)
            return found
        except (ZoneInfoNotFoundError, ValueError):
            pass
    close = difflib.get_close_matches(value.lower(), list(names), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(names[c] for c in close)}?" if close else ""
    raise ReviewInputError(f"“{text[:60]}” is not a time zone I know.{hint} Use a name like Europe/London "
                           "or Australia/Sydney.")


def parse_date(text: str, *, not_before: date | None = None) -> date:
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise ReviewInputError(f"“{text[:40]}” is not a date I understand: type it as YYYY-MM-DD, "
                               "for example 2027-01-04.") from None
    if not_before is not None and value < not_before:
        raise ReviewInputError(f"{value:%d %B %Y} has already passed: please choose today or a later date.")
    if not_before is not None and value > not_before + MAX_FUTURE_START:
        raise ReviewInputError("That's more than two years away: please choose an earlier first date.")
    return value


def parse_instant(text: str, default_zone: str) -> datetime:
    """An ISO date-time; one without an offset is read in ``default_zone``."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReviewInputError(f"“{text[:40]}” is not an ISO date-time: use e.g. 2027-03-29T09:00 "
                               "or 2027-03-29T08:00:00+00:00.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(default_zone))
    return value.astimezone(UTC)


# -- schedules and their occurrences ------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    """When a partnership is nudged, in its own local time. ``day`` is 1-28 or LAST_DAY."""

    cadence: str
    local_time: time
    timezone: str
    start: date
    weekday: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.cadence not in CADENCES:
            raise ReviewInputError(f"“{self.cadence}” is not a cadence: use weekly, fortnightly, monthly or "
                                   "quarterly.")
        if self.cadence in ("weekly", "fortnightly"):
            if self.weekday is None or not 0 <= self.weekday <= 6:
                raise ReviewInputError(f"A {self.cadence} schedule needs a weekday (mon to sun).")
        elif self.day is None or not (self.day == LAST_DAY or 1 <= self.day <= 28):
            raise ReviewInputError(f"A {self.cadence} schedule needs a day of the month: 1 to 28, or last.")
        parse_timezone(self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def of(cls, partnership: Partnership) -> Schedule:
        return cls(cadence=partnership.cadence, local_time=time.fromisoformat(partnership.local_time),
                   timezone=partnership.timezone, start=partnership.start_date, weekday=partnership.weekday,
                   day=partnership.day)


@dataclass(frozen=True)
class Occurrence:
    """One slot of a series: its local date, the wall-clock time it happens at, and the instant."""

    slot_date: date
    local: datetime  # aware, in the partnership's zone (02:30 for a 01:30 that fell in a gap)
    utc: datetime

    def as_json(self) -> dict[str, str]:
        return {"local": self.local.isoformat(), "utc": self.utc.isoformat()}


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1] if day == LAST_DAY else day)


def _step(schedule: Schedule) -> int:
    return {"weekly": 7, "fortnightly": 14, "monthly": 1, "quarterly": 3}[schedule.cadence]


def _first_month_index(schedule: Schedule) -> int:
    index = schedule.start.year * 12 + schedule.start.month - 1
    assert schedule.day is not None
    if _month_day(schedule.start.year, schedule.start.month, schedule.day) < schedule.start:
        index += 1
    return index


def slot_date(schedule: Schedule, n: int) -> date:
    """The local date of the ``n``-th occurrence (from 0) of the series."""
    if schedule.cadence in ("weekly", "fortnightly"):
        assert schedule.weekday is not None
        first = schedule.start + timedelta(days=(schedule.weekday - schedule.start.weekday()) % 7)
        return first + timedelta(days=n * _step(schedule))
    assert schedule.day is not None
    year, month0 = divmod(_first_month_index(schedule) + n * _step(schedule), 12)
    return _month_day(year, month0 + 1, schedule.day)


def _index_at_or_before(schedule: Schedule, day: date) -> int:
    """An index whose slot is on or before ``day`` (0 if none): a start point for searching forwards."""
    if schedule.cadence in ("weekly", "fortnightly"):
        return max(0, (day - slot_date(schedule, 0)).days // _step(schedule))
    months = day.year * 12 + day.month - 1 - _first_month_index(schedule)
    return max(0, months // _step(schedule) - 1)


def occurrence(schedule: Schedule, n: int) -> Occurrence:
    """The ``n``-th occurrence as an instant: gaps move forward, folds take the first of the two."""
    day = slot_date(schedule, n)
    zone = schedule.zone
    wall = datetime.combine(day, schedule.local_time).replace(tzinfo=zone, fold=0)
    # fold=0 means: in a fold, the first (earlier) instant; in a gap, the offset from before the change,
    # which lands the same distance after the change as the gap is long (01:30 -> 02:30).
    instant = wall.astimezone(UTC)
    return Occurrence(day, instant.astimezone(zone), instant)


def next_occurrences(schedule: Schedule, after: datetime, count: int = 1) -> list[Occurrence]:
    """The next ``count`` occurrences strictly after the instant ``after``."""
    local_day = after.astimezone(schedule.zone).date() - timedelta(days=2)
    n = _index_at_or_before(schedule, local_day)
    found: list[Occurrence] = []
    while len(found) < count:
        candidate = occurrence(schedule, n)
        if candidate.utc > after:
            found.append(candidate)
        n += 1
    return found


def describe_schedule(schedule: Schedule) -> str:
    """Plain English: "monthly on the last day at 09:00 (Europe/London)"."""
    at = f"at {schedule.local_time:%H:%M} ({schedule.timezone})"
    if schedule.cadence in ("weekly", "fortnightly"):
        assert schedule.weekday is not None
        every = "every" if schedule.cadence == "weekly" else "every other"
        return f"{schedule.cadence}: {every} {WEEKDAY_NAMES[schedule.weekday]} {at}"
    day = "the last day" if schedule.day == LAST_DAY else f"day {schedule.day}"
    return f"{schedule.cadence} on {day} of the month {at}"


def format_local(moment: datetime) -> str:
    """"Mon 4 Jan 2027, 09:00" in the moment's own zone."""
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M}"


def is_group_chat(chat_id: int) -> bool:
    return chat_id < 0


# -- partnerships -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeliveryProblem:
    occurrence_id: int
    slot_at: datetime
    status: str  # failed or uncertain
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        return {"occurrence_id": self.occurrence_id, "slot_utc": self.slot_at.isoformat(), "status": self.status,
                "reason": self.reason}


@dataclass(frozen=True)
class PartnershipView:
    """A partnership with its schedule and its next nudge, for lists."""

    partnership: Partnership
    schedule: Schedule
    next_due: datetime | None  # the pending occurrence's instant, if any
    #: Nudges whose delivery failed or is uncertain (e.g. the bot was killed mid-send), for admins.
    problems: tuple[DeliveryProblem, ...] = ()

    @property
    def next_local(self) -> datetime | None:
        return self.next_due.astimezone(self.schedule.zone) if self.next_due else None


def _values_for(schedule: Schedule) -> dict[str, Any]:
    return {"cadence": schedule.cadence, "weekday": schedule.weekday if schedule.cadence in ("weekly", "fortnightly")
            else None, "day": schedule.day if schedule.cadence in ("monthly", "quarterly") else None,
            "local_time": f"{schedule.local_time:%H:%M}", "timezone": schedule.timezone,
            "start_date": schedule.start}


async def _materialise_next(session: AsyncSession, partnership: Partnership, after: datetime) -> Occurrence:
    schedule = Schedule.of(partnership)
    [upcoming] = next_occurrences(schedule, after, 1)
    session.add(ReviewOccurrence(partnership_id=partnership.id or 0, schedule_version=partnership.schedule_version,
                                 slot_date=upcoming.slot_date, slot_at=upcoming.utc, due_at=upcoming.utc))
    return upcoming


async def create_partnership(database: Database, *, chat_id: int, created_by: int | None, name: str,
                             partners: Sequence[str], schedule: Schedule, now: datetime
                             ) -> tuple[Partnership, Occurrence]:
    """Store a partnership and its first pending occurrence (the first slot after ``now``)."""
    partnership = Partnership(chat_id=chat_id, created_by=created_by, name=parse_name(name),
                              partners=", ".join(parse_partners(", ".join(partners))), created_at=now,
                              updated_at=now, **_values_for(schedule))
    async with database.session() as session:
        session.add(partnership)
        await session.flush()
        first = await _materialise_next(session, partnership, now)
        await session.commit()
    return partnership, first


async def _pending_due(session: AsyncSession, partnership_ids: Iterable[int]) -> dict[int, datetime]:
    ids = list(partnership_ids)
    if not ids:
        return {}
    rows = (await session.exec(select(ReviewOccurrence.partnership_id, func.min(ReviewOccurrence.due_at))
                               .where(col(ReviewOccurrence.partnership_id).in_(ids),
                                      ReviewOccurrence.status == "pending")
                               .group_by(col(ReviewOccurrence.partnership_id)))).all()
    return {pid: _aware(due) for pid, due in rows}


def _aware(value: datetime | str) -> datetime:
    """Aggregates bypass the column type on SQLite (a string comes back): read it as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def list_partnerships(database: Database, *, chat_id: int | None = None,
                            include_stopped: bool = False) -> list[PartnershipView]:
    """The partnerships of one chat (or all of them, for admins), oldest first."""
    async with database.session() as session:
        query = select(Partnership).order_by(col(Partnership.id))
        if chat_id is not None:
            query = query.where(Partnership.chat_id == chat_id)
        if not include_stopped:
            query = query.where(Partnership.status != "stopped")
        partnerships = list((await session.exec(query)).all())
        ids = [p.id for p in partnerships if p.id is not None]
        due = await _pending_due(session, ids)
        problems: dict[int, list[DeliveryProblem]] = {}
        if ids:
            rows = (await session.exec(select(ReviewOccurrence).where(
                col(ReviewOccurrence.partnership_id).in_(ids),
                col(ReviewOccurrence.status).in_(("failed", "uncertain"))).order_by(col(ReviewOccurrence.slot_at)))
                    ).all()
            for row in rows:
                problems.setdefault(row.partnership_id, []).append(
                    DeliveryProblem(row.id or 0, row.slot_at, row.status, row.last_error))
    return [PartnershipView(p, Schedule.of(p), due.get(p.id or 0), tuple(problems.get(p.id or 0, [])))
            for p in partnerships]


async def get_partnership(database: Database, partnership_id: int, *, chat_id: int | None = None
                          ) -> Partnership | None:
    """The partnership, only when it belongs to ``chat_id`` (when given): buttons can be forged."""
    async with database.session() as session:
        partnership = await session.get(Partnership, partnership_id)
    if partnership is None or (chat_id is not None and partnership.chat_id != chat_id):
        return None
    return partnership


async def _cancel_pending(session: AsyncSession, partnership_id: int) -> None:
    await session.exec(update(ReviewOccurrence).where(
        col(ReviewOccurrence.partnership_id) == partnership_id, col(ReviewOccurrence.status) == "pending")
        .values(status="cancelled", claim_token=None).execution_options(synchronize_session=False))


async def _owned(session: AsyncSession, partnership_id: int, chat_id: int) -> Partnership:
    partnership = await session.get(Partnership, partnership_id)
    if partnership is None or partnership.chat_id != chat_id or partnership.status == "stopped":
        raise NotAllowed
    return partnership


async def pause(database: Database, partnership_id: int, *, chat_id: int, now: datetime,
                reason: str | None = None) -> Partnership:
    async with database.session() as session:
        partnership = await _owned(session, partnership_id, chat_id)
        partnership.status, partnership.paused_reason, partnership.updated_at = "paused", reason, now
        session.add(partnership)
        await _cancel_pending(session, partnership_id)
        await session.commit()
        return partnership


async def resume(database: Database, partnership_id: int, *, chat_id: int, now: datetime
                 ) -> tuple[Partnership, Occurrence]:
    """Active again from the next slot after now: nudges missed while paused are not sent."""
    async with database.session() as session:
        partnership = await _owned(session, partnership_id, chat_id)
        await _cancel_pending(session, partnership_id)
        partnership.status, partnership.paused_reason, partnership.updated_at = "active", None, now
        partnership.schedule_version += 1
        session.add(partnership)
        upcoming = await _materialise_next(session, partnership, now)
        await session.commit()
        return partnership, upcoming


async def stop(database: Database, partnership_id: int, *, chat_id: int, now: datetime) -> Partnership:
    """No more nudges; the history stays for /reviews."""
    async with database.session() as session:
        partnership = await _owned(session, partnership_id, chat_id)
        partnership.status, partnership.updated_at = "stopped", now
        session.add(partnership)
        await _cancel_pending(session, partnership_id)
        await session.commit()
        return partnership


async def change_schedule(database: Database, partnership_id: int, *, chat_id: int, schedule: Schedule,
                          now: datetime) -> tuple[Partnership, Occurrence]:
    """A new schedule from now on (the pending nudge is replaced; a paused partnership stays paused)."""
    async with database.session() as session:
        partnership = await _owned(session, partnership_id, chat_id)
        await _cancel_pending(session, partnership_id)
        for key, value in _values_for(schedule).items():
            setattr(partnership, key, value)
        partnership.schedule_version += 1
        partnership.updated_at = now
        session.add(partnership)
        upcoming = next_occurrences(schedule, now, 1)[0]
        if partnership.status == "active":
            upcoming = await _materialise_next(session, partnership, now)
        await session.commit()
        return partnership, upcoming


# -- dispatch: claim, send, mark ----------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    """A nudge this process has claimed and must now send (then mark, by ``token``)."""

    occurrence_id: int
    token: str
    partnership_id: int
    chat_id: int
    name: str
    partners: str
    slot_local: datetime
    due_at: datetime
    late: bool
    snoozed: bool


@dataclass(frozen=True)
class Outcome:
    """What happened to one send. ``kind``: sent, retry, blocked, failed, uncertain, migrated."""

    kind: str
    message_id: int | None = None
    retry_at: datetime | None = None
    reason: str | None = None
    new_chat_id: int | None = None


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    late: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0
    paused: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)


def _insert(database: Database) -> Any:
    return pg_insert if database.is_postgres else sqlite_insert


async def claim_due(database: Database, now: datetime, *, limit: int = CLAIM_BATCH,
                    only_chat_ids: Iterable[int] | None = None) -> list[Claimed]:
    """Claim up to ``limit`` due nudges in one transaction and create each series' next occurrence."""
    token = uuid.uuid4().hex
    occ = ReviewOccurrence.__table__  # type: ignore[attr-defined]
    active = select(Partnership.id).where(Partnership.status == "active")
    if only_chat_ids is not None:
        active = active.where(col(Partnership.chat_id).in_(list(only_chat_ids)))
    pick = (select(occ.c.id).where(occ.c.status == "pending", occ.c.due_at <= now,
                                   occ.c.partnership_id.in_(active))
            .order_by(occ.c.due_at, occ.c.id).limit(limit))
    if database.is_postgres:
        pick = pick.with_for_update(skip_locked=True, of=occ)
    async with database.session() as session:
        await session.exec(update(occ).where(occ.c.id.in_(pick.scalar_subquery()), occ.c.status == "pending")
                           .values(status="sending", claim_token=token, claimed_at=now,
                                   attempts=occ.c.attempts + 1,
                                   late=or_(occ.c.late, occ.c.due_at < now - LATE_AFTER)))
        rows = (await session.exec(select(ReviewOccurrence, Partnership)
                                   .join(Partnership, col(Partnership.id) == ReviewOccurrence.partnership_id)
                                   .where(ReviewOccurrence.claim_token == token)
                                   .order_by(col(ReviewOccurrence.due_at)))).all()
        if not rows:
            await session.commit()
            return []
        already = set((await session.exec(select(ReviewOccurrence.partnership_id).where(
            col(ReviewOccurrence.partnership_id).in_([p.id for _, p in rows]),
            ReviewOccurrence.status == "pending"))).all())
        upcoming: list[dict[str, Any]] = []
        for row, partnership in rows:
            if partnership.id in already or row.schedule_version != partnership.schedule_version:
                continue
            already.add(partnership.id)
            [after] = next_occurrences(Schedule.of(partnership), max(now, row.slot_at), 1)
            upcoming.append({"partnership_id": partnership.id, "schedule_version": partnership.schedule_version,
                             "slot_date": after.slot_date, "slot_at": after.utc, "due_at": after.utc,
                             "status": "pending", "late": False, "snoozes": 0, "attempts": 0})
        if upcoming:
            insert = _insert(database)(occ).on_conflict_do_nothing(
                index_elements=["partnership_id", "schedule_version", "slot_date"])
            await session.exec(insert, params=upcoming)
        await session.commit()
    return [Claimed(occurrence_id=row.id or 0, token=token, partnership_id=p.id or 0, chat_id=p.chat_id,
                    name=p.name, partners=p.partners, slot_local=row.slot_at.astimezone(ZoneInfo(p.timezone)),
                    due_at=row.due_at, late=row.late, snoozed=row.snoozes > 0) for row, p in rows]


async def mark_stale_claims(database: Database, now: datetime) -> list[int]:
    """Claims with no mark after STALE_CLAIM_AFTER: the process died mid-send. Marked, never resent."""
    cutoff = now - STALE_CLAIM_AFTER
    async with database.session() as session:
        ids = list((await session.exec(select(ReviewOccurrence.id).where(
            ReviewOccurrence.status == "sending", col(ReviewOccurrence.claimed_at) < cutoff))).all())
        if ids:
            await session.exec(update(ReviewOccurrence).where(
                col(ReviewOccurrence.id).in_(ids), ReviewOccurrence.status == "sending")
                .values(status="uncertain",
                        last_error="claimed but never confirmed (the bot stopped mid-send): not resent")
                .execution_options(synchronize_session=False))
        await session.commit()
    for occurrence_id in ids:
        log.warning("Review nudge %s was claimed but never confirmed (the bot stopped mid-send); "
                    "marked uncertain and not resent", occurrence_id)
    return [i for i in ids if i is not None]


async def record_outcomes(database: Database, claimed: Sequence[Claimed], outcomes: Sequence[Outcome],
                          now: datetime) -> DispatchReport:
    """Mark each claimed row by its claim token (a stale relabel in between does not stop the mark)."""
    report = DispatchReport()
    occ = ReviewOccurrence.__table__  # type: ignore[attr-defined]
    mark = (update(occ).where(occ.c.id == bindparam("oid"), occ.c.claim_token == bindparam("tok"),
                              or_(occ.c.status == "sending", occ.c.status == "uncertain"))
            .values(status=bindparam("new_status"), sent_at=bindparam("new_sent_at"),
                    message_id=bindparam("new_message_id"), due_at=bindparam("new_due_at"),
                    last_error=bindparam("new_error")))
    params: list[dict[str, Any]] = []
    blocked: dict[int, str] = {}
    migrated: dict[int, int] = {}
    attempts: dict[int, int] = {}
    async with database.session() as session:
        retry_ids = [c.occurrence_id for c, o in zip(claimed, outcomes, strict=True) if o.kind in ("retry",
                                                                                                      "migrated")]
        if retry_ids:
            attempts = dict((await session.exec(select(ReviewOccurrence.id, ReviewOccurrence.attempts).where(
                col(ReviewOccurrence.id).in_(retry_ids)))).all())  # type: ignore[arg-type]
        for item, outcome in zip(claimed, outcomes, strict=True):
            status, due, error = outcome.kind, item.due_at, (outcome.reason or None)
            if outcome.kind == "sent":
                report.sent += 1
                report.late += item.late
            elif outcome.kind in ("retry", "migrated"):
                if attempts.get(item.occurrence_id, 0) >= MAX_SEND_ATTEMPTS:
                    status, error = "failed", f"gave up after {MAX_SEND_ATTEMPTS} attempts: {outcome.reason}"
                    report.failed += 1
                else:
                    status, due = "pending", outcome.retry_at or now
                    report.retried += 1
                if outcome.kind == "migrated" and outcome.new_chat_id is not None:
                    migrated[item.partnership_id] = outcome.new_chat_id
            elif outcome.kind == "blocked":
                status = "failed"
                blocked[item.partnership_id] = outcome.reason or "Telegram refused the message"
                report.failed += 1
            elif outcome.kind == "failed":
                report.failed += 1
            else:
                status = "uncertain"
                report.uncertain += 1
            params.append({"oid": item.occurrence_id, "tok": item.token, "new_status": status,
                           "new_sent_at": now if status == "sent" else None,
                           "new_message_id": outcome.message_id, "new_due_at": due,
                           "new_error": error[:MAX_REASON] if error else None})
        if params:
            await session.exec(mark, params=params)
        for partnership_id, new_chat in migrated.items():
            await session.exec(update(Partnership).where(col(Partnership.id) == partnership_id)
                               .values(chat_id=new_chat, updated_at=now)
                               .execution_options(synchronize_session=False))
        for partnership_id, reason in blocked.items():
            await session.exec(update(Partnership).where(col(Partnership.id) == partnership_id,
                                                         Partnership.status == "active")
                               .values(status="paused", paused_reason=reason[:MAX_REASON], updated_at=now)
                               .execution_options(synchronize_session=False))
            await _cancel_pending(session, partnership_id)
            report.paused.append(partnership_id)
        await session.commit()
    return report


Sender = Callable[[Claimed], Awaitable[Outcome]]


async def _send_all(claimed: Sequence[Claimed], send: Sender, concurrency: int) -> list[Outcome]:
    gate = asyncio.Semaphore(concurrency)

    async def one(item: Claimed) -> Outcome:
        async with gate:
            try:
                return await send(item)
            except Exception as exc:  # a bug or an unknown failure: it may have gone out, so never resend
                log.exception("Unexpected error sending review nudge %s", item.occurrence_id)
                return Outcome("uncertain", reason=f"unexpected error: {type(exc).__name__}")

    return list(await asyncio.gather(*(one(item) for item in claimed)))


async def dispatch_due(database: Database, now: datetime, send: Sender, *, batch: int = CLAIM_BATCH,
                       concurrency: int = 50, only_chat_ids: Iterable[int] | None = None) -> DispatchReport:
    """Claim, send and mark every nudge due at ``now``, batch by batch (see the module docstring)."""
    total = DispatchReport(stale=await mark_stale_claims(database, now))
    chats = list(only_chat_ids) if only_chat_ids is not None else None
    while True:
        claimed = await claim_due(database, now, limit=batch, only_chat_ids=chats)
        if not claimed:
            break
        outcomes = await _send_all(claimed, send, concurrency)
        report = await record_outcomes(database, claimed, outcomes, now)
        total.claimed += len(claimed)
        for name in ("sent", "late", "retried", "failed", "uncertain"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.paused.extend(report.paused)
        if len(claimed) < batch:
            break
    return total


@dataclass(frozen=True)
class DuePreview:
    partnership_id: int
    name: str
    chat_id: int
    occurrence_id: int
    due: datetime
    due_local: datetime
    late: bool

    def as_json(self) -> dict[str, Any]:
        return {"partnership_id": self.partnership_id, "name": self.name, "chat_id": self.chat_id,
                "occurrence_id": self.occurrence_id, "due_utc": self.due.isoformat(),
                "due_local": self.due_local.isoformat(), "late": self.late}


async def due_at(database: Database, at: datetime) -> list[DuePreview]:
    """What a dispatcher running at ``at`` would send (read only: nothing is claimed)."""
    async with database.session() as session:
        rows = (await session.exec(select(ReviewOccurrence, Partnership)
                                   .join(Partnership, col(Partnership.id) == ReviewOccurrence.partnership_id)
                                   .where(ReviewOccurrence.status == "pending", col(ReviewOccurrence.due_at) <= at,
                                          Partnership.status == "active")
                                   .order_by(col(ReviewOccurrence.due_at), col(ReviewOccurrence.id)))).all()
    return [DuePreview(p.id or 0, p.name, p.chat_id, o.id or 0, o.due_at, o.due_at.astimezone(ZoneInfo(p.timezone)),
                       o.late or o.due_at < at - LATE_AFTER) for o, p in rows]


# -- snooze and skip --------------------------------------------------------------------------------
@dataclass(frozen=True)
class NudgeContext:
    occurrence: ReviewOccurrence
    partnership: Partnership


async def _live_occurrence(session: AsyncSession, occurrence_id: int, chat_id: int) -> NudgeContext:
    occurrence_row = await session.get(ReviewOccurrence, occurrence_id)
    partnership = await session.get(Partnership, occurrence_row.partnership_id) if occurrence_row else None
    if occurrence_row is None or partnership is None or partnership.chat_id != chat_id:
        raise NotAllowed
    return NudgeContext(occurrence_row, partnership)


class NudgeClosed(Exception):
    """The nudge can no longer be snoozed or skipped; ``str()`` says why, for the person."""


async def snooze(database: Database, occurrence_id: int, *, chat_id: int, days: int, now: datetime
                 ) -> datetime:
    """Move this occurrence (not the series) ``days`` on; returns the new time in local time."""
    async with database.session() as session:
        found = await _live_occurrence(session, occurrence_id, chat_id)
        row, partnership = found.occurrence, found.partnership
        if partnership.status != "active":
            raise NudgeClosed("This partnership's nudges are paused or stopped.")
        if row.status not in LIVE_STATUSES:
            raise NudgeClosed("This check-in has already been snoozed or skipped.")
        started = (await session.exec(select(func.count()).select_from(ReviewAnswer).where(
            ReviewAnswer.occurrence_id == occurrence_id))).one()
        if started:
            raise NudgeClosed("Someone has already started answering this check-in, so it stays.")
        new_due = now + timedelta(days=days)
        following = (await session.exec(select(ReviewOccurrence).where(
            ReviewOccurrence.partnership_id == partnership.id, ReviewOccurrence.status == "pending"))).first()
        if following is not None and new_due >= following.due_at:
            nxt = format_local(following.due_at.astimezone(ZoneInfo(partnership.timezone)))
            raise NudgeClosed(f"The next check-in ({nxt}) comes before then: skip this one instead.")
        row.status, row.due_at, row.snoozes, row.claim_token, row.closed_at = "pending", new_due, row.snoozes + 1, \
            None, None
        session.add(row)
        await session.commit()
        return new_due.astimezone(ZoneInfo(partnership.timezone))


async def skip(database: Database, occurrence_id: int, *, chat_id: int, now: datetime) -> datetime | None:
    """Skip this check-in; returns the next one's local time (None when there is none)."""
    async with database.session() as session:
        found = await _live_occurrence(session, occurrence_id, chat_id)
        row, partnership = found.occurrence, found.partnership
        if row.status not in LIVE_STATUSES:
            raise NudgeClosed("This check-in has already been snoozed or skipped.")
        started = (await session.exec(select(func.count()).select_from(ReviewAnswer).where(
            ReviewAnswer.occurrence_id == occurrence_id))).one()
        if started:
            raise NudgeClosed("Someone has already started answering this check-in, so it stays.")
        row.status, row.closed_at = "skipped", now
        session.add(row)
        following = (await session.exec(select(ReviewOccurrence).where(
            ReviewOccurrence.partnership_id == partnership.id, ReviewOccurrence.status == "pending"))).first()
        await session.commit()
        return following.due_at.astimezone(ZoneInfo(partnership.timezone)) if following else None


# -- the check-in ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    key: str
    label: str  # short, for summaries, the chart and the CSV
    text: str  # HTML, written here (no user input)
    kind: str  # scale (1-5), ynp (yes/partly/no), stage
    tips: tuple[str, ...] = ()


SCALE_OPTIONS = (("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5"))
YNP_OPTIONS = (("Yes", "5"), ("Partly", "3"), ("No", "1"))
STAGES = ("forming", "frustration", "functioning", "flying", "failing")
STAGE_OPTIONS = tuple((stage.capitalize(), stage) for stage in STAGES)
LOW_STAGES = ("frustration", "failing")

#: Grounded in the seed documents and the six principles of the Partnership Assessment Tool (Hardy,
#: Hudson and Waddington, 2003); the tips are knowledge-base entries, checked at start-up and in a test.
QUESTIONS: tuple[Question, ...] = (
    Question("purpose", "Purpose", "Is our <b>purpose</b> still shared and clear to everyone involved?", "scale",
             ("common-purpose-values", "setup-common-goals", "panel-focus-on-purpose")),
    Question("roles", "Roles", "Are <b>roles and responsibilities</b> clear: does each partner know what it does, "
             "and what the others do?", "scale",
             ("setup-roles-lead-partner", "conflict-structures-roles", "partnership-meeting-roles")),
    Question("communication", "Communication", "Is <b>communication</b> working at all levels, from boards and "
             "managers to staff and volunteers?", "scale",
             ("communication-keep-going", "communication-listening", "communication-monologue-dialogue",
              "story-tip-communication")),
    Question("progress", "Progress", "Are we on track against the <b>targets we agreed</b>?", "ynp",
             ("story-tip-targets", "partnership-indicators", "performance-assessment-why")),
    Question("weight", "Pulling weight", "Is every partner <b>pulling its weight</b>, with problems raised early "
             "rather than left to grow?", "ynp",
             ("review-partner-not-pulling-weight", "panel-speak-to-partner", "conflict-handling")),
    Question("value", "Adding value", "Are we still <b>adding value</b>: achieving more together than apart "
             "(1 + 1 = 3)?", "scale", ("policy-1-plus-1-equals-3", "compat-added-value")),
    Question("stage", "Stage", "Which <b>stage</b> is the partnership at now?", "stage", ()),
)
STAGE_TIPS: dict[str, tuple[str, ...]] = {
    "frustration": ("lifecycle-stage-frustration", "review-lifecycle-stage", "conflict-handling"),
    "failing": ("lifecycle-stage-failing", "review-lifecycle-stage"),
}
NUMERIC_KEYS = tuple(q.key for q in QUESTIONS if q.kind != "stage")
QUESTION_BY_KEY = {q.key: q for q in QUESTIONS}
COMMENT_STEP = len(QUESTIONS)  # the "anything to raise?" step comes after the last question


def options_for(question: Question) -> tuple[tuple[str, str], ...]:
    return {"scale": SCALE_OPTIONS, "ynp": YNP_OPTIONS, "stage": STAGE_OPTIONS}[question.kind]


def tip_entry_ids() -> set[str]:
    ids = {entry for q in QUESTIONS for entry in q.tips}
    return ids | {entry for tips in STAGE_TIPS.values() for entry in tips}


def missing_tip_entries(known: Callable[[str], object]) -> list[str]:
    """Tip entry ids the knowledge base does not have (``known`` is e.g. ``kb.get``): should be none."""
    return sorted(entry for entry in tip_entry_ids() if known(entry) is None)


def _scores(answer: ReviewAnswer) -> dict[str, Any]:
    try:
        value = json.loads(answer.scores or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def next_step(scores: dict[str, Any]) -> int:
    """The index of the first question not yet answered, or COMMENT_STEP."""
    for index, question in enumerate(QUESTIONS):
        if question.key not in scores:
            return index
    return COMMENT_STEP


@dataclass(frozen=True)
class Progress:
    """Where one person is in a check-in."""

    answer_id: int
    step: int  # a question index, or COMMENT_STEP
    completed: bool
    partnership_name: str
    partnership_chat_id: int
    slot_local: datetime


async def _progress(session: AsyncSession, answer: ReviewAnswer) -> Progress:
    occurrence_row = await session.get(ReviewOccurrence, answer.occurrence_id)
    partnership = await session.get(Partnership, answer.partnership_id)
    assert occurrence_row is not None and partnership is not None
    return Progress(answer.id or 0, next_step(_scores(answer)), answer.completed_at is not None, partnership.name,
                    partnership.chat_id, occurrence_row.slot_at.astimezone(ZoneInfo(partnership.timezone)))


async def start_answering(database: Database, occurrence_id: int, *, chat_id: int, user_id: int,
                          now: datetime) -> Progress:
    """Begin (or carry on with) one person's answers to the check-in of a nudge seen in ``chat_id``."""
    async with database.session() as session:
        found = await _live_occurrence(session, occurrence_id, chat_id)
        if found.occurrence.status not in LIVE_STATUSES:
            raise NudgeClosed("This check-in was snoozed or skipped, so there is nothing to answer yet.")
        if found.partnership.status == "stopped":
            raise NudgeClosed("This partnership's reviews have been stopped.")
        answer = (await session.exec(select(ReviewAnswer).where(ReviewAnswer.occurrence_id == occurrence_id,
                                                                 ReviewAnswer.user_id == user_id))).first()
        if answer is None:
            answer = ReviewAnswer(occurrence_id=occurrence_id, partnership_id=found.partnership.id or 0,
                                  user_id=user_id, started_at=now)
            session.add(answer)
            try:
                await session.commit()
            except IntegrityError:  # the same tap twice at once
                await session.rollback()
                answer = (await session.exec(select(ReviewAnswer).where(
                    ReviewAnswer.occurrence_id == occurrence_id, ReviewAnswer.user_id == user_id))).one()
        return await _progress(session, answer)


async def _own_answer(session: AsyncSession, answer_id: int, user_id: int) -> ReviewAnswer:
    answer = await session.get(ReviewAnswer, answer_id)
    if answer is None or answer.user_id != user_id:
        raise NotAllowed
    return answer


async def record_score(database: Database, answer_id: int, *, user_id: int, step: int, value: str
                       ) -> Progress:
    """Save one tap (only the owner's, only a value the question offers); returns the next step."""
    if not 0 <= step < len(QUESTIONS):
        raise NotAllowed
    question = QUESTIONS[step]
    allowed = {v for _, v in options_for(question)}
    if value not in allowed:
        raise NotAllowed
    async with database.session() as session:
        answer = await _own_answer(session, answer_id, user_id)
        if answer.completed_at is not None:
            raise NudgeClosed("You've already finished this check-in: thank you!")
        scores = _scores(answer)
        scores[question.key] = value if question.kind == "stage" else int(value)
        answer.scores = json.dumps(scores)
        session.add(answer)
        await session.commit()
        return await _progress(session, answer)


@dataclass(frozen=True)
class Change:
    label: str
    before: float
    after: float

    @property
    def arrow(self) -> str:
        delta = self.after - self.before
        return "↑" if delta >= 0.5 else "↓" if delta <= -0.5 else "→"


@dataclass(frozen=True)
class Tip:
    label: str
    entry_ids: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    """The result of one check-in: averages only (never one person's answers), changes and tips."""

    partnership_id: int
    occurrence_id: int
    chat_id: int
    name: str
    slot_local: datetime
    respondents: int
    partial: int
    averages: dict[str, float]
    stage: str | None
    comments: list[str]
    previous_local: datetime | None
    changes: list[Change]
    stage_before: str | None
    tips: list[Tip]
    updated: bool = False


def _aggregate(answers: Sequence[ReviewAnswer]) -> tuple[dict[str, float], str | None]:
    averages: dict[str, float] = {}
    for key in NUMERIC_KEYS:
        values = [s[key] for s in map(_scores, answers) if isinstance(s.get(key), int)]
        if values:
            averages[key] = round(sum(values) / len(values), 2)
    stages = Counter(s["stage"] for s in map(_scores, answers) if s.get("stage") in STAGES)
    # On a tie the later (more worrying) stage in the list wins: frustration and failing should be seen.
    stage = max(stages, key=lambda s: (stages[s], s in LOW_STAGES)) if stages else None
    return averages, stage


def tips_for(averages: dict[str, float], stage: str | None) -> list[Tip]:
    tips = [Tip(QUESTION_BY_KEY[key].label, QUESTION_BY_KEY[key].tips)
            for key in NUMERIC_KEYS if key in averages and averages[key] <= LOW_SCORE]
    if stage in STAGE_TIPS:
        tips.append(Tip(f"Stage: {stage}", STAGE_TIPS[stage]))
    return tips


async def _answers_of(session: AsyncSession, occurrence_id: int) -> list[ReviewAnswer]:
    return list((await session.exec(select(ReviewAnswer).where(ReviewAnswer.occurrence_id == occurrence_id)
                                    .order_by(col(ReviewAnswer.id)))).all())


async def _build_summary(session: AsyncSession, occurrence_row: ReviewOccurrence, partnership: Partnership,
                         *, updated: bool = False) -> Summary | None:
    answers = [a for a in await _answers_of(session, occurrence_row.id or 0) if _scores(a)]
    if not answers:
        return None
    averages, stage = _aggregate(answers)
    previous = (await session.exec(
        select(ReviewOccurrence).where(ReviewOccurrence.partnership_id == partnership.id,
                                       col(ReviewOccurrence.slot_at) < occurrence_row.slot_at,
                                       col(ReviewOccurrence.id).in_(select(ReviewAnswer.occurrence_id)))
        .order_by(col(ReviewOccurrence.slot_at).desc()))).all()
    changes: list[Change] = []
    previous_local, stage_before = None, None
    for candidate in previous:
        before_answers = [a for a in await _answers_of(session, candidate.id or 0) if _scores(a)]
        if not before_answers:
            continue
        before, stage_before = _aggregate(before_answers)
        previous_local = candidate.slot_at.astimezone(ZoneInfo(partnership.timezone))
        changes = [Change(QUESTION_BY_KEY[k].label, before[k], averages[k]) for k in NUMERIC_KEYS
                   if k in before and k in averages]
        break
    return Summary(partnership_id=partnership.id or 0, occurrence_id=occurrence_row.id or 0,
                   chat_id=partnership.chat_id, name=partnership.name,
                   slot_local=occurrence_row.slot_at.astimezone(ZoneInfo(partnership.timezone)),
                   respondents=sum(a.completed_at is not None for a in answers),
                   partial=sum(a.completed_at is None for a in answers), averages=averages, stage=stage,
                   comments=[a.comment for a in answers if a.comment], previous_local=previous_local,
                   changes=changes, stage_before=stage_before, tips=tips_for(averages, stage), updated=updated)


async def finish_answering(database: Database, answer_id: int, *, user_id: int, comment: str | None,
                           now: datetime) -> Summary | None:
    """Complete one person's check-in; returns the summary to post when it is now due (else None).

    The summary is due when everyone who started has finished (claimed once, by a conditional update of
    ``closed_at``); a late answer after the summary was posted returns an updated summary.
    """
    text = " ".join(comment.split()) if comment else None
    if text and len(text) > MAX_COMMENT:
        raise ReviewInputError(f"That's {len(text)} characters: please keep it under {MAX_COMMENT}.")
    async with database.session() as session:
        answer = await _own_answer(session, answer_id, user_id)
        if answer.completed_at is not None:
            raise NudgeClosed("You've already finished this check-in: thank you!")
        if next_step(_scores(answer)) != COMMENT_STEP:
            raise NotAllowed
        answer.comment, answer.completed_at = text or None, now
        session.add(answer)
        await session.commit()
        occurrence_row = await session.get(ReviewOccurrence, answer.occurrence_id)
        partnership = await session.get(Partnership, answer.partnership_id)
        assert occurrence_row is not None and partnership is not None
        if occurrence_row.closed_at is not None:
            return await _build_summary(session, occurrence_row, partnership, updated=True)
        unfinished = (await session.exec(select(func.count()).select_from(ReviewAnswer).where(
            ReviewAnswer.occurrence_id == occurrence_row.id, col(ReviewAnswer.completed_at).is_(None)))).one()
        if unfinished:
            return None
        if not await _close(session, occurrence_row.id or 0, now):
            return None
        return await _build_summary(session, occurrence_row, partnership)


async def _close(session: AsyncSession, occurrence_id: int, now: datetime) -> bool:
    result = await session.exec(update(ReviewOccurrence).where(
        col(ReviewOccurrence.id) == occurrence_id, col(ReviewOccurrence.closed_at).is_(None))
        .values(closed_at=now).execution_options(synchronize_session=False))
    await session.commit()
    return bool(result.rowcount)


async def close_expired_checkins(database: Database, now: datetime) -> list[Summary]:
    """Check-ins open for CHECKIN_WINDOW: closed once, with a summary when anyone answered."""
    cutoff = now - CHECKIN_WINDOW
    summaries: list[Summary] = []
    async with database.session() as session:
        rows = (await session.exec(select(ReviewOccurrence, Partnership)
                                   .join(Partnership, col(Partnership.id) == ReviewOccurrence.partnership_id)
                                   .where(col(ReviewOccurrence.status).in_(LIVE_STATUSES),
                                          col(ReviewOccurrence.closed_at).is_(None),
                                          func.coalesce(ReviewOccurrence.sent_at, ReviewOccurrence.claimed_at)
                                          <= cutoff))).all()
        for occurrence_row, partnership in rows:
            if await _close(session, occurrence_row.id or 0, now):
                summary = await _build_summary(session, occurrence_row, partnership)
                if summary is not None:
                    summaries.append(summary)
    return summaries


# -- history, CSV -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryRow:
    occurrence_id: int
    slot_local: datetime
    status: str
    late: bool
    snoozes: int
    respondents: int
    partial: int
    averages: dict[str, float]
    stage: str | None
    comments: list[str]


async def history(database: Database, partnership_id: int) -> list[HistoryRow]:
    """Every nudge that went out (or was skipped), oldest first, with the averages of its answers."""
    async with database.session() as session:
        partnership = await session.get(Partnership, partnership_id)
        if partnership is None:
            return []
        zone = ZoneInfo(partnership.timezone)
        occurrences = (await session.exec(select(ReviewOccurrence).where(
            ReviewOccurrence.partnership_id == partnership_id,
            col(ReviewOccurrence.status).not_in(("pending", "cancelled", "sending")))
            .order_by(col(ReviewOccurrence.slot_at), col(ReviewOccurrence.id)))).all()
        answers = (await session.exec(select(ReviewAnswer).where(
            ReviewAnswer.partnership_id == partnership_id))).all()
    by_occurrence: dict[int, list[ReviewAnswer]] = {}
    for answer in answers:
        if _scores(answer):
            by_occurrence.setdefault(answer.occurrence_id, []).append(answer)
    rows = []
    for row in occurrences:
        given = by_occurrence.get(row.id or 0, [])
        averages, stage = _aggregate(given)
        rows.append(HistoryRow(row.id or 0, row.slot_at.astimezone(zone), row.status, row.late, row.snoozes,
                               sum(a.completed_at is not None for a in given),
                               sum(a.completed_at is None for a in given), averages, stage,
                               [a.comment for a in given if a.comment]))
    return rows


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def history_csv(rows: Sequence[HistoryRow]) -> bytes:
    """The history as CSV (UTF-8 with a BOM so that Excel shows accents); averages only, no names."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "time", "status", "late", "snoozed", "answered", "partly answered",
                     *[QUESTION_BY_KEY[k].label for k in NUMERIC_KEYS], "stage", "raised"])
    for row in rows:
        writer.writerow([_cell(v) for v in (
            row.slot_local.date().isoformat(), f"{row.slot_local:%H:%M}", row.status, "yes" if row.late else "",
            row.snoozes or "", row.respondents, row.partial,
            *[f"{row.averages[k]:.2f}" if k in row.averages else "" for k in NUMERIC_KEYS],
            row.stage or "", " | ".join(row.comments))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# -- privacy hooks -----------------------------------------------------------------------------------
async def export_user_data(database: Database, user_id: int) -> dict[str, Any]:
    """Everything the review feature stores about ``user_id``: what they set up and their answers."""
    async with database.session() as session:
        partnerships = (await session.exec(select(Partnership).where(
            or_(col(Partnership.created_by) == user_id, col(Partnership.chat_id) == user_id))
            .order_by(col(Partnership.id)))).all()
        answers = (await session.exec(select(ReviewAnswer, ReviewOccurrence, Partnership)
                                      .join(ReviewOccurrence, col(ReviewOccurrence.id) == ReviewAnswer.occurrence_id)
                                      .join(Partnership, col(Partnership.id) == ReviewAnswer.partnership_id)
                                      .where(ReviewAnswer.user_id == user_id)
                                      .order_by(col(ReviewAnswer.id)))).all()
    return {
        "review_partnerships": [{
            "id": p.id, "name": p.name, "partners": p.partners, "chat": "private" if p.chat_id == user_id else "group",
            "schedule": describe_schedule(Schedule.of(p)), "status": p.status, "paused_reason": p.paused_reason,
            "set_up_by_you": p.created_by == user_id, "created_at": p.created_at.isoformat()} for p in partnerships],
        "review_answers": [{
            "partnership": p.name, "check_in": o.slot_at.isoformat(), "answers": _scores(a), "raised": a.comment,
            "started_at": a.started_at.isoformat(),
            "completed_at": a.completed_at.isoformat() if a.completed_at else None} for a, o, p in answers],
    }


async def forget_user(database: Database, user_id: int) -> list[tuple[int, str]]:
    """Delete the person's answers and their private partnerships; group partnerships they set up keep
    running for the group but no longer name them. Nobody else needs telling, so no notices."""
    async with database.session() as session:
        await session.exec(delete(ReviewAnswer).where(col(ReviewAnswer.user_id) == user_id))
        private = list((await session.exec(select(Partnership.id).where(Partnership.chat_id == user_id))).all())
        if private:
            await session.exec(delete(ReviewAnswer).where(col(ReviewAnswer.partnership_id).in_(private)))
            await session.exec(delete(ReviewOccurrence).where(col(ReviewOccurrence.partnership_id).in_(private)))
            await session.exec(delete(Partnership).where(col(Partnership.id).in_(private)))
        await session.exec(update(Partnership).where(col(Partnership.created_by) == user_id)
                           .values(created_by=None).execution_options(synchronize_session=False))
        await session.commit()
    return []
