"""Sending text safely: HTML escaped by the caller, split at Telegram's 4096-character limit here.

Every handler sends through :func:`reply_html` so that a long answer can never fail with
"message is too long", and buttons go under the last part where a thumb can reach them.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from knowledge.render import split_html


async def send_html(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str,
                    markup: InlineKeyboardMarkup | None = None, *, reply_to: int | None = None) -> Message:
    """Send HTML to ``chat_id``, split into as many messages as needed; returns the last one.

    ``reply_to`` threads the first part under a message (used in groups, so people see what is answered).
    """
    parts = split_html(text)
    message: Message | None = None
    for number, part in enumerate(parts, start=1):
        message = await context.bot.send_message(
            chat_id, part, parse_mode=ParseMode.HTML,
            reply_markup=markup if number == len(parts) else None,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to and number == 1 else None)
    assert message is not None
    return message
