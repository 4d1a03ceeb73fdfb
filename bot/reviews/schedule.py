"""Schedules and their occurrences, computed in the partnership's own local time with :mod:`zoneinfo`.

So 09:00 Europe/London stays 09:00 on the wall in winter and in summer:

* a local time that does not exist on the spring-forward day moves forward by the gap (01:30 on the
  day the clocks go from 01:00 to 02:00 becomes 02:30);
* a local time that happens twice on the fall-back day is sent once, at the first of the two.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.reviews.errors import ReviewInputError
from bot.reviews.inputs import CADENCES, LAST_DAY, WEEKDAY_NAMES, WEEKLY_CADENCES, Cadence, parse_timezone
from db.review_models import Partnership


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
        if self.cadence in WEEKLY_CADENCES:
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
    return {Cadence.WEEKLY: 7, Cadence.FORTNIGHTLY: 14, Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3}[
        Cadence(schedule.cadence)]


def _first_month_index(schedule: Schedule) -> int:
    index = schedule.start.year * 12 + schedule.start.month - 1
    assert schedule.day is not None
    if _month_day(schedule.start.year, schedule.start.month, schedule.day) < schedule.start:
        index += 1
    return index


def slot_date(schedule: Schedule, n: int) -> date:
    """The local date of the ``n``-th occurrence (from 0) of the series."""
    if schedule.cadence in WEEKLY_CADENCES:
        assert schedule.weekday is not None
        first = schedule.start + timedelta(days=(schedule.weekday - schedule.start.weekday()) % 7)
        return first + timedelta(days=n * _step(schedule))
    assert schedule.day is not None
    year, month0 = divmod(_first_month_index(schedule) + n * _step(schedule), 12)
    return _month_day(year, month0 + 1, schedule.day)


def _index_at_or_before(schedule: Schedule, day: date) -> int:
    """An index whose slot is on or before ``day`` (0 if none): a start point for searching forwards."""
    if schedule.cadence in WEEKLY_CADENCES:
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
    if schedule.cadence in WEEKLY_CADENCES:
        assert schedule.weekday is not None
        every = "every" if schedule.cadence == Cadence.WEEKLY else "every other"
        return f"{schedule.cadence}: {every} {WEEKDAY_NAMES[schedule.weekday]} {at}"
    day = "the last day" if schedule.day == LAST_DAY else f"day {schedule.day}"
    return f"{schedule.cadence} on {day} of the month {at}"


def format_local(moment: datetime) -> str:
    """"Mon 4 Jan 2027, 09:00" in the moment's own zone."""
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M}"
