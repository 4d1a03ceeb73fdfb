"""``partnerbot reviews ...``: add a partnership's check-ins, list them, and check the schedule.

For admins and for checking the rules: ``next`` computes occurrences from the schedule alone (local time
and UTC, across clock changes); ``due`` shows what the dispatcher would send at an instant, without
sending or claiming anything. Every bad value stops with one friendly line and exit status 2.

The rules (and through them SQLAlchemy) are imported inside each command, so ``partnerbot --help`` stays quick.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bot.core.commands import fail, settings_or_exit, with_database

if TYPE_CHECKING:
    from bot.reviews.dispatch import DuePreview
    from bot.reviews.partnerships import PartnershipView

T = TypeVar("T")

app = typer.Typer(help="Review nudges: add, list, next occurrences, what is due.", no_args_is_help=True,
                  rich_markup_mode=None)


def _checked(parse: Callable[[], T], option: str) -> T:
    from bot.reviews.errors import ReviewInputError

    try:
        return parse()
    except ReviewInputError as exc:
        fail(f"{option}: {exc}")


@app.command()
def add(
    chat_id: Annotated[int, typer.Option("--chat-id", help="Where nudges go: a person's id, or a group's id "
                                                           "(negative).")],
    name: Annotated[str, typer.Option("--name", help="The partnership's name.")],
    cadence: Annotated[str, typer.Option("--cadence", help="weekly, fortnightly, monthly or quarterly.")],
    time_of_day: Annotated[str, typer.Option("--time", help="Local time of day, HH:MM (24-hour).")],
    start: Annotated[str, typer.Option("--start", help="First date, YYYY-MM-DD.")],
    tz: Annotated[str | None, typer.Option("--tz", help="IANA time zone (default: DEFAULT_TIMEZONE).")] = None,
    day: Annotated[str | None, typer.Option("--day", help="For monthly and quarterly: 1-28 or last.")] = None,
    weekday: Annotated[str | None, typer.Option("--weekday", help="For weekly and fortnightly: mon..sun.")] = None,
    partners: Annotated[str, typer.Option("--partners", help="Partner organisations, comma separated.")] = "",
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON (id, schedule, first nudge).")] = False,
) -> None:
    """Add a partnership's check-in schedule; says what it created and when the first nudge goes."""
    from bot.reviews.inputs import (
        WEEKLY_CADENCES,
        parse_cadence,
        parse_date,
        parse_day,
        parse_name,
        parse_partners,
        parse_time,
        parse_timezone,
        parse_weekday,
    )
    from bot.reviews.partnerships import create_partnership
    from bot.reviews.schedule import Schedule, describe_schedule, format_local

    settings = settings_or_exit()
    cadence_value = _checked(lambda: parse_cadence(cadence), "--cadence")
    weekly = cadence_value in WEEKLY_CADENCES
    if weekly and weekday is None:
        fail(f"--weekday: a {cadence_value} schedule needs --weekday (mon, tue, ... sun).")
    if not weekly and day is None:
        fail(f"--day: a {cadence_value} schedule needs --day (1 to 28, or last).")
    if weekly and day is not None:
        fail(f"--day: is for monthly and quarterly schedules; a {cadence_value} one uses --weekday.")
    if not weekly and weekday is not None:
        fail(f"--weekday: is for weekly and fortnightly schedules; a {cadence_value} one uses --day.")
    schedule = _checked(lambda: Schedule(
        cadence=cadence_value,
        local_time=_checked(lambda: parse_time(time_of_day), "--time"),
        timezone=_checked(lambda: parse_timezone(tz or settings.default_timezone), "--tz"),
        start=_checked(lambda: parse_date(start), "--start"),
        weekday=_checked(lambda: parse_weekday(weekday), "--weekday") if weekly and weekday else None,
        day=_checked(lambda: parse_day(day), "--day") if not weekly and day else None), "--cadence")
    clean_name = _checked(lambda: parse_name(name), "--name")
    partner_list = _checked(lambda: parse_partners(partners), "--partners")

    async def _add(database: Any, _settings: Any) -> tuple[int, Any]:
        from db.types import utcnow

        async with database.transaction() as session:
            partnership, first = await create_partnership(session=session, chat_id=chat_id, created_by=None,
                                                          name=clean_name, partners=partner_list, schedule=schedule,
                                                          now=utcnow())
        return partnership.id or 0, first

    new_id, first = with_database(_add)
    local = first.utc.astimezone(schedule.zone)
    if json_output:
        typer.echo(json.dumps({"id": new_id, "name": clean_name, "chat_id": chat_id,
                               "schedule": describe_schedule(schedule), "first_nudge_local": local.isoformat(),
                               "first_nudge_utc": first.utc.isoformat()}, ensure_ascii=False))
        return
    where = "a group" if chat_id < 0 else "a private chat"
    typer.echo(f"Added partnership {new_id}, “{clean_name}”, nudged in {where} (chat {chat_id}): "
               f"{describe_schedule(schedule)}.")
    typer.echo(f"First nudge: {format_local(local)} {schedule.timezone} ({first.utc:%Y-%m-%d %H:%M} UTC).")


@app.command("list")
def list_command(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                 include_stopped: Annotated[bool, typer.Option("--all", help="Include stopped ones.")] = False
                 ) -> None:
    """List the partnerships, their schedules and their next nudge."""
    from bot.reviews.inputs import LAST_DAY, WEEKDAYS
    from bot.reviews.partnerships import list_partnerships
    from bot.reviews.schedule import describe_schedule, format_local

    async def _list(database: Any, _settings: Any) -> list[PartnershipView]:
        async with database.transaction() as session:
            return await list_partnerships(session=session, include_stopped=include_stopped)

    views = with_database(_list)
    if json_output:
        typer.echo(json.dumps([{
            "id": v.partnership.id, "chat_id": v.partnership.chat_id, "name": v.partnership.name,
            "partners": v.partnership.partners, "cadence": v.schedule.cadence,
            "weekday": WEEKDAYS[v.schedule.weekday] if v.schedule.weekday is not None else None,
            "day": ("last" if v.schedule.day == LAST_DAY else v.schedule.day),
            "time": f"{v.schedule.local_time:%H:%M}", "tz": v.schedule.timezone, "start": v.schedule.start.isoformat(),
            "status": v.partnership.status, "paused_reason": v.partnership.paused_reason,
            "next": {"local": v.next_local.isoformat(), "utc": v.next_due.isoformat()} if v.next_due and v.next_local
            else None, "delivery_problems": [p.as_json() for p in v.problems]} for v in views],
            indent=2, ensure_ascii=False))
        return
    if not views:
        typer.echo("No partnerships yet: add one with `partnerbot reviews add` or /partnership in Telegram.")
        return
    for v in views:
        nxt = format_local(v.next_local) if v.next_local else "-"
        reason = f" ({v.partnership.paused_reason})" if v.partnership.paused_reason else ""
        typer.echo(f"{v.partnership.id}\t{v.partnership.name}\tchat {v.partnership.chat_id}\t"
                   f"{describe_schedule(v.schedule)}\t{v.partnership.status}{reason}\tnext: {nxt}")
        for problem in v.problems:
            typer.echo(f"\t! nudge of {problem.slot_at:%Y-%m-%d %H:%M} UTC {problem.status}: {problem.reason or ''}")


@app.command("next")
def next_command(
    partnership_id: Annotated[int, typer.Argument(help="The partnership id (see `reviews list`).")],
    count: Annotated[int, typer.Option("--count", help="How many occurrences (1-500).")] = 5,
    after: Annotated[str | None, typer.Option("--after", help="ISO date-time to start after (default: now); "
                                                              "without an offset it is the partnership's "
                                                              "local time.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The next N occurrences of the schedule after now (or after --after), in local time and UTC."""
    from bot.reviews.inputs import parse_instant
    from bot.reviews.partnerships import get_partnership
    from bot.reviews.schedule import Schedule, format_local, next_occurrences

    if not 1 <= count <= 500:
        fail("--count: must be between 1 and 500.")

    async def _get(database: Any, _settings: Any) -> Any:
        async with database.transaction() as session:
            return await get_partnership(session=session, partnership_id=partnership_id)

    partnership = with_database(_get)
    if partnership is None:
        fail(f"No partnership with id {partnership_id} (see `partnerbot reviews list`).")
    schedule = Schedule.of(partnership)
    if after is None:
        from db.types import utcnow

        start: datetime = utcnow()
    else:
        start = _checked(lambda: parse_instant(after, schedule.timezone), "--after")
    found = next_occurrences(schedule, start, count)
    if json_output:
        typer.echo(json.dumps([o.as_json() for o in found], indent=2))
        return
    for o in found:
        typer.echo(f"{o.local.isoformat()}\t{o.utc.isoformat()}\t{format_local(o.local)}")


@app.command()
def due(
    at: Annotated[str, typer.Option("--at", help="ISO date-time; without an offset it is DEFAULT_TIMEZONE.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What the dispatcher would send at that instant, without sending (or claiming) anything."""
    from bot.reviews.dispatch import due_at
    from bot.reviews.inputs import parse_instant

    settings = settings_or_exit()
    instant = _checked(lambda: parse_instant(at, settings.default_timezone), "--at")

    async def _due(database: Any, _settings: Any) -> list[DuePreview]:
        async with database.transaction() as session:
            return await due_at(session=session, at=instant)

    previews = with_database(_due)
    if json_output:
        typer.echo(json.dumps([p.as_json() for p in previews], indent=2, ensure_ascii=False))
        return
    if not previews:
        typer.echo("Nothing would be sent at that time.")
    for p in previews:
        late = " (late)" if p.late else ""
        typer.echo(f"{p.partnership_id}\t{p.name}\tchat {p.chat_id}\t{p.due_local.isoformat()}{late}")
