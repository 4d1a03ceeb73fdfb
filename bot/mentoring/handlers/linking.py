"""Linking an imported person (known to admins by username) the first time they talk to the bot, and
keeping usernames fresh.

Why a module of its own: it sees every private update, so it is kept cheap (checked at most every ten
minutes per person in this process) and never creates a row by itself; a new link triggers the
deliveries held for that person.
"""

from __future__ import annotations

import time

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import ContextTypes

from bot.core.services import services
from bot.mentoring.handlers.jobs import deliver
from bot.mentoring.profiles import link_person

LINK_CHECK_SECONDS = 600.0


async def on_any_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Link an imported person (known by username) the first time they talk to the bot; keep usernames fresh.

    Checked at most every ten minutes per person in this process, and never creates a row by itself.
    """
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.is_bot or chat is None or chat.type != "private":
        return
    seen: dict[int, float] = context.application.bot_data.setdefault("m_seen", {})
    now = time.monotonic()
    if now - seen.get(user.id, -LINK_CHECK_SECONDS) < LINK_CHECK_SECONDS:
        return
    seen[user.id] = now
    try:
        async with services(context).database.transaction() as session:
            linked = await link_person(session=session, telegram_id=user.id, username=user.username,
                                       first_name=user.first_name or "")
    except SQLAlchemyError:
        # Not the storage guard: it runs beside each update's own handler, which answers; retried next update.
        seen.pop(user.id, None)
        return
    if linked:
        await deliver(context)
