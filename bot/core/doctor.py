"""``partnerbot doctor``: what is ready and what is not, in the order a person would fix it.

It only looks: no folder or database file is created, no migration applied, nothing written (a SQLite file
is read with ``immutable=1``, which takes no lock and writes no journal), so it is safe on a live system.
"""

from __future__ import annotations

import asyncio

import typer

from bot.core.config import Settings, SettingsError, load_settings, mask_url

OK, NOT = "ready    ", "NOT READY"


def _line(ready: bool, what: str) -> bool:
    typer.echo(f"{OK if ready else NOT}  {what}")
    return ready


def run_doctor() -> int:
    """Print one line per check; exit status 1 when something needed is not ready."""
    all_ready = True
    try:
        settings: Settings | None = load_settings()
        _line(True, "settings are valid")
    except SettingsError as exc:
        settings = None
        all_ready = _line(False, str(exc))
    if settings is not None:
        _line(True, f"time zone {settings.default_timezone}")
        if settings.token:
            _line(True, "Telegram token is set (partnerbot run will use it)")
        else:
            typer.echo(f"{'optional':9}  no TELEGRAM_BOT_TOKEN: partnerbot chat works, partnerbot run needs one")
        typer.echo(f"{'info':9}  admins: {len(settings.admin_ids)}; panel chat: "
                   f"{'set' if settings.panel_chat_id else 'not set (no human panel)'}; "
                   f"mode: {'webhook' if settings.webhook_url else 'long polling'}; console: "
                   f"{settings.console_base_url if settings.web_port or settings.web_base_url else 'partnerbot web'}")
        typer.echo(f"{'info':9}  council for voluntary service named in declines: "
                   f"{settings.cvs_name or settings.cvs_contact or 'not set (CVS_NAME, CVS_CONTACT)'}")
        if settings.panel_chat_id is not None and settings.panel_chat_id > 0:
            all_ready = _line(False, f"Setting PANEL_CHAT_ID: {settings.panel_chat_id} is a person's id, not a group's "
                                     "(group ids are negative, such as -1001234567890): questions would go to one "
                                     "person's private chat") and all_ready
        all_ready &= _check_database(settings)
    all_ready &= _check_knowledge()
    _check_meaning()
    return 0 if all_ready else 1


def _check_sqlite_file(settings: Settings) -> bool | None:
    """For a SQLite file: read its revision without creating or changing anything (None: not SQLite)."""
    import sqlite3
    from urllib.parse import quote

    from db.migrate import head_revision

    path = settings.sqlite_path
    if path is None:
        return None
    where = mask_url(settings.database_url)
    if not path.exists():
        return _line(True, f"database {where} does not exist yet: run and chat create it")
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?immutable=1", uri=True, timeout=5)
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return _line(True, f"database {where} is empty: run and chat set it up")
        return _line(False, f"Setting DATABASE_URL: cannot read the database at {where}: {exc}")
    except sqlite3.DatabaseError as exc:
        return _line(False, f"Setting DATABASE_URL: {where} is not a SQLite database ({exc})")
    revision, head = (row[0] if row else None), head_revision()
    if revision == head:
        return _line(True, f"database {where} (revision {revision})")
    return _line(True, f"database {where} opens; at revision {revision}, newest {head}: "
                       "run `partnerbot db upgrade` (run and chat do it themselves)")


def _check_database(settings: Settings) -> bool:
    from bot.core.startup import StartupError, open_database
    from db.migrate import current_revision, head_revision

    checked = _check_sqlite_file(settings)
    if checked is not None:
        return checked

    async def _probe() -> str | None:
        database = await open_database(settings, migrate=False, timeout=10)
        try:
            return await current_revision(database)
        finally:
            await database.dispose()

    try:
        revision = asyncio.run(_probe())
    except StartupError as exc:
        return _line(False, str(exc))
    head = head_revision()
    where = mask_url(settings.database_url)
    if revision == head:
        return _line(True, f"database {where} (revision {revision})")
    return _line(True, f"database {where} opens; at revision {revision}, newest {head}: "
                       "run `partnerbot db upgrade` (run and chat do it themselves)")


def _check_knowledge() -> bool:
    from knowledge.check import check_knowledge_base

    report = check_knowledge_base()
    if report.problems:
        return _line(False, f"knowledge base: {len(report.problems)} problem(s), first: {report.problems[0]} "
                            "(see `partnerbot kb check`)")
    return _line(True, f"knowledge base: {report.entries} entries in {report.themes} themes")


def _check_meaning() -> None:
    """Whether questions are matched by meaning too, or (the model could not load) by words alone."""
    from knowledge.embedding import describe

    state = describe()
    if state["on"]:
        _line(True, "matching by meaning: all-MiniLM-L6-v2 (int8 ONNX) loaded")
    else:
        typer.echo(f"{'degraded':9}  matching by meaning is off ({state['problem']}); answering on words alone")
