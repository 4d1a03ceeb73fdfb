"""The /partnership set-up conversation's state and steps: the draft kept per person and chat, and
what each typed or tapped answer does to it (synchronous, so a quick second tap sees the new step)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton
from telegram.ext import ContextTypes

from bot.core.services import services
from bot.reviews.errors import ReviewInputError
from bot.reviews.handlers.common import COMMENT_KEY, COMMON_TIMES, SETUP, SETUP_KEY, SETUP_TIMEOUT, button
from bot.reviews.inputs import (
    WEEKDAY_NAMES,
    parse_cadence,
    parse_date,
    parse_day,
    parse_name,
    parse_partners,
    parse_time,
    parse_timezone,
    parse_weekday,
)
from bot.reviews.schedule import Schedule, describe_schedule, format_local, next_occurrences
from knowledge.render import escape

# -- the set-up conversation ------------------------------------------------------------------------
# The steps are kept in ``context.user_data`` (persisted in the database, so a restart mid-way loses
# nothing) and each step is recorded *before* the bot awaits anything: updates are handled concurrently
# (bot.app), so a quick second tap or message must already see the new step, never the old one.
STEP_NAME, STEP_PARTNERS, STEP_CADENCE, STEP_DAY, STEP_TIME, STEP_ZONE, STEP_START, STEP_CONFIRM, STEP_SAVING = (
    "name", "partners", "cadence", "day", "time", "zone", "start", "confirm", "saving")
#: Which button (rs:<field>) belongs to which step; anything else is an old or forged button.
BUTTON_STEPS = {"p": STEP_PARTNERS, "c": STEP_CADENCE, "w": STEP_DAY, "d": STEP_DAY, "t": STEP_TIME,
                "z": STEP_ZONE, "s": STEP_START, "ok": STEP_CONFIRM}


@dataclass(frozen=True)
class Prompt:
    """The next set-up question: text, buttons, and whether a typed answer is expected."""

    text: str
    rows: list[list[InlineKeyboardButton]] = field(default_factory=list)
    typed: bool = False


def _draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> dict[str, Any] | None:
    if context.user_data is None:
        return None
    return context.user_data.get(SETUP_KEY, {}).get(str(chat_id))


def new_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int, **values: Any) -> dict[str, Any]:
    assert context.user_data is not None
    draft = {"touched": services(context).clock().isoformat(), **values}
    context.user_data.setdefault(SETUP_KEY, {})[str(chat_id)] = draft
    return draft


def clear_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    if context.user_data is not None:
        drafts = context.user_data.get(SETUP_KEY, {})
        drafts.pop(str(chat_id), None)
        if not drafts:
            context.user_data.pop(SETUP_KEY, None)


def live_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> dict[str, Any] | None:
    """The person's set-up in this chat, unless it was abandoned (then it is forgotten)."""
    draft = _draft(context, chat_id)
    if draft is None:
        return None
    try:
        touched = datetime.fromisoformat(draft["touched"])
    except (KeyError, ValueError):
        touched = None
    if touched is None or services(context).clock() - touched > SETUP_TIMEOUT:
        clear_draft(context, chat_id)
        return None
    return draft


def cadence_prompt() -> Prompt:
    return Prompt("<b>How often should I nudge you?</b>",
                  [[button("Weekly", SETUP, "c", "weekly"), button("Fortnightly", SETUP, "c", "fortnightly")],
                   [button("Monthly", SETUP, "c", "monthly"), button("Quarterly", SETUP, "c", "quarterly")]])


def apply(context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], field_name: str, value: str) -> Prompt:
    """Take one answer (typed or tapped) and move the draft to its next step; synchronous on purpose.

    Raises ReviewInputError with the friendly reason when the answer cannot be used (the step stays).
    """
    svc = services(context)
    draft["touched"] = svc.clock().isoformat()
    if field_name == STEP_NAME:
        draft["name"] = parse_name(value)
        draft["step"] = STEP_PARTNERS
        return Prompt("<b>Which organisations are in the partnership?</b> Type their names separated by commas, "
                      "or tap Skip.", [[button("Skip", SETUP, "p")]], typed=True)
    if field_name == STEP_PARTNERS:
        draft["partners"] = ", ".join(parse_partners(value))
        draft["step"] = STEP_CADENCE
        return cadence_prompt()
    if field_name == STEP_CADENCE:
        cadence = parse_cadence(value)
        draft["cadence"], draft["step"] = cadence, STEP_DAY
        if cadence in ("weekly", "fortnightly"):
            days = [button(name[:3], SETUP, "w", index) for index, name in enumerate(WEEKDAY_NAMES)]
            return Prompt("<b>On which day of the week?</b>", [days[:4], days[4:]], typed=True)
        return Prompt("<b>On which day of the month?</b> Tap one or type a day from 1 to 28.",
                      [[button(str(d), SETUP, "d", d) for d in (1, 7, 14, 21, 28)],
                       [button("Last day of the month", SETUP, "d", "last")]], typed=True)
    if field_name == STEP_DAY:
        if draft.get("cadence") in ("weekly", "fortnightly"):
            weekday = int(value) if value.isdigit() and int(value) < 7 else parse_weekday(value)
            draft["weekday"], draft["day"] = weekday, None
        else:
            draft["day"], draft["weekday"] = parse_day(value), None
        draft["step"] = STEP_TIME
        times = [button(t, SETUP, "t", t.replace(":", "")) for t in COMMON_TIMES]
        return Prompt("<b>At what time?</b> Tap one or type a time like 09:30 (24-hour clock).",
                      [times[:3], times[3:]], typed=True)
    if field_name == STEP_TIME:
        if re.fullmatch(r"\d{4}", value):  # a button: 0930
            value = f"{value[:2]}:{value[2:]}"
        draft["time"], draft["step"] = f"{parse_time(value):%H:%M}", STEP_ZONE
        zone = draft.get("tz") or svc.settings.default_timezone
        return Prompt(f"<b>Which time zone?</b> Tap to keep <b>{escape(zone)}</b>, or type another (for example "
                      "Europe/Dublin or Australia/Sydney).", [[button(f"✅ {zone}", SETUP, "z")]], typed=True)
    if field_name == STEP_ZONE:
        draft["tz"] = parse_timezone(value or draft.get("tz") or svc.settings.default_timezone)
        draft["step"] = STEP_START
        return Prompt("<b>When should the first check-in be?</b> Tap one or type a date as YYYY-MM-DD.",
                      [[button("As soon as possible", SETUP, "s", "0")],
                       [button("Next week", SETUP, "s", "7"), button("Next month", SETUP, "s", "m")]], typed=True)
    if field_name == STEP_START:
        today = svc.clock().astimezone(ZoneInfo(draft["tz"])).date()
        if value in ("0", "7"):
            start = today + timedelta(days=int(value))
        elif value == "m":
            start = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            start = parse_date(value, not_before=today)
        draft["start"] = start.isoformat()
        schedule = draft_schedule(draft)
        draft["step"] = STEP_CONFIRM
        upcoming = next_occurrences(schedule, svc.clock(), 3)
        when = "\n".join(f"• {format_local(o.local)}" for o in upcoming)
        partners = f"\nPartners: {escape(draft['partners'])}" if draft.get("partners") else ""
        return Prompt(f"<b>{escape(draft.get('name', ''))}</b>{partners}\n"
                      f"Check-ins {escape(describe_schedule(schedule))}.\nThe next ones:\n{when}\n\n"
                      "Shall I save this?", [[button("✅ Save", SETUP, "ok")]])
    raise ReviewInputError("Please tap ✅ Save or ✖️ Cancel above.")


def draft_schedule(draft: dict[str, Any]) -> Schedule:
    try:
        return Schedule(cadence=draft["cadence"], local_time=time.fromisoformat(draft["time"]), timezone=draft["tz"],
                        start=date.fromisoformat(draft["start"]), weekday=draft.get("weekday"),
                        day=draft.get("day"))
    except (KeyError, ValueError, TypeError):
        raise ReviewInputError("Something is missing from this set-up: please send /partnership again.") from None


def has_review_flow(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> bool:
    pending = context.user_data.get(COMMENT_KEY) if context.user_data is not None else None
    return _draft(context, chat_id) is not None or bool(pending and pending.get("chat") == chat_id)
