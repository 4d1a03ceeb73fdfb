"""The error handler: log the failure for the admins, tell the person, and hand back what they sent.

Logs carry the update id and the error, never the person's text or name (data protection).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from knowledge.render import escape

log = logging.getLogger(__name__)

SORRY = ("Sorry, something went wrong on my side and I couldn't finish that. "
         "Please try again in a minute.")
STORAGE_DOWN = "Sorry, I can't reach my records just now, so I couldn't save that. Please try again in a minute."
ECHO = "\n\nSo nothing is lost, here is what you sent:\n<blockquote>{text}</blockquote>"
MAX_ECHO = 1000


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, (NetworkError, TimedOut, RetryAfter)) and not isinstance(update, Update):
        log.warning("Telegram connection problem: %s", type(error).__name__)
        return
    log.error("Error while handling update %s: %s", update_id, type(error).__name__,
              exc_info=(type(error), error, error.__traceback__) if error else None)
    if not isinstance(update, Update) or isinstance(error, Forbidden):
        return
    chat = update.effective_chat
    if chat is None:
        return
    message = update.effective_message
    text = message.text if message and message.text else None
    apology = STORAGE_DOWN if isinstance(error, (SQLAlchemyError, OSError)) else SORRY
    reply = apology + ECHO.format(text=escape(text[:MAX_ECHO])) if text else apology
    try:
        if update.callback_query:
            await update.callback_query.answer(apology[:190], show_alert=True)
        else:
            await context.bot.send_message(chat.id, reply)
    except Exception:  # the apology itself failed: nothing more to do but log it
        log.warning("Could not tell chat about the error for update %s", update_id)
