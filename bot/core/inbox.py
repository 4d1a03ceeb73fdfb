"""The inbox: every update fetched from Telegram is written down before Telegram is told it arrived.

Long polling acknowledges updates by asking for the next offset, which python-telegram-bot does as soon as
it has queued them; a crash between that and the reply lost the message for good. Now:

1. ``record`` writes each fetched update (keyed by Telegram's ``update_id``) before ``get_updates`` returns
   (see :class:`bot.core.telegram_bot.PartnerBot`); an update already in the inbox is dropped, so one
   that Telegram delivers twice is handled once;
2. after an update is handled, the conversation state it changed is saved, then the row is marked handled;
3. at start, rows not marked handled are handled again, oldest first.

So a SIGKILL loses nothing and duplicates nothing that was already marked; what was in flight at the kill
is handled once more after the restart (at least once, and exactly once in effect where handling is
idempotent: votes, answers and check-in taps are keyed so a repeat changes nothing). When the database is
unreachable, updates are handed on unrecorded rather than left unanswered (answers come from memory), and
a warning is logged. A handled row keeps only its id (the payload is blanked when it is marked), and is
deleted after ``KEEP_HANDLED`` (:func:`purge_handled`, a rule run by the hourly job in bot/core/health.py).

Why :class:`Inbox` keeps a ``Database`` instead of taking a session like a rule: it is infrastructure beneath
every handler, not part of a user action. ``record`` runs in the Bot client before python-telegram-bot has
even queued the update, and ``mark_handled`` after all its handlers finished; each must commit on its own,
whatever the handler's transaction did (an update whose handler rolled back and asked the person to try
again has still been handled, and must not be replayed at the next start). So each opens its own transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update

from db.engine import Database
from db.models import InboxUpdate
from db.types import utcnow

log = logging.getLogger(__name__)

KEEP_HANDLED = timedelta(days=1)
#: Where the running bot keeps its Inbox (``application.bot_data``).
INBOX_KEY = "inbox"


class Inbox:
    """The ``inbox_update`` table, as the bot's client and update processor use it (each call is its own
    transaction: see the module's docstring)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(self, updates: Sequence[Update]) -> list[Update]:
        """Write the updates down; return those not in the inbox before (all of them if it cannot be read)."""
        ids = [u.update_id for u in updates]
        try:
            async with self.database.transaction() as session:
                known = set((await session.exec(select(InboxUpdate.update_id).where(
                    col(InboxUpdate.update_id).in_(ids)))).all())
                new = [u for u in updates if u.update_id not in known]
                now = utcnow()
                session.add_all([InboxUpdate(update_id=u.update_id, payload=json.dumps(u.to_dict()), received_at=now,
                                             user_id=u.effective_user.id if u.effective_user else None) for u in new])
            return new
        except (SQLAlchemyError, OSError) as exc:
            log.warning("Could not record %d update(s) before handling (%s): handling them unrecorded",
                        len(updates), type(exc).__name__)
            return list(updates)

    async def mark_handled(self, update_id: int, now: datetime | None = None) -> None:
        try:
            async with self.database.transaction() as session:
                # What was typed is not kept once handled: only the id stays (to drop a repeat delivery).
                await session.exec(update(InboxUpdate).where(col(InboxUpdate.update_id) == update_id)
                                   .values(handled_at=now or utcnow(), payload="{}", user_id=None))
        except (SQLAlchemyError, OSError) as exc:
            log.warning("Could not mark update %s handled (%s)", update_id, type(exc).__name__)

    async def unhandled(self) -> list[dict[str, object]]:
        """Updates recorded but never marked handled (a crash or kill came first), oldest first."""
        async with self.database.transaction() as session:
            rows = (await session.exec(select(InboxUpdate).where(col(InboxUpdate.handled_at).is_(None))
                                       .order_by(col(InboxUpdate.update_id)))).all()
        return [json.loads(row.payload) for row in rows]


async def purge_handled(*, session: AsyncSession, now: datetime) -> int:
    """Delete handled rows older than KEEP_HANDLED (their ids only: the payload went when handled); returns
    how many."""
    result = await session.exec(delete(InboxUpdate).where(col(InboxUpdate.handled_at) < now - KEEP_HANDLED))
    return result.rowcount or 0
