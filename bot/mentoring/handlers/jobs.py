"""Scheduled work, each run claiming its rows from the database once (safe with several bot
processes): telling waiting mentees about a new mentor, delivering held requests and admins' proposals,
expiring unanswered requests, and sending the 14-day and 90-day follow-ups. Each row is claimed in a
transaction of its own and the message sent after it (:func:`claimed`).

Why a module of its own: nothing here is a timer held in memory; the jobs can run late, twice, or in
another process, and still tell each person once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.keyboards import short
from bot.core.services import services
from bot.core.storage import job_guard
from bot.mentoring.followups import (
    CONNECTED,
    DIFFERENT,
    NOT_YET,
    claim_checkin,
    claim_review,
    due_checkins,
    due_reviews,
)
from bot.mentoring.handlers.common import ASK, CHECKIN, REVIEW, SUGGEST, buttons, notify
from bot.mentoring.handlers.mentor_request import send_request
from bot.mentoring.handlers.suggestions import show_mentee_home, suggestions_markup, suggestions_text
from bot.mentoring.requests import claim_timeout, claim_unsent_request, overdue_requests, unsent_requests
from bot.mentoring.store import Parties
from bot.mentoring.suggestions import (
    MenteeStatus,
    claim_proposal,
    claim_waiting,
    mentee_status,
    undelivered_proposals,
    waiting_mentees,
)
from db.engine import Database
from knowledge.render import escape

log = logging.getLogger(__name__)
T = TypeVar("T")


async def claimed(database: Database, due: Callable[[AsyncSession], Awaitable[list[int]]],
                  claim: Callable[[AsyncSession, int], Awaitable[T | None]]) -> AsyncIterator[T]:
    """The rows ``due`` lists, each claimed by ``claim`` in a transaction of its own and yielded once that
    transaction is committed: the caller sends after the claim, never inside it (and a failed send does not
    undo the claims before it). A row another process claimed first yields nothing."""
    async with database.transaction() as session:
        ids = await due(session)
    for row_id in ids:
        async with database.transaction() as session:
            item = await claim(session, row_id)
        if item is not None:
            yield item


@job_guard("Waiting list check")
async def tell_waiting(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Waiting mentees for whom a mentor has appeared are told, once."""
    svc = services(context)
    async for chat_id, suggestions in claimed(
            svc.database, lambda session: waiting_mentees(session=session),
            lambda session, profile_id: claim_waiting(session=session, profile_id=profile_id)):
        await notify(context, chat_id, suggestions_text(
            suggestions, "🎉 Good news: a mentor who could help you is now available."),
            suggestions_markup(suggestions))


@job_guard("Mentoring deliveries")
async def deliver(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: requests held for mentors who just linked, admins' proposals, and the waiting list."""
    svc = services(context)
    now = svc.clock()
    async for parties in claimed(
            svc.database, lambda session: unsent_requests(session=session),
            lambda session, match_id: claim_unsent_request(session=session, match_id=match_id, now=now)):
        await send_request(context, parties)
    async for parties, suggestion in claimed(
            svc.database, lambda session: undelivered_proposals(session=session),
            lambda session, match_id: claim_proposal(session=session, match_id=match_id, now=now)):
        await notify(context, parties.mentee.telegram_id, suggestions_text(
            [suggestion], "🤝 Our organisers suggest a mentor buddy for you:"),
            buttons([[(f"Ask {short(suggestion.display_name, 30)}", cb.make(ASK, suggestion.mentor_person_id))],
                      [("Show me others", SUGGEST)]]))
    await tell_waiting(context)


@job_guard("Mentor request timeouts")
async def expire_requests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: requests unanswered in MENTOR_REQUEST_TIMEOUT_HOURS are withdrawn; the mentee gets the next one."""
    svc = services(context)
    now = svc.clock()
    timeout = timedelta(hours=svc.settings.mentor_request_timeout_hours)

    async def expire(session: AsyncSession, match_id: int) -> tuple[Parties, MenteeStatus | None] | None:
        """One request withdrawn and the mentee's next suggestions (or the waiting list): one unit."""
        parties = await claim_timeout(session=session, match_id=match_id, now=now)
        if parties is None or parties.mentee.telegram_id is None:
            return None if parties is None else (parties, None)
        return parties, await mentee_status(session=session, telegram_id=parties.mentee.telegram_id, now=now)

    async for parties, home in claimed(
            svc.database, lambda session: overdue_requests(session=session, now=now, timeout=timeout), expire):
        if parties.mentor.telegram_id is not None and parties.match.mentor_message_id is not None:
            with contextlib.suppress(BadRequest, Forbidden):
                await context.bot.edit_message_text(
                    f"This request from {escape(parties.mentee_name)} has expired, so I've withdrawn it. "
                    "No problem at all.", chat_id=parties.mentor.telegram_id,
                    message_id=parties.match.mentor_message_id)
        if parties.mentee.telegram_id is not None and home is not None:
            await show_mentee_home(context, parties.mentee.telegram_id, home, intro=(
                f"{escape(parties.mentor_name)} hasn't been able to answer in time, so I've withdrawn your request. "
                "That's no reflection on you. Here is who else could help:"))


@job_guard("Mentoring follow-ups")
async def send_followups(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: "Have you connected?" at 14 days and "Continue or close?" at 90 days, each sent once."""
    svc = services(context)
    now = svc.clock()
    async for parties in claimed(
            svc.database, lambda session: due_checkins(session=session, now=now),
            lambda session, match_id: claim_checkin(session=session, match_id=match_id, now=now)):
        match_id = parties.match.id
        await notify(context, parties.mentee.telegram_id,
                      f"👋 It's been a while since you were matched with <b>{escape(parties.mentor_name)}</b>. "
                      "Have you connected?",
                      buttons([[("✅ Yes", cb.make(CHECKIN, match_id, CONNECTED)),
                                 ("⏳ Not yet", cb.make(CHECKIN, match_id, NOT_YET))],
                                [("🔄 I need a different buddy", cb.make(CHECKIN, match_id, DIFFERENT))]]))
    async for parties in claimed(
            svc.database, lambda session: due_reviews(session=session, now=now),
            lambda session, match_id: claim_review(session=session, match_id=match_id, now=now)):
        match_id = parties.match.id
        await notify(context, parties.mentee.telegram_id,
                      f"🗓 It's been three months with <b>{escape(parties.mentor_name)}</b>. Would you like to "
                      "continue, or close the buddy match?",
                      buttons([[("Continue", cb.make(REVIEW, match_id, 1)), ("Close", cb.make(REVIEW, match_id, 0))]]))
