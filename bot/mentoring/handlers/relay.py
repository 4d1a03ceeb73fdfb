"""Relaying messages between buddies: a reply to a buddy message goes to the buddy, for people
without a Telegram username. Other replies pass to the other handlers untouched.

Why a module of its own: the rules decide who a reply may reach (only the two buddies of an accepted
match); this handler only carries the text.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core.services import services
from bot.mentoring.handlers.common import notify
from bot.mentoring.relay import add_relay, relay_target
from knowledge.render import escape

log = logging.getLogger(__name__)


async def on_relay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to a buddy message goes to the buddy (for people without a username). Other replies pass."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or not message.text or message.from_user is None:
        return
    svc = services(context)
    try:
        target = await relay_target(svc.database, message.chat_id, message.reply_to_message.message_id,
                                          message.from_user.id)
    except SQLAlchemyError:
        return
    if target is None:
        return
    recipient, sender_name, match_id = target
    if recipient is None:
        await message.reply_html("This buddy match has ended, so I can't pass messages on.")
        raise ApplicationHandlerStop
    sent = await notify(context, recipient, f"💬 <b>{escape(sender_name)}</b>, your buddy, says:\n"
                         f"<blockquote>{escape(message.text)}</blockquote>\n<i>Reply to this message to answer.</i>")
    if sent is None:
        await message.reply_html("Sorry, I couldn't pass that on: your buddy may have stopped the bot.")
        raise ApplicationHandlerStop
    try:
        await add_relay(svc.database, recipient, sent.message_id, match_id)
    except SQLAlchemyError:
        log.warning("Could not record a relay message for match %s", match_id)
    await message.reply_html("✅ Passed on to your buddy.")
    raise ApplicationHandlerStop
