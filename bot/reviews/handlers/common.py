"""What the review handlers share: callback prefixes, keys, timeouts, messages and small helpers."""

from __future__ import annotations

import contextlib
import logging
from enum import StrEnum

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.core import callbacks as cb

log = logging.getLogger(__name__)


# Callback actions (all start with "r": see bot/callbacks.py for the others).
SETUP = "rs"      # rs:<field>[:<value>] inside the set-up conversation
CHANGE = "rc"     # rc:<partnership id>
MANAGE = "rp"     # rp:<partnership id>:<pause|resume|stop|stopok|keep>
NUDGE = "rn"      # rn:<occurrence id>:<go|dm|s1|s7|sk>
ANSWER = "ra"     # ra:<answer id>:<question index>:<value>
NOTHING = "rz"    # rz:<answer id>  ("nothing to raise")
HISTORY = "rh"    # rh:<partnership id>
CSV = "rv"        # rv:<partnership id>
RESUME = "rk"     # rk:<answer id>  ("Carry on" with a half-done check-in, from /reviews)

class NudgeAction(StrEnum):
    """The nudge's buttons (rn:<occurrence id>:<action>)."""

    ANSWER_HERE = "go"
    ANSWER_PRIVATELY = "dm"
    SNOOZE_DAY = "s1"
    SNOOZE_WEEK = "s7"
    SKIP = "sk"


class ManageAction(StrEnum):
    """The buttons of /partnerships (rp:<partnership id>:<action>)."""

    MENU = "menu"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"            # asks to confirm
    STOP_CONFIRMED = "stopok"
    KEEP = "keep"            # "no, keep them"


class SetupMode(StrEnum):
    """What the set-up form is doing: a new partnership, or one change from /partnerships (rc:<id>:<mode>)."""

    NEW = "new"
    NAME = "name"
    PARTNERS = "partners"
    SCHEDULE = "schedule"


SETUP_KEY = "review_setup"
DISPATCH_JOB = "review-dispatch"
MAX_LISTED = 30
COMMON_TIMES = ("08:00", "09:00", "10:00", "12:00", "14:00", "16:00")

ADMINS_ONLY = "Only this group's admins can set up or change review check-ins."
NOT_HERE = "That button isn't for this chat, or the partnership no longer exists."


# -- small helpers ----------------------------------------------------------------------------------
def button(label: str, *data: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=cb.make(*data))  # type: ignore[arg-type]


def markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(rows)


async def is_admin(context: ContextTypes.DEFAULT_TYPE, chat: Chat, user_id: int,
                   message: Message | None = None) -> bool:
    """True in a private chat; in a group, only when Telegram says the person is an administrator."""
    if chat.type == ChatType.PRIVATE:
        return True
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous administrator posting as the group
    try:
        member = await context.bot.get_chat_member(chat.id, user_id)
    except TelegramError as exc:
        log.info("Could not check admin rights in a group: %s", type(exc).__name__)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def alert(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text[:190], show_alert=True)


async def drop_buttons(update: Update) -> None:
    """Remove the buttons of the message just tapped, so an old step is not tapped again."""
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)


def score(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
