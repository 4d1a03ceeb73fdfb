"""What a mentee sees and does before having a buddy: their home (a buddy, a pending request,
suggestions or the waiting list), asking a mentor, and withdrawing the request (what the mentor receives is
in mentor_request.py).

Why a module of its own: the mentee's home is shown from many places (after the questions, a decline,
a timeout, a rematch), so it lives below them all; the rules re-check every request on the server.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.keyboards import short
from bot.core.services import services
from bot.core.storage import storage_guard
from bot.mentoring.followups import DIFFERENT
from bot.mentoring.handlers.common import (
    ASK,
    CANCEL,
    CHECKIN,
    END,
    P_ACTIVE,
    SUGGEST,
    buttons,
    contact_line,
    edit,
    for_match,
    notify,
    record_relay,
)
from bot.mentoring.handlers.mentor_request import send_request
from bot.mentoring.lists import MENTEE, ORG_TYPES, REGIONS, label
from bot.mentoring.requests import cancel_request, request_mentor
from bot.mentoring.store import MentoringError
from bot.mentoring.suggestions import MenteeStatus, Suggestion, mentee_status
from knowledge.render import escape


def suggestions_text(suggestions: list[Suggestion], intro: str) -> str:
    """Up to three mentors, as a mentee may see them: no contact details and no organisation name."""
    parts = [intro]
    for number, s in enumerate(suggestions, start=1):
        parts.append(f"<b>{number}. {escape(s.display_name)}</b> · {escape(label(ORG_TYPES, s.org_type))}"
                     f" · {escape(label(REGIONS, s.region))}\n<i>{escape(s.why)}</i>"
                     + (f"\n<blockquote>{escape(s.story)}</blockquote>" if s.story else ""))
    parts.append("When you ask, they'll see your name, area, topics and what you need help with. Contact "
                 "details are swapped only if they say yes.")
    return "\n\n".join(parts)


def suggestions_markup(suggestions: list[Suggestion]) -> InlineKeyboardMarkup:
    return buttons([[(f"Ask {short(s.display_name, 30)}", cb.make(ASK, s.mentor_person_id))] for s in suggestions])


WAITING_TEXT = ("I haven't found a mentor who fits yet, so you're on the waiting list. I'll message you as soon "
                "as one is free. You can change your topics with /profile.")


async def show_mentee_home(context: ContextTypes.DEFAULT_TYPE, user_id: int, status: MenteeStatus,
                           intro: str = "Here are mentors who could help you:") -> None:
    """What a mentee sees: their buddy, their pending request, suggestions, or the waiting list.

    ``status`` comes from :func:`~bot.mentoring.suggestions.mentee_status`, read (and the waiting list joined)
    in the caller's transaction, so the action that led here and the mentee's new place are one unit of work;
    this only sends, after that transaction."""
    if status.buddy is not None:
        parties = status.buddy
        sent = await notify(context, user_id, f"Your mentor buddy is <b>{escape(parties.mentor_name)}</b>. "
                             + contact_line(parties.mentor, parties.mentor_name),
                             buttons([[("🔄 I need a different buddy",
                                         cb.make(CHECKIN, parties.match.id, DIFFERENT))],
                                       [("End the match", cb.make(END, parties.match.id))]]))
        if sent is not None and parties.mentor.username is None:
            await record_relay(context, user_id, sent.message_id, parties.match.id or 0)
    elif status.pending is not None:
        parties = status.pending
        await notify(context, user_id, f"You've asked <b>{escape(parties.mentor_name)}</b> to be your buddy and "
                      "I'm waiting for their answer.",
                      buttons([[("Cancel request", cb.make(CANCEL, parties.match.id))]]))
    elif status.suggestions:
        await notify(context, user_id, suggestions_text(status.suggestions, intro),
                      suggestions_markup(status.suggestions))
    else:
        await notify(context, user_id, WAITING_TEXT,
                      buttons([[("⏸ Stop looking", cb.make(P_ACTIVE, MENTEE, 0))]]))


@storage_guard
async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A mentee taps "Ask <name>": the rules re-check everything, then the mentor gets the request."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    mentor_id = cb.parse(query.data).int_arg(0)
    if mentor_id is None:
        await query.answer("That button is out of date: send /mentor.", show_alert=True)
        return
    try:
        async with svc.database.transaction() as session:
            parties = await request_mentor(session=session, telegram_id=query.from_user.id,
                                           mentor_person_id=mentor_id, now=svc.clock())
    except MentoringError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    await query.answer()
    await edit(update, f"You chose <b>{escape(parties.mentor_name)}</b>.")
    hours = svc.settings.mentor_request_timeout_hours
    told = parties.mentor.telegram_id is not None and await send_request(context, parties)
    later = "" if told else " They haven't opened the bot yet, so they'll see it when they do."
    await notify(context, query.from_user.id,
                  f"📨 I've asked <b>{escape(parties.mentor_name)}</b>.{later} I'll tell you their answer; if they "
                  f"can't reply within {hours} hours I'll suggest someone else.",
                  buttons([[("Cancel request", cb.make(CANCEL, parties.match.id))]]))


@storage_guard
async def on_cancel_request(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    match_id = cb.parse(query.data).int_arg(0)
    parties = await for_match(
        context, query, match_id, "That request isn't yours.",
        lambda session, match_id: cancel_request(session=session, match_id=match_id,
                                                 telegram_id=query.from_user.id, now=svc.clock()))
    if parties is None:
        return
    await query.answer("Request withdrawn.")
    await edit(update, f"You withdrew your request to <b>{escape(parties.mentor_name)}</b>.",
                buttons([[("Show me mentors", SUGGEST)]]))
    mentor_chat, message_id = parties.mentor.telegram_id, parties.match.mentor_message_id
    note = f"{escape(parties.mentee_name)} has withdrawn their request. There's nothing you need to do."
    if mentor_chat is not None and message_id is not None:
        try:
            await context.bot.edit_message_text(note, chat_id=mentor_chat, message_id=message_id)
            return
        except (BadRequest, Forbidden):
            pass
    if parties.match.mentor_told_at is not None:
        await notify(context, mentor_chat, note)


@storage_guard
async def on_suggest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Show me mentors" / "Show me others": the mentee's home again."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    async with svc.database.transaction() as session:
        status = await mentee_status(session=session, telegram_id=query.from_user.id, now=svc.clock())
    await query.answer()
    await show_mentee_home(context, query.from_user.id, status)
