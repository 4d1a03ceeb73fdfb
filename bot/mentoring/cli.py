"""``partnerbot mentors ...``: import mentors and mentees from CSV, list them, match the whole cohort.

People are named by the ids admins know them by: the value of the CSV's ``telegram`` column (a numeric
id prints as a number, a username as written), or the Telegram id of someone who signed up in the bot.
The rules are imported inside each command, so ``partnerbot --help`` stays quick.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.core.commands import fail, with_database

app = typer.Typer(help="Mentor buddies: import, list and match.", no_args_is_help=True, rich_markup_mode=None)


def _run(factory: Any) -> Any:
    """Open the database (applying migrations), run ``factory(session)`` as one transaction (committed when it
    returns, rolled back when it raises), close it; errors as one line."""
    async def _work(database: Any, _settings: Any) -> Any:
        async with database.transaction() as session:
            return await factory(session)

    return with_database(_work)


@app.command("import")
def import_command(path: Annotated[Path, typer.Argument(help="CSV with columns role, name, telegram, organisation, "
                                                             "org_type, region, topics, capacity, story.")]) -> None:
    """Import mentors and mentees. Bad rows are listed by line and skipped; the rest are imported.

    Exit status 0 when every row was imported, 1 when some rows were not, 2 when the file was unusable.
    """
    from bot.mentoring.csv_import import ImportFileError, import_file
    from db.types import utcnow

    async def _import(session: Any) -> Any:
        return await import_file(session=session, path=path, now=utcnow())

    try:
        report = _run(_import)
    except ImportFileError as exc:
        fail(f"Cannot import {path}: {exc}")
        return
    for line in report.lines():
        typer.echo(line, err=line.startswith("  line") or "not imported" in line)
    raise typer.Exit(1 if report.problems else 0)


@app.command("list")
def list_command(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every mentor and mentee: organisation, area, whole topics, capacity and load, and status."""
    from bot.mentoring.cohort import list_profiles
    from bot.mentoring.lists import MENTOR, TOPICS, label

    rows = _run(lambda session: list_profiles(session=session))
    if json_output:
        typer.echo(json.dumps({"profiles": rows}, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("No mentors or mentees yet. Import some with: partnerbot mentors import FILE.csv")
        return
    for row in rows:
        status = "active" if row["active"] else ("paused" if row["role"] == MENTOR else "not looking")
        if row["role"] == MENTOR:
            extra = f"{row['mentees']}/{row['capacity']} mentees"
        else:
            extra = "waiting" if row["waiting"] else ""
        linked = "" if row["linked"] else " (not yet talked to the bot)"
        typer.echo(f"{row['role']:6}  {row['id']!s:20}  {row['name'][:30]:30}  {row['organisation'][:30]:30}  "
                   f"{row['region']:16}  {status:11} {extra}{linked}  topics: "
                   f"{'; '.join(label(TOPICS, slug) for slug in row['topics'])}")


@app.command("match")
def match_command(json_output: Annotated[bool, typer.Option("--json", help="Print the assignment as JSON.")] = False,
                  apply: Annotated[bool, typer.Option("--apply", help="Send these suggestions to the mentees "
                                                                      "(through the running bot).")] = False) -> None:
    """Assign every waiting mentee to a mentor at once: as many as possible, then the best total score.

    Only people the bot can reach (who have opened it, or were imported by numeric id) are matched; the
    others are listed apart with the reason."""
    from bot.mentoring.cohort import load_cohort, record_proposals
    from bot.mentoring.matching import assign_cohort
    from db.types import utcnow

    async def _match(session: Any) -> tuple[Any, Any, int]:
        cohort = await load_cohort(session=session)
        result = assign_cohort(cohort.mentees, cohort.mentors, cohort.excluded_pairs)
        sent = 0
        if apply:
            sent = await record_proposals(session=session, pairs=[(a.mentee_id, a.mentor_id, a.score, a.why)
                                                                  for a in result.assignments], now=utcnow())
        return cohort, result, sent

    cohort, result, sent = _run(_match)
    ref = cohort.refs.get
    if json_output:
        typer.echo(json.dumps({"assignments": [{"mentee": ref(a.mentee_id), "mentor": ref(a.mentor_id),
                                                "score": a.score} for a in result.assignments],
                               "unmatched": [ref(pid) for pid in result.unmatched],
                               "left_out": [{"person": ref(pid), "reason": reason}
                                            for pid, reason in cohort.left_out.items()]}, ensure_ascii=False))
    else:
        typer.echo(f"{len(result.assignments)} of {len(cohort.mentees)} waiting mentees matched "
                   f"(total score {result.total_score}).")
        for a in result.assignments:
            typer.echo(f"  {ref(a.mentee_id)!s} -> {ref(a.mentor_id)!s}  score {a.score}: {a.why}")
        if result.unmatched:
            typer.echo("No compatible mentor with a free place: " + ", ".join(str(ref(p)) for p in result.unmatched))
        if cohort.left_out:
            typer.echo("Not included:")
            for pid, reason in cohort.left_out.items():
                typer.echo(f"  {ref(pid)!s}: {reason}")
    if apply:
        typer.echo(f"Recorded {sent} suggestion(s). The running bot sends them to the mentees within a minute "
                   "(people who haven't started the bot yet get theirs when they do).", err=True)
