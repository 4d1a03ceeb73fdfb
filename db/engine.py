"""The async engine and session factory, one per process.

SQLite runs in WAL mode with a busy timeout so that the bot's periodic jobs and its handlers do not
fail with "database is locked" under ordinary load; PostgreSQL needs nothing special here.

A SQLite database is a file someone can delete or replace while the bot runs. An open connection would
carry on writing into the deleted file (gone at the next restart) and acknowledge it, so before every
statement the file at the path is checked to be the one opened (same device and inode); when it is not,
:class:`DatabaseVanished` is raised: the bot refuses the write and says so instead of losing it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 5000

log = logging.getLogger(__name__)


class DatabaseVanished(SQLAlchemyError):
    """The SQLite file was removed or replaced while the bot was running: nothing more is written."""


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for in-memory databases and PostgreSQL)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(path) if path and path != ":memory:" else None


class FileIdentity:
    """The (device, inode) of the SQLite file as first opened, and the check that it is still there."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.opened: tuple[int, int] | None = None
        self.problem: str | None = None

    def _current(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return info.st_dev, info.st_ino

    def check(self) -> None:
        """Raise DatabaseVanished when the file is gone or another file is in its place."""
        if self.problem is None:
            current = self._current()
            if self.opened is None:  # the first statement: the file as this process opened it
                self.opened = current
                return
            if current is None:
                self.problem = f"the database file {self.path} was deleted while the bot was running"
            elif current != self.opened:
                self.problem = f"the database file {self.path} was replaced by another file while the bot was running"
            else:
                return
            log.error("Database problem: %s. Refusing to save anything until the bot is restarted.", self.problem)
        raise DatabaseVanished(self.problem)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, *, echo: bool = False, identity: FileIdentity | None = None) -> AsyncEngine:
    """Create the engine for ``url``; for SQLite files the parent folder is created first, and with
    ``identity`` every statement first checks that the file is still the one opened."""
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if identity is not None:
            event.listen(engine.sync_engine, "before_cursor_execute",
                         lambda *_args: identity.check())
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """The engine plus a session factory; ``session()`` is the one way code talks to the database."""

    def __init__(self, url: str) -> None:
        self.url = url
        path = sqlite_file(url)
        #: Whether the SQLite file existed before this process opened it (a new, empty database if not).
        self.existed = path.exists() if path is not None else True
        self.identity = FileIdentity(path) if path is not None else None
        #: Set by start-up: the migrations found no earlier schema, so this is a new, empty database.
        self.created_empty = False
        self.engine = make_engine(url, identity=self.identity)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)

    @property
    def problem(self) -> str | None:
        """Why the database can no longer be used (its file deleted or replaced), or None."""
        if self.identity is None:
            return None
        try:
            self.identity.check()
        except DatabaseVanished:
            return self.identity.problem
        return None

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session with no transaction of its own: for reads, and for code that commits by itself."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: everything done with the session is committed together when the block ends, or
        rolled back together when it raises (a domain error included), so one tap is one transaction.

        Rules take this session as ``session=`` and never commit themselves; they may ``flush()`` to get ids.
        Keep network calls (replies to Telegram) outside the block: a transaction holds SQLite's write lock."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
