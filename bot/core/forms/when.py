"""Dates and times as people in the UK type them, and the plain-words note for a time the clocks moved.

Dates: "1/3/2027" and "01/03/2027" are 1 March (day first, as in the UK), "1 March", "tomorrow",
"next Monday", "2027-03-01". dateparser reads them (measured against these cases in
tests/test_forms_rules.py); it is told the day comes first, that "now" is the injected clock, and to
prefer the future, so "1 March" typed in April is next year's.
Times: "9.30am", "9:30", "17:00", "5pm", "noon".
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

_TIME_24 = re.compile(r"^(\d{1,2})[:.h]?(\d{2})$")
_TIME_12 = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NAMED_TIMES = {"noon": time(12), "midday": time(12), "midnight": time(0)}


class NotUnderstood(ValueError):
    """The text is not a date (or time) this module can read; the message says how to type one."""


_SETTINGS: dict[str, Any] = {"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future", "PREFER_DAY_OF_MONTH": "first",
                             "RETURN_AS_TIMEZONE_AWARE": False}


def parse_date(text: str, *, today: date) -> date:
    """The date ``text`` names, read the UK way, relative to ``today`` (the person's local date)."""
    value = " ".join(text.strip().lower().split()).rstrip(".")
    if not value:
        raise NotUnderstood("Please type a date, for example 1/3/2027, 1 March or next Monday.")
    if _ISO.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise NotUnderstood(f"“{text[:40]}” is not a real date.") from None
    if value in {"today", "now", "asap", "as soon as possible"}:
        return today
    if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}", value):  # "1/3": day and month, the next one to come
        day, month = (int(part) for part in re.split(r"[/.-]", value))
        return _next_day_month(day, month, today, text)
    settings: dict[str, Any] = {**_SETTINGS, "RELATIVE_BASE": datetime.combine(today, time(12))}
    # dateparser costs 16 MB and its language data; only a form's date question reaches this line.
    import dateparser

    parsed = dateparser.parse(value, languages=["en"], settings=settings)
    if parsed is None:
        raise NotUnderstood(f"“{text[:40]}” is not a date I understand: type it like 1/3/2027, 1 March or "
                            "next Monday.")
    return parsed.date()


def _next_day_month(day: int, month: int, today: date, text: str) -> date:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            raise NotUnderstood(f"“{text[:40]}” is not a real date (day first: 1/3 is 1 March).") from None
        if candidate >= today:
            return candidate
    return candidate


def parse_time(text: str) -> time:
    """A time of day: "9.30am", "9:30", "0930", "17:00", "5pm", "noon"."""
    value = " ".join(text.strip().lower().split()).replace(" o'clock", "").replace("oclock", "").strip()
    if value in _NAMED_TIMES:
        return _NAMED_TIMES[value]
    hour = minute = -1
    if match := _TIME_24.match(value):
        hour, minute = int(match[1]), int(match[2])
    elif match := _TIME_12.match(value):
        twelve = int(match[1])
        if 1 <= twelve <= 12:
            hour = twelve % 12 + (12 if match[3].startswith("p") else 0)
            minute = int(match[2] or 0)
    elif value.isdigit() and len(value) <= 2:
        hour, minute = int(value), 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise NotUnderstood(f"“{text[:40]}” is not a time I understand: type it like 9.30am, 09:30 or 17:00.")
    return time(hour, minute)


def clock_change_note(wanted: time, actual: datetime) -> str | None:
    """Plain words for a time the clocks moved: None when ``actual`` (aware, local) is at ``wanted``.

    The schedule moves a time that does not exist on the spring-forward day by the length of the gap
    (01:30 becomes 02:30); the person should be told why rather than find a different time.
    """
    if actual.time().replace(second=0, microsecond=0) == wanted.replace(second=0, microsecond=0):
        return None
    day = f"{actual:%a} {actual.day} {actual:%b %Y}"
    before = actual.utcoffset() or timedelta(0)
    earlier = (actual - timedelta(hours=3)).astimezone(actual.tzinfo).utcoffset() or timedelta(0)
    direction = "forward" if before > earlier else "back"
    return (f"On {day} the clocks go {direction} an hour, so {wanted:%H:%M} does not happen that day: "
            f"that check-in is at {actual:%H:%M} instead.")
