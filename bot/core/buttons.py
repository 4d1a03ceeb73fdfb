"""Every button press gets an answer: forged or damaged data is refused before any feature sees it, and a
press that no handler answered (a button from last month, unknown data) gets a short note, so no button
is left spinning on a phone. The checks themselves are in :mod:`bot.core.callbacks` (one parser for all)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, ContextTypes

from bot.core import callbacks as cb
from bot.core.groups import HandlerGroup
from bot.core.telegram_bot import PartnerBot

log = logging.getLogger(__name__)

COMMANDS: list = []  # type: ignore[type-arg]
STALE = "That button doesn't work any more. Please send the command again."
PRIVATE_ONLY = "That button works in a private chat with me: send /profile there."


async def check_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refuse a press whose data no button of this bot carries in that form."""
    query = update.callback_query
    if query is None:
        return
    data = cb.parse(query.data)
    if data.known and not data.valid:
        log.info("Refused a button press with malformed data for action %r", data.action[:8])
        await query.answer(STALE)
        raise ApplicationHandlerStop
    chat = query.message.chat if query.message is not None else None
    if data.private_only and (chat is None or chat.type != ChatType.PRIVATE):
        await query.answer(PRIVATE_ONLY, show_alert=True)
        raise ApplicationHandlerStop


async def answer_the_rest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press nobody answered: unknown or stale data. Answer it so the button stops spinning."""
    query = update.callback_query
    if query is None:
        return
    telegram_bot = context.bot
    if isinstance(telegram_bot, PartnerBot) and telegram_bot.was_answered(query.id):
        return
    # A known press that a feature handled without answering just stops spinning; anything else is stale.
    await query.answer(None if cb.parse(query.data).known else STALE)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(check_press), group=HandlerGroup.BUTTON_CHECK)
    application.add_handler(CallbackQueryHandler(answer_the_rest), group=HandlerGroup.BUTTON_FALLBACK)
