"""Reading what people type (in the chat or on the command line), with friendly errors."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.text import clean_line, clean_text
from bot.reviews.errors import ReviewInputError
from db.review_models import MAX_PARTNERS_TEXT, MAX_PARTNERSHIP_NAME


class Cadence(StrEnum):
    """How often a partnership is nudged (stored as its value in ``review_partnership.cadence``)."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


CADENCES = tuple(Cadence)
#: Cadences on a day of the week (the others are on a day of the month).
WEEKLY_CADENCES = (Cadence.WEEKLY, Cadence.FORTNIGHTLY)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LAST_DAY = -1
MAX_PARTNERS = 12
MAX_PARTNER_NAME = 100
MAX_FUTURE_START = timedelta(days=2 * 366)


# -- input parsing (shared by the chat and the command line) --------------------------------------
def parse_name(text: str) -> str:
    name = clean_line(text)
    if not name:
        raise ReviewInputError("Please type a name for the partnership.")
    if len(name) > MAX_PARTNERSHIP_NAME:
        raise ReviewInputError(f"That name is {len(name)} characters: please keep it under "
                               f"{MAX_PARTNERSHIP_NAME}.")
    return name


def parse_partners(text: str) -> list[str]:
    """Organisation names separated by commas (or new lines), duplicates dropped, bounded in size."""
    names: list[str] = []
    for raw in re.split(r"[,;\n]", clean_text(text)):
        name = clean_line(raw)
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


def parse_cadence(text: str) -> Cadence:
    text = clean_line(text)
    value = text.strip().lower()
    if value not in CADENCES:
        raise ReviewInputError(f"“{text}” is not a cadence: use weekly, fortnightly, monthly or quarterly.")
    return Cadence(value)


def parse_weekday(text: str) -> int:
    text = clean_line(text)
    value = text.strip().lower()
    for index, name in enumerate(WEEKDAY_NAMES):
        if len(value) >= 3 and name.lower().startswith(value):
            return index
    raise ReviewInputError(f"“{text}” is not a weekday: use mon, tue, wed, thu, fri, sat or sun.")


def parse_day(text: str) -> int:
    text = clean_line(text)
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
    text = clean_line(text)
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
    text = clean_line(text)
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
    text = clean_line(text)
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
    text = clean_line(text)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReviewInputError(f"“{text[:40]}” is not an ISO date-time: use e.g. 2027-03-29T09:00 "
                               "or 2027-03-29T08:00:00+00:00.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(default_zone))
    return value.astimezone(UTC)
