"""Scheduled work, each run claiming its rows from the database once (safe with several bot
processes): telling waiting mentees about a new mentor, delivering held requests and admins' proposals,
expiring unanswered requests, and sending the 14-day and 90-day follow-ups.

Why a module of its own: nothing here is a timer held in memory; the jobs can run late, twice, or in
another process, and still tell each person once.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.keyboards import short
from bot.core.services import services
from bot.core.storage import job_guard
from bot.mentoring.followups import CONNECTED, DIFFERENT, NOT_YET, claim_due_checkins, claim_due_reviews
from bot.mentoring.handlers.common import ASK, CHECKIN, REVIEW, SUGGEST, buttons, notify
from bot.mentoring.handlers.mentor_request import send_request
from bot.mentoring.handlers.suggestions import show_mentee_home, suggestions_markup, suggestions_text
from bot.mentoring.requests import claim_timeouts, claim_unsent_requests
from bot.mentoring.suggestions import claim_undelivered_proposals, claim_waiting_with_mentors
from knowledge.render import escape

log = logging.getLogger(__name__)


@job_guard("Waiting list check")
async def tell_waiting(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Waiting mentees for whom a mentor has appeared are told, once."""
    svc = services(context)
    found = await claim_waiting_with_mentors(svc.database, svc.clock())
    for chat_id, suggestions in found:
        await notify(context, chat_id, suggestions_text(
            suggestions, "🎉 Good news: a mentor who could help you is now available."),
            suggestions_markup(suggestions))


@job_guard("Mentoring deliveries")
async def deliver(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: requests held for mentors who just linked, admins' proposals, and the waiting list."""
    svc = services(context)
    held = await claim_unsent_requests(svc.database, svc.clock())
    proposals = await claim_undelivered_proposals(svc.database, svc.clock())
    for parties in held:
        await send_request(context, parties)
    for parties, suggestion in proposals:
        await notify(context, parties.mentee.telegram_id, suggestions_text(
            [suggestion], "🤝 Our organisers suggest a mentor buddy for you:"),
            buttons([[(f"Ask {short(suggestion.display_name, 30)}", cb.make(ASK, suggestion.mentor_person_id))],
                      [("Show me others", SUGGEST)]]))
    await tell_waiting(context)


@job_guard("Mentor request timeouts")
async def expire_requests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: requests unanswered in MENTOR_REQUEST_TIMEOUT_HOURS are withdrawn; the mentee gets the next one."""
    svc = services(context)
    expired = await claim_timeouts(svc.database, svc.clock(),
                                         timedelta(hours=svc.settings.mentor_request_timeout_hours))
    for parties in expired:
        if parties.mentor.telegram_id is not None and parties.match.mentor_message_id is not None:
            with contextlib.suppress(BadRequest, Forbidden):
                await context.bot.edit_message_text(
                    f"This request from {escape(parties.mentee_name)} has expired, so I've withdrawn it. "
                    "No problem at all.", chat_id=parties.mentor.telegram_id,
                    message_id=parties.match.mentor_message_id)
        if parties.mentee.telegram_id is not None:
            await show_mentee_home(context, parties.mentee.telegram_id, intro=(
                f"{escape(parties.mentor_name)} hasn't been able to answer in time, so I've withdrawn your request. "
                "That's no reflection on you. Here is who else could help:"))


@job_guard("Mentoring follow-ups")
async def send_followups(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: "Have you connected?" at 14 days and "Continue or close?" at 90 days, each sent once."""
    svc = services(context)
    checkins = await claim_due_checkins(svc.database, svc.clock())
    reviews = await claim_due_reviews(svc.database, svc.clock())
    for parties in checkins:
        match_id = parties.match.id
        await notify(context, parties.mentee.telegram_id,
                      f"👋 It's been a while since you were matched with <b>{escape(parties.mentor_name)}</b>. "
                      "Have you connected?",
                      buttons([[("✅ Yes", cb.make(CHECKIN, match_id, CONNECTED)),
                                 ("⏳ Not yet", cb.make(CHECKIN, match_id, NOT_YET))],
                                [("🔄 I need a different buddy", cb.make(CHECKIN, match_id, DIFFERENT))]]))
    for parties in reviews:
        match_id = parties.match.id
        await notify(context, parties.mentee.telegram_id,
                      f"🗓 It's been three months with <b>{escape(parties.mentor_name)}</b>. Would you like to "
                      "continue, or close the buddy match?",
                      buttons([[("Continue", cb.make(REVIEW, match_id, 1)), ("Close", cb.make(REVIEW, match_id, 0))]]))
