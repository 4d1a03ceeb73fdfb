"""The schedule rules: every cadence across both clock changes, in Europe/London and in Australia/Sydney
(the other hemisphere, where the clocks go forward in October and back in April), the spring-forward gap
and the fall-back fold, and the friendly errors for what people type."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reviews.errors import ReviewInputError
from bot.reviews.inputs import CADENCES as CADENCE_NAMES
from bot.reviews.inputs import (
    LAST_DAY,
    parse_cadence,
    parse_date,
    parse_day,
    parse_name,
    parse_partners,
    parse_time,
    parse_timezone,
    parse_weekday,
)
from bot.reviews.schedule import Schedule, next_occurrences, occurrence

LONDON, SYDNEY = "Europe/London", "Australia/Sydney"
NINE = time(9, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def walls(schedule: Schedule, after: datetime, count: int) -> list[tuple[str, str]]:
    """(local wall time with offset, UTC) of the next occurrences, as strings easy to read in a failure."""
    return [(o.local.isoformat(), o.utc.isoformat()) for o in next_occurrences(schedule, after, count)]


CADENCES = [
    Schedule("weekly", NINE, LONDON, date(2027, 1, 1), weekday=0),
    Schedule("fortnightly", NINE, LONDON, date(2027, 1, 1), weekday=2),
    Schedule("monthly", NINE, LONDON, date(2027, 1, 1), day=LAST_DAY),
    Schedule("monthly", NINE, LONDON, date(2027, 1, 1), day=15),
    Schedule("quarterly", NINE, LONDON, date(2027, 1, 1), day=1),
    Schedule("weekly", NINE, SYDNEY, date(2027, 1, 1), weekday=6),
    Schedule("fortnightly", NINE, SYDNEY, date(2027, 1, 1), weekday=4),
    Schedule("monthly", NINE, SYDNEY, date(2027, 1, 1), day=LAST_DAY),
    Schedule("quarterly", NINE, SYDNEY, date(2027, 1, 1), day=LAST_DAY),
]


@pytest.mark.parametrize("schedule", CADENCES, ids=lambda s: f"{s.cadence}-{s.timezone}-{s.weekday}-{s.day}")
def test_every_cadence_stays_at_nine_local_across_both_clock_changes(schedule: Schedule) -> None:
    found = next_occurrences(schedule, utc(2026, 12, 31), 60 if schedule.cadence != "quarterly" else 6)
    assert found[-1].utc > utc(2027, 11, 1), "the run must cross both clock changes of 2027"
    assert all(o.local.time() == NINE for o in found)
    offsets = {o.local.utcoffset() for o in found}
    assert len(offsets) == 2, offsets  # winter and summer time both seen, 09:00 on the wall in each
    for o in found:
        assert o.utc == o.local.astimezone(UTC) and o.local.date() == o.slot_date
    assert [o.utc for o in found] == sorted({o.utc for o in found})  # strictly increasing, no repeats


def test_weekly_and_fortnightly_dates() -> None:
    weekly = Schedule("weekly", NINE, LONDON, date(2027, 3, 17), weekday=0)  # a Wednesday: first Monday is 22nd
    assert walls(weekly, utc(2027, 3, 1), 3) == [
        ("2027-03-22T09:00:00+00:00", "2027-03-22T09:00:00+00:00"),
        ("2027-03-29T09:00:00+01:00", "2027-03-29T08:00:00+00:00"),  # the day after the clocks go forward
        ("2027-04-05T09:00:00+01:00", "2027-04-05T08:00:00+00:00")]
    fortnightly = Schedule("fortnightly", NINE, LONDON, date(2027, 10, 18), weekday=0)
    assert walls(fortnightly, utc(2027, 10, 1), 3) == [
        ("2027-10-18T09:00:00+01:00", "2027-10-18T08:00:00+00:00"),
        ("2027-11-01T09:00:00+00:00", "2027-11-01T09:00:00+00:00"),  # every 14 days from the first
        ("2027-11-15T09:00:00+00:00", "2027-11-15T09:00:00+00:00")]


def test_monthly_last_day_and_quarterly_from_the_first_month() -> None:
    last = Schedule("monthly", NINE, LONDON, date(2027, 1, 1), day=LAST_DAY)
    assert [o.slot_date for o in next_occurrences(last, utc(2027, 1, 1), 4)] == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    leap = Schedule("monthly", NINE, LONDON, date(2028, 2, 1), day=LAST_DAY)
    assert next_occurrences(leap, utc(2028, 2, 1), 1)[0].slot_date == date(2028, 2, 29)
    # Day 10 has passed by 20 January, so the first is in February and the series runs every 3 months from it.
    quarterly = Schedule("quarterly", NINE, LONDON, date(2027, 1, 20), day=10)
    assert [o.slot_date for o in next_occurrences(quarterly, utc(2027, 1, 1), 5)] == [
        date(2027, 2, 10), date(2027, 5, 10), date(2027, 8, 10), date(2027, 11, 10), date(2028, 2, 10)]
    # Asking from the middle of the series gives the same dates as walking from the start.
    assert next_occurrences(quarterly, utc(2027, 6, 1), 2)[0].slot_date == date(2027, 8, 10)


def test_london_spring_forward_gap_moves_on_by_the_gap() -> None:
    # 28 March 2027: the clocks go from 01:00 GMT to 02:00 BST, so 01:30 does not exist that day.
    schedule = Schedule("weekly", time(1, 30), LONDON, date(2027, 3, 1), weekday=6)
    assert walls(schedule, utc(2027, 3, 27), 2) == [
        ("2027-03-28T02:30:00+01:00", "2027-03-28T01:30:00+00:00"),
        ("2027-04-04T01:30:00+01:00", "2027-04-04T00:30:00+00:00")]
    monthly = Schedule("monthly", time(1, 30), LONDON, date(2027, 3, 1), day=28)
    assert walls(monthly, utc(2027, 3, 1), 1) == [("2027-03-28T02:30:00+01:00", "2027-03-28T01:30:00+00:00")]


def test_london_fall_back_fold_is_the_first_of_the_two() -> None:
    # 31 October 2027: 01:30 happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT); only the first is used.
    schedule = Schedule("weekly", time(1, 30), LONDON, date(2027, 10, 1), weekday=6)
    assert walls(schedule, utc(2027, 10, 30), 2) == [
        ("2027-10-31T01:30:00+01:00", "2027-10-31T00:30:00+00:00"),
        ("2027-11-07T01:30:00+00:00", "2027-11-07T01:30:00+00:00")]
    # After the first 01:30 has passed, the second 01:30 is not another occurrence.
    assert walls(schedule, utc(2027, 10, 31, 0, 31), 1) == [("2027-11-07T01:30:00+00:00", "2027-11-07T01:30:00+00:00")]


def test_sydney_gap_in_october_and_fold_in_april() -> None:
    # 3 October 2027: Sydney goes from 02:00 AEST to 03:00 AEDT; 02:30 becomes 03:30.
    spring = Schedule("weekly", time(2, 30), SYDNEY, date(2027, 9, 1), weekday=6)
    assert walls(spring, utc(2027, 10, 1), 2) == [
        ("2027-10-03T03:30:00+11:00", "2027-10-02T16:30:00+00:00"),
        ("2027-10-10T02:30:00+11:00", "2027-10-09T15:30:00+00:00")]
    # 4 April 2027: 03:00 AEDT becomes 02:00 AEST; 02:30 happens twice, the first is used.
    autumn = Schedule("weekly", time(2, 30), SYDNEY, date(2027, 3, 1), weekday=6)
    assert walls(autumn, utc(2027, 4, 2), 2) == [
        ("2027-04-04T02:30:00+11:00", "2027-04-03T15:30:00+00:00"),
        ("2027-04-11T02:30:00+10:00", "2027-04-10T16:30:00+00:00")]
    assert walls(autumn, utc(2027, 4, 3, 15, 31), 1)[0][0] == "2027-04-11T02:30:00+10:00"


@settings(max_examples=150, deadline=None)
@given(cadence=st.sampled_from(CADENCE_NAMES), weekday=st.integers(0, 6),
       day=st.sampled_from([1, 5, 15, 28, LAST_DAY]), hour=st.integers(0, 23), minute=st.sampled_from([0, 30, 45]),
       zone=st.sampled_from([LONDON, SYDNEY, "America/Santiago", "America/New_York", "UTC"]),
       start=st.dates(date(2026, 1, 1), date(2029, 12, 31)), offset_days=st.integers(-400, 2000))
def test_next_occurrences_match_walking_the_series_from_the_start(
        cadence: str, weekday: int, day: int, hour: int, minute: int, zone: str, start: date,
        offset_days: int) -> None:
    schedule = Schedule(cadence, time(hour, minute), zone, start, weekday=weekday, day=day)
    after = datetime.combine(start, time(12), tzinfo=UTC) + timedelta(days=offset_days)
    found = next_occurrences(schedule, after, 3)
    walked = [occurrence(schedule, n) for n in range(0, 400)]
    expected = [o for o in walked if o.utc > after][:3]
    assert found == expected
    for o in found:
        wall = o.local.replace(tzinfo=None)
        intended = datetime.combine(o.slot_date, schedule.local_time)
        # Either the intended wall time, or (in a spring-forward gap) moved on by the gap, never backwards.
        assert wall == intended or timedelta(0) < wall - intended <= timedelta(hours=1)


@pytest.mark.parametrize(("parse", "text", "expected"), [
    (parse_time, "9:05", time(9, 5)), (parse_time, "14.30", time(14, 30)),
    (parse_time, "2pm", time(14, 0)), (parse_time, "12am", time(0, 0)),
    (parse_timezone, "europe/london", LONDON), (parse_timezone, "America/New York", "America/New_York"),
    (parse_weekday, "Monday", 0), (parse_weekday, "sun", 6),
    (parse_day, "last", LAST_DAY), (parse_day, "28", 28),
    (parse_partners, "Age UK, , age uk; Food Bank\nCVS", ["Age UK", "Food Bank", "CVS"]),
])
def test_what_people_type_is_understood(parse: object, text: str, expected: object) -> None:
    assert parse(text) == expected  # type: ignore[operator]


@pytest.mark.parametrize(("parse", "text", "says"), [
    (parse_time, "25:00", "24-hour"), (parse_time, "noonish", "like 09:00"),
    (parse_timezone, "Europe/Londn", "Did you mean Europe/London"),
    (parse_timezone, "../../etc/passwd", "not a time zone"),
    (parse_day, "31", "1 to 28"), (parse_weekday, "someday", "mon, tue"),
    (parse_cadence, "yearly", "weekly, fortnightly"), (parse_name, "   ", "name"),
    (parse_name, "x" * 101, "under 100"),
    (parse_partners, ",".join(f"Org {i}" for i in range(13)), "12"),
    (parse_partners, "y" * 150, "too long"),
])
def test_bad_input_gets_a_friendly_reason(parse: object, text: str, says: str) -> None:
    with pytest.raises(ReviewInputError, match=says):
        parse(text)  # type: ignore[operator]


def test_start_dates_in_the_past_or_far_future_are_refused_in_chat() -> None:
    today = date(2027, 1, 10)
    assert parse_date("2027-01-10", not_before=today) == today
    with pytest.raises(ReviewInputError, match="already passed"):
        parse_date("2027-01-09", not_before=today)
    with pytest.raises(ReviewInputError, match="two years"):
        parse_date("2030-01-01", not_before=today)
    with pytest.raises(ReviewInputError, match="YYYY-MM-DD"):
        parse_date("10/01/2027", not_before=today)


def test_a_schedule_without_its_day_is_refused() -> None:
    with pytest.raises(ReviewInputError, match="weekday"):
        Schedule("weekly", NINE, LONDON, date(2027, 1, 1))
    with pytest.raises(ReviewInputError, match="day of the month"):
        Schedule("monthly", NINE, LONDON, date(2027, 1, 1), day=30)
