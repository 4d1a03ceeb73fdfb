"""``partnerbot kb ...``: the curators' commands: check the knowledge base, count it, and collect what it lacks
(panel answers saved as drafts, questions the bot could not answer).

Imports sit inside the commands so that ``partnerbot --help`` stays quick.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.core.commands import run_async, settings_or_exit

app = typer.Typer(help="Look after the knowledge base.", no_args_is_help=True, rich_markup_mode=None)


@app.command("check")
def kb_check() -> None:
    """Check the knowledge base: schema, ids, links, sources, lengths, near-duplicates, templates."""
    from knowledge.check import check_knowledge_base

    report = check_knowledge_base()
    for line in report.summary():
        typer.echo(line)
    for problem in report.problems:
        typer.echo(f"PROBLEM: {problem}", err=True)
    raise typer.Exit(1 if report.problems else 0)


@app.command("stats")
def kb_stats() -> None:
    """Entries per theme and per seed document."""
    from knowledge.check import stats_lines

    for line in stats_lines():
        typer.echo(line)


@app.command("drafts")
def kb_drafts(out: Annotated[str | None, typer.Option("--out", help="Write to this file instead of "
                                                       "standard output.")] = None) -> None:
    """Write panel answers saved by admins as knowledge-base entries (YAML) for a curator to edit and add."""
    from bot.core.startup import open_database
    from bot.panel.store import drafts_yaml, list_drafts

    settings = settings_or_exit()

    async def _main() -> str | None:
        database = await open_database(settings)
        try:
            async with database.transaction() as session:
                return drafts_yaml(await list_drafts(session=session))
        finally:
            await database.dispose()

    text = run_async(_main)
    if text is None:
        typer.echo("No drafts yet: admins save panel answers with the 'Save to knowledge base' button.", err=True)
        return
    if out:
        from pathlib import Path

        Path(out).write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {text.count(chr(10) + '  - id: ')} draft(s) to {out}.")
    else:
        typer.echo(text)


@app.command("gaps")
def kb_gaps(days: Annotated[int, typer.Option("--days", min=1, max=3650, help="How far back to look.")] = 30,
            limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 30) -> None:
    """The most frequent questions the bot could not answer, similar ones grouped together."""
    from bot.core.startup import open_database
    from bot.questions.gaps import find_gaps
    from db.types import utcnow

    settings = settings_or_exit()

    async def _main() -> list[object]:
        database = await open_database(settings)
        try:
            async with database.transaction() as session:
                return list(await find_gaps(session=session, now=utcnow(), days=days, limit=limit))
        finally:
            await database.dispose()

    gaps = run_async(_main)
    if not gaps:
        typer.echo(f"No unanswered questions in the last {days} days.")
        return
    typer.echo(f"Unanswered questions in the last {days} days, most asked first:")
    for number, gap in enumerate(gaps, start=1):
        others = f" (also: {'; '.join(gap.wordings[1:3])})" if len(gap.wordings) > 1 else ""  # type: ignore[attr-defined]
        typer.echo(f"{number:3d}. {gap.count:3d}x  {gap.example}{others}")  # type: ignore[attr-defined]
