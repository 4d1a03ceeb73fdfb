"""Relaying messages between buddies: a reply to a buddy message goes to the buddy, for people
without a Telegram username. Other replies pass to the other handlers untouched.

Why a module of its own: the rules decide who a reply may reach (only the two buddies of an accepted
match); this handler only carries the text.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core.services import services
from bot.mentoring.handlers.common import notify, record_relay
from bot.mentoring.relay import relay_target
from knowledge.render import escape


async def on_relay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to a buddy message goes to the buddy (for people without a username). Other replies pass."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or not message.text or message.from_user is None:
        return
    svc = services(context)
    try:
        async with svc.database.transaction() as session:
            target = await relay_target(session=session, chat_id=message.chat_id,
                                        message_id=message.reply_to_message.message_id,
                                        sender_telegram_id=message.from_user.id)
    except SQLAlchemyError:
        # Not the storage guard: most replies are not relays, so the reply passes to the other handlers untouched.
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
    await record_relay(context, recipient, sent.message_id, match_id)
    await message.reply_html("✅ Passed on to your buddy.")
    raise ApplicationHandlerStop
