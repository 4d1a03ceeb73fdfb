"""The small helpers every mentoring handler shares: the callback actions (all start with "m"), who sent
an update, buttons, sending and editing messages, how choices and areas are shown, a buddy's contact
line, running the rules on the match a button names (one transaction), and recording a relay anchor.

Why a module of its own: it is the bottom of the handlers' dependency graph; it imports no other
handler module, so every other one can import it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.core.messages import send_html
from bot.core.services import services
from bot.mentoring.lists import REGIONS, Choice, label
from bot.mentoring.relay import add_relay
from bot.mentoring.store import MentoringError
from knowledge.render import escape

log = logging.getLogger(__name__)


# Callback actions (all start with "m").
P_NAME, P_TYPE, P_REGION, P_TOWN = "mpn", "mpt", "mpr", "mpw"
P_TOPIC, P_TOPICS_DONE, P_STAGE, P_STAGES_DONE = "mpk", "mpd", "mps", "mpf"
P_PARTNER, P_PARTNERS_DONE, P_CAPACITY, P_CANCEL = "mpp", "mpg", "mpc", "mpx"
P_EDIT, P_ACTIVE, P_DELETE, P_DELETE_YES, P_KEEP = "mpe", "mph", "mpq", "mpy", "mpj"
P_USE = "mpu"         # mpu:<1 save the typed text that reads like a question|0 type again>
ASK = "ms"            # ms:<mentor person id>
ACCEPT, DECLINE, PAUSE = "ma", "md", "mz"   # <match id>
CANCEL = "mc"         # mc:<match id>
CHECKIN = "mf"        # mf:<match id>:<yes|notyet|different>
REVIEW = "mv"         # mv:<match id>:<1 continue|0 close>
RATE = "mr"           # mr:<match id>:<1-5>
SKIP_COMMENT = "mk"   # mk:<match id>
END = "me"            # me:<match id>
SUGGEST = "mo"        # show suggestions again


COMMENT_FOR = "m_comment"
T = TypeVar("T")


def user_of(update: Update) -> tuple[int, str | None, str]:
    user = update.effective_user
    assert user is not None
    return user.id, user.username, user.first_name or ""


def buttons(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in row]
                                 for row in rows])


async def notify(context: ContextTypes.DEFAULT_TYPE, chat_id: int | None, text: str,
                  markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Send to someone who may have stopped the bot: a failure is logged, not raised."""
    if chat_id is None:
        return None
    try:
        return await send_html(context, chat_id, text, markup)
    except (Forbidden, BadRequest) as exc:
        log.info("Could not reach a mentoring user (%s)", type(exc).__name__)
        return None


async def say(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
               markup: InlineKeyboardMarkup | None = None) -> Message | None:
    chat = update.effective_chat
    return await send_html(context, chat.id, text, markup) if chat else None


async def edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message's text (its buttons go): best effort, an old message may be gone."""
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(BadRequest):
        await query.edit_message_text(text, reply_markup=markup)


def chip(choices: tuple[Choice, ...], slugs: list[str]) -> str:
    return ", ".join(escape(label(choices, slug)) for slug in slugs) or "none"


def area(region: str, town: str | None = None) -> str:
    text = label(REGIONS, region)
    return escape(f"{town}, {text}" if town else text)


def contact_line(person: Any, name: str) -> str:
    """A username link, or the relay offer when the person has no username."""
    if person.username:
        return f'Say hello: <a href="https://t.me/{escape(person.username)}">@{escape(person.username)}</a>'
    return (f"{escape(name)} has no Telegram username, so <b>reply to this message</b> and I'll pass your "
            "message on.")


async def for_match(context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, match_id: int | None, not_yours: str,
                    call: Callable[[AsyncSession, int], Awaitable[T]]) -> T | None:
    """Run the rules a button names on its match, as one transaction (the tap's unit of work). The rules
    check on the server that the match belongs to the person pressing; when it does not (a MentoringError),
    the transaction is rolled back and the person told after it, and None returned. A database failure is
    left to the handler's storage guard, which tells the person to try again."""
    try:
        if match_id is None:
            raise MentoringError(not_yours)
        async with services(context).database.transaction() as session:
            return await call(session, match_id)
    except MentoringError as exc:
        await query.answer(str(exc), show_alert=True)
    return None


async def record_relay(context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int, match_id: int) -> None:
    """Remember a message just sent to a buddy as a relay anchor (a reply to it goes to the other buddy), in a
    transaction of its own after the message went out."""
    try:
        async with services(context).database.transaction() as session:
            await add_relay(session=session, chat_id=chat_id, message_id=message_id, match_id=match_id)
    except SQLAlchemyError:
        # Not the storage guard: the message has already arrived, so "try again" would be wrong; only the log knows.
        log.warning("Could not record a relay message for match %s", match_id)
