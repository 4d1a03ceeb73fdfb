"""Alembic environment: migrations run on a connection handed over by ``db.migrate``.

The bot runs migrations from inside its own event loop, on its own async engine; Alembic itself is
synchronous, so ``db.migrate`` opens the connection and passes it in through ``config.attributes``.
Run from the command line (``alembic`` with ``DATABASE_URL``) it opens its own.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import db.console_models
import db.mentoring_models
import db.models
import db.review_models  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    from db.engine import make_engine

    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", "")
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_with_own_engine())
