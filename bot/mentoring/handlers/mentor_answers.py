"""The mentor's answer to a request: Accept, Decline, or Decline and pause, and the introduction of
the two buddies when the mentor accepts.

Why a module of its own: only the asked mentor can answer (checked on the server), and each outcome
tells both people something different: contact details, or other suggestions for the mentee.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.services import services
from bot.core.storage import storage_guard
from bot.mentoring import requests as request_rules
from bot.mentoring.handlers.common import (
    ACCEPT,
    DECLINE,
    P_ACTIVE,
    PAUSE,
    buttons,
    contact_line,
    edit,
    for_match,
    notify,
    record_relay,
)
from bot.mentoring.handlers.suggestions import show_mentee_home
from bot.mentoring.lists import MENTOR
from bot.mentoring.requests import respond
from bot.mentoring.store import Parties
from bot.mentoring.suggestions import MenteeStatus, mentee_status
from knowledge.render import escape


@storage_guard
async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The mentor's Accept / Decline / Pause me; only the asked mentor can answer."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    decision = {ACCEPT: request_rules.ACCEPT, DECLINE: request_rules.DECLINE, PAUSE: request_rules.PAUSE}[data.action]
    match_id = data.int_arg(0)

    async def answer(session: AsyncSession, match_id: int) -> tuple[Parties, MenteeStatus | None]:
        """The answer, and on a decline the mentee's next suggestions (or the waiting list): one unit."""
        parties = await respond(session=session, match_id=match_id, telegram_id=query.from_user.id,
                                decision=decision, now=svc.clock())
        mentee_id = parties.mentee.telegram_id
        if decision == request_rules.ACCEPT or mentee_id is None:
            return parties, None
        return parties, await mentee_status(session=session, telegram_id=mentee_id, now=svc.clock())

    answered = await for_match(context, query, match_id, "That request isn't yours to answer.", answer)
    if answered is None:
        return
    parties, mentee_home = answered
    await query.answer()
    if decision == request_rules.ACCEPT:
        await edit(update, f"✅ You accepted <b>{escape(parties.mentee_name)}</b>'s request.")
        await introduce(context, parties)
        return
    if decision == request_rules.PAUSE:
        await edit(update, "You declined this request and you're paused: no new requests until you resume.",
                    buttons([[("▶️ Resume requests", cb.make(P_ACTIVE, MENTOR, 1))]]))
    else:
        await edit(update, f"You declined <b>{escape(parties.mentee_name)}</b>'s request. Thank you for "
                            "answering: I'll suggest someone else to them.")
    if parties.mentee.telegram_id is not None and mentee_home is not None:
        await show_mentee_home(context, parties.mentee.telegram_id, mentee_home, intro=(
            f"{escape(parties.mentor_name)} can't take on a new buddy just now. That's no reflection on you. "
            "Here is who else could help:"))


async def introduce(context: ContextTypes.DEFAULT_TYPE, parties: Parties) -> None:
    """Both buddies get each other's contact: a username link, or relaying through the bot."""
    mentee_profile, mentor_profile = parties.mentee_profile, parties.mentor_profile

    def org(profile: Any) -> str:
        return f" from {escape(profile.organisation)}" if profile else ""

    to_mentee = (f"🎉 <b>{escape(parties.mentor_name)}</b>{org(mentor_profile)} has agreed to be your mentor "
                 f"buddy!\n{contact_line(parties.mentor, parties.mentor_name)}\n"
                 "I'll check in with you in two weeks.")
    to_mentor = (f"🎉 You're now mentor buddy to <b>{escape(parties.mentee_name)}</b>{org(mentee_profile)}.\n"
                 f"{contact_line(parties.mentee, parties.mentee_name)}")
    for chat_id, text in ((parties.mentee.telegram_id, to_mentee), (parties.mentor.telegram_id, to_mentor)):
        sent = await notify(context, chat_id, text)
        if sent is not None and chat_id is not None:
            await record_relay(context, chat_id, sent.message_id, parties.match.id or 0)
