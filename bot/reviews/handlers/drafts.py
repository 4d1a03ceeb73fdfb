"""The /partnership set-up form's steps: the draft kept per person and chat, and what each typed or
tapped answer does to it. Each step reads what people type as they type it: "monthly", "weds", "9.30am",
"london", "UK", "01/03/2027", "next Monday"; an unclear time zone offers buttons to choose from; a time
the clocks skip is explained in plain words before the person saves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton
from telegram.ext import ContextTypes

from bot.core.forms.typed import Option, choose, parse_number, parse_weekday
from bot.core.forms.when import NotUnderstood, clock_change_note, parse_date, parse_time
from bot.core.forms.zones import resolve_zone
from bot.core.services import services
from bot.reviews.errors import ReviewInputError
from bot.reviews.handlers.common import COMMON_TIMES, SETUP, SETUP_KEY, SetupMode, button
from bot.reviews.inputs import (
    CADENCES,
    MAX_FUTURE_START,
    WEEKDAY_NAMES,
    WEEKLY_CADENCES,
    Cadence,
    parse_day,
    parse_name,
    parse_partners,
)
from bot.reviews.schedule import Schedule, describe_schedule, format_local, next_occurrences
from knowledge.render import escape

STEP_NAME, STEP_PARTNERS, STEP_CADENCE, STEP_DAY, STEP_TIME, STEP_ZONE, STEP_START, STEP_CONFIRM = (
    "name", "partners", "cadence", "day", "time", "zone", "start", "confirm")
STEP_SURE = "sure"  # "that reads like a question: use it anyway?"
ORDER = (STEP_NAME, STEP_PARTNERS, STEP_CADENCE, STEP_DAY, STEP_TIME, STEP_ZONE, STEP_START, STEP_CONFIRM)
#: Which button (rs:<field>) belongs to which step; anything else is an old button of another step.
BUTTON_STEPS = {"p": STEP_PARTNERS, "c": STEP_CADENCE, "w": STEP_DAY, "d": STEP_DAY, "t": STEP_TIME,
                "z": STEP_ZONE, "s": STEP_START, "ok": STEP_CONFIRM, "y": STEP_SURE}
#: What a change from /partnerships asks: one field (name, partners) or the schedule from cadence on.
MODES = {SetupMode.NAME: STEP_NAME, SetupMode.PARTNERS: STEP_PARTNERS, SetupMode.SCHEDULE: STEP_CADENCE}


@dataclass(frozen=True)
class Prompt:
    """The next set-up question: text, buttons, and whether a typed answer is expected."""

    text: str
    rows: list[list[InlineKeyboardButton]] = field(default_factory=list)
    typed: bool = False


def get_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> dict[str, Any] | None:
    if context.user_data is None:
        return None
    return context.user_data.get(SETUP_KEY, {}).get(str(chat_id))


def new_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int, **values: Any) -> dict[str, Any]:
    assert context.user_data is not None
    draft = dict(values)
    context.user_data.setdefault(SETUP_KEY, {})[str(chat_id)] = draft
    return draft


def clear_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    if context.user_data is not None:
        drafts = context.user_data.get(SETUP_KEY, {})
        drafts.pop(str(chat_id), None)
        if not drafts:
            context.user_data.pop(SETUP_KEY, None)


def first_step(draft: dict[str, Any]) -> str:
    return MODES.get(draft.get("mode", ""), STEP_NAME)


def previous_step(draft: dict[str, Any], step: str) -> str | None:
    """The step before ``step`` in this draft's form (None at its first step)."""
    start = ORDER.index(first_step(draft))
    index = ORDER.index(step) if step in ORDER else start
    return ORDER[index - 1] if index > start else None


# -- the questions ------------------------------------------------------------------------------------
def prompt_for(context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], step: str) -> Prompt:
    """The question of ``step`` (also used to ask it again after Back or a question typed mid-form)."""
    svc = services(context)
    if step == STEP_NAME:
        if draft.get("mode") == SetupMode.NAME:
            return Prompt(f"What's the new name for <b>{escape(draft.get('name', ''))}</b>?", typed=True)
        return Prompt("<b>What's the partnership called?</b>", typed=True)
    if step == STEP_PARTNERS:
        changing = draft.get("mode") == SetupMode.PARTNERS
        skip = [] if changing else [[button("Skip", SETUP, "p")]]
        now = f"\nNow: {escape(draft['partners'])}" if changing and draft.get("partners") else ""
        return Prompt("<b>Which organisations are in the partnership?</b> Type their names separated by commas"
                      + (", or tap Skip." if skip else ".") + now, skip, typed=True)
    if step == STEP_CADENCE:
        return Prompt("<b>How often should I nudge you?</b>",
                      [[button("Weekly", SETUP, "c", Cadence.WEEKLY), button("Fortnightly", SETUP, "c",
                                                                                 Cadence.FORTNIGHTLY)],
                       [button("Monthly", SETUP, "c", Cadence.MONTHLY), button("Quarterly", SETUP, "c",
                                                                               Cadence.QUARTERLY)]],
                      typed=True)
    if step == STEP_DAY:
        if draft.get("cadence") in WEEKLY_CADENCES:
            days = [button(name[:3], SETUP, "w", index) for index, name in enumerate(WEEKDAY_NAMES)]
            return Prompt("<b>On which day of the week?</b> Tap one or type it.", [days[:4], days[4:]], typed=True)
        return Prompt("<b>On which day of the month?</b> Tap one or type a day from 1 to 28.",
                      [[button(str(d), SETUP, "d", d) for d in (1, 7, 14, 21, 28)],
                       [button("Last day of the month", SETUP, "d", "last")]], typed=True)
    if step == STEP_TIME:
        times = [button(t, SETUP, "t", t.replace(":", "")) for t in COMMON_TIMES]
        return Prompt("<b>At what time?</b> Tap one or type it, like 9.30am or 17:00.", [times[:3], times[3:]],
                      typed=True)
    if step == STEP_ZONE:
        choices = draft.get("zone_choices") or []
        if choices:
            return Prompt("<b>Which time zone did you mean?</b> Tap one, or type a city.",
                          [[button(label, SETUP, "z", index)] for index, (_zone, label) in enumerate(choices)],
                          typed=True)
        zone = draft.get("tz") or svc.settings.default_timezone
        return Prompt(f"<b>Which time zone?</b> Tap to keep <b>{escape(zone)}</b>, or type a city, a country or "
                      "an abbreviation (Dublin, Spain, GMT).", [[button(f"✅ {zone}", SETUP, "z")]], typed=True)
    if step == STEP_START:
        return Prompt("<b>When should the first check-in be?</b> Tap one or type a date (1/3/2027, 1 March, "
                      "next Monday).", [[button("As soon as possible", SETUP, "s", "0")],
                                        [button("Next week", SETUP, "s", "7"), button("Next month", SETUP, "s", "m")]],
                      typed=True)
    return _confirm_prompt(context, draft)


def _confirm_prompt(context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any]) -> Prompt:
    schedule = draft_schedule(draft)
    upcoming = next_occurrences(schedule, services(context).clock(), 3)
    when = "\n".join(f"• {format_local(o.local)}" for o in upcoming)
    notes = [note for o in upcoming if (note := clock_change_note(schedule.local_time, o.local))]
    partners = f"\nPartners: {escape(draft['partners'])}" if draft.get("partners") else ""
    moved = ("\n" + "\n".join(f"<i>{escape(n)}</i>" for n in dict.fromkeys(notes))) if notes else ""
    return Prompt(f"<b>{escape(draft.get('name', ''))}</b>{partners}\n"
                  f"Check-ins {escape(describe_schedule(schedule))}.\nThe next ones:\n{when}{moved}\n\n"
                  "Shall I save this?", [[button("✅ Save", SETUP, "ok")]])


# -- the answers ---------------------------------------------------------------------------------------
def apply(context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], step: str, value: str) -> str:
    """Take one answer (typed or tapped) to ``step``; returns the next step. Synchronous on purpose: the
    draft is changed before the bot awaits anything, so a quick second tap sees the new step.

    Raises ReviewInputError with the friendly reason when the answer cannot be used (the step stays).
    """
    svc = services(context)
    if step == STEP_NAME:
        draft["name"] = parse_name(value)
        return STEP_PARTNERS
    if step == STEP_PARTNERS:
        draft["partners"] = ", ".join(parse_partners(value))
        return STEP_CADENCE
    if step == STEP_CADENCE:
        reading = choose(value, [Option(c, c.capitalize(), (c[:-2] if c.endswith("ly") else c,))
                                 for c in CADENCES] + [Option(Cadence.FORTNIGHTLY, "every two weeks",
                                                              ("biweekly", "every other week", "two weeks")),
                                                       Option(Cadence.QUARTERLY, "every three months",
                                                              ("every quarter", "three months"))])
        if reading.value is None:
            raise ReviewInputError(f"“{value[:40]}” is not one I know: weekly, fortnightly, monthly or quarterly?")
        draft["cadence"] = str(reading.value)  # the plain value: drafts are kept in persistence
        return STEP_DAY
    if step == STEP_DAY:
        if draft.get("cadence") in WEEKLY_CADENCES:
            weekday = int(value) if value.isdigit() and int(value) < 7 else parse_weekday(value)
            if weekday is None:
                raise ReviewInputError(f"“{value[:40]}” is not a day of the week: type Monday, tue, weds…")
            draft["weekday"], draft["day"] = weekday, None
        else:
            number = parse_number(value, 1, 28)
            draft["day"], draft["weekday"] = (number if number is not None else parse_day(value)), None
        return STEP_TIME
    if step == STEP_TIME:
        if value.isdigit() and len(value) == 4:  # a button: 0930
            value = f"{value[:2]}:{value[2:]}"
        try:
            draft["time"] = f"{parse_time(value):%H:%M}"
        except NotUnderstood as exc:
            raise ReviewInputError(str(exc)) from None
        return STEP_ZONE
    if step == STEP_ZONE:
        choices = draft.get("zone_choices") or []
        if value.isdigit() and int(value) < len(choices):  # a button among the choices offered
            draft["tz"], draft["zone_choices"] = choices[int(value)][0], []
            return STEP_START
        return _apply_zone(draft, value or draft.get("tz") or svc.settings.default_timezone)
    if step == STEP_START:
        today = svc.clock().astimezone(ZoneInfo(draft["tz"])).date()
        draft["start"] = _start_date(value, today).isoformat()
        draft_schedule(draft)  # every field is there and fits together
        return STEP_CONFIRM
    raise ReviewInputError("Please tap ✅ Save, or ⬅️ Back to change something.")


def _apply_zone(draft: dict[str, Any], value: str) -> str:
    reading = resolve_zone(value)
    if reading.zone is not None:
        draft["tz"], draft["zone_choices"] = reading.zone, []
        return STEP_START
    if reading.choices:
        draft["zone_choices"] = [list(choice) for choice in reading.choices]
        return STEP_ZONE
    raise ReviewInputError(f"“{value[:60]}” is not a place or time zone I know: type a city (London, Dublin), a "
                           "country (UK, Spain) or an abbreviation (GMT, CET).")


def _start_date(value: str, today: date) -> date:
    if value in ("0", "7"):
        return today + timedelta(days=int(value))
    if value == "m":
        return (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    try:
        start = parse_date(value, today=today)
    except NotUnderstood as exc:
        raise ReviewInputError(str(exc)) from None
    if start < today:
        raise ReviewInputError(f"{start:%d %B %Y} has already passed: please choose today or a later date.")
    if start > today + MAX_FUTURE_START:
        raise ReviewInputError("That's more than two years away: please choose an earlier first date.")
    return start


def draft_schedule(draft: dict[str, Any]) -> Schedule:
    try:
        return Schedule(cadence=draft["cadence"], local_time=time.fromisoformat(draft["time"]), timezone=draft["tz"],
                        start=date.fromisoformat(draft["start"]), weekday=draft.get("weekday"),
                        day=draft.get("day"))
    except (KeyError, ValueError, TypeError):
        raise ReviewInputError("Something is missing from this set-up: please send /partnership again.") from None
