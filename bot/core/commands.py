"""What every ``partnerbot`` command shares: one friendly line instead of a traceback.

A bad setting, a database that cannot be opened or a failed query ends the command with one line on standard
error and exit status 2. The main CLI and each feature's sub-app (``bot/<feature>/cli.py``) use these, so a
feature's commands fail the same way as the rest.

Start-up (database drivers, migrations) is imported inside the functions that need it so that
``partnerbot --help`` and ``partnerbot kb check`` stay quick; nothing here dodges an import circle.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from bot.core.config import Settings
    from db.engine import Database

T = TypeVar("T")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to standard error and stop with ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: Any) -> Settings:
    """The validated settings (pydantic-settings is imported here, not for ``--help``), or one line and exit 2."""
    from bot.core.config import SettingsError, load_settings

    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc))


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine, turning start-up problems into one line and Ctrl-C into a quiet exit."""
    import asyncio

    from bot.core.startup import StartupError

    try:
        return asyncio.run(factory())
    except StartupError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def with_database(work: Callable[[Database, Settings], Coroutine[Any, Any, T]],
                  settings: Settings | None = None) -> T:
    """Open (and migrate) the database, run ``work(database, settings)``, close it; a failing query is one line.

    This hands out the ``Database``, not a session: it is the command's plumbing, not a rule. ``work`` is
    the command's unit of work and opens ``database.transaction()`` around the rules it calls (one command,
    one transaction; a command that sends messages after writing keeps the sending outside the block)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.core.startup import describe_db_error, open_database

    settings = settings or settings_or_exit()

    async def _main() -> T:
        database = await open_database(settings)
        try:
            return await work(database, settings)
        finally:
            await database.dispose()

    try:
        return run_async(_main)
    except SQLAlchemyError as exc:
        fail(f"Database problem: {describe_db_error(exc)}")
