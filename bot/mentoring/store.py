"""The storage helpers every stored rule shares: the match statuses and why a match ended, where a profile
came from, the error people are shown, a match
loaded with both people (:class:`Parties`), finding a person by Telegram id, counting each mentor's
load, and moving a match from one status to the next exactly once.

Why a module of its own: requests, follow-ups, relaying, privacy and the admins' view all read and
change the same rows; keeping these few helpers here keeps those modules independent of each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.mentoring.lists import MENTEE, MENTOR
from db.mentoring_models import MentoringPerson, MentoringProfile, MentorMatch


class MatchStatus(StrEnum):
    """Where a match is in its life (mentor_match.status)."""

    PROPOSED = "proposed"      # an admin's whole-cohort suggestion, not yet asked
    PENDING = "pending"        # the mentor has been asked
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"    # by the mentee
    WITHDRAWN = "withdrawn"    # a proposal the mentee passed over, or a request whose mentor left
    CLOSED = "closed"          # an accepted match that ended


class EndReason(StrEnum):
    """Why a match ended (mentor_match.end_reason)."""

    DECLINED = "declined"
    PAUSED = "paused"          # declined with "Pause me"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    REMATCH = "rematch"        # the mentee asked for a different buddy
    CLOSED = "closed"
    LEFT = "left"              # one of the two deleted their profile


class ProfileSource(StrEnum):
    """Where a profile came from (mentoring_profile.source): the chat, or an admin's CSV import (which may update
    only profiles it made)."""

    BOT = "bot"
    IMPORT = "import"


#: A request open or a buddy matched: counts towards the mentor's load; the mentee is not "looking".
OPEN_MATCH = (MatchStatus.PENDING, MatchStatus.ACCEPTED)
ACTIVE_MATCH = (MatchStatus.PROPOSED, *OPEN_MATCH)
ENDED_PAIR = (MatchStatus.DECLINED, MatchStatus.TIMED_OUT, MatchStatus.CLOSED)


class MentoringError(Exception):
    """A request that cannot be done; ``str()`` is a friendly sentence for the person."""


@dataclass
class Parties:
    """A match with both people and their profiles, for telling each what happened."""

    match: MentorMatch
    mentee: MentoringPerson
    mentor: MentoringPerson
    mentee_profile: MentoringProfile | None
    mentor_profile: MentoringProfile | None

    @property
    def mentee_name(self) -> str:
        return self.mentee_profile.display_name if self.mentee_profile else (self.mentee.first_name or "your buddy")

    @property
    def mentor_name(self) -> str:
        return self.mentor_profile.display_name if self.mentor_profile else (self.mentor.first_name or "your buddy")


async def person_by_telegram(*, session: AsyncSession, telegram_id: int) -> MentoringPerson | None:
    return (await session.exec(select(MentoringPerson).where(MentoringPerson.telegram_id == telegram_id))).first()


async def mentor_loads(*, session: AsyncSession, mentor_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Mentees each mentor has or has been asked for: proposed, pending and accepted matches."""
    query = select(MentorMatch.mentor_id, func.count()).where(col(MentorMatch.status).in_(ACTIVE_MATCH))
    if mentor_ids is not None:
        query = query.where(col(MentorMatch.mentor_id).in_(list(mentor_ids)))
    rows = await session.exec(query.group_by(MentorMatch.mentor_id))
    return {mentor_id: count for mentor_id, count in rows.all()}


async def load_parties(*, session: AsyncSession, match: MentorMatch) -> Parties:
    mentee = await session.get(MentoringPerson, match.mentee_id)
    mentor = await session.get(MentoringPerson, match.mentor_id)
    assert mentee is not None and mentor is not None
    profiles = (await session.exec(select(MentoringProfile).where(
        or_(col(MentoringProfile.person_id) == mentee.id, col(MentoringProfile.person_id) == mentor.id)))).all()
    mentee_profile = next((p for p in profiles if p.person_id == mentee.id and p.role == MENTEE), None)
    mentor_profile = next((p for p in profiles if p.person_id == mentor.id and p.role == MENTOR), None)
    return Parties(match, mentee, mentor, mentee_profile, mentor_profile)


async def load_match_for(*, session: AsyncSession, match_id: int, telegram_id: int, side: str) -> MentorMatch | None:
    """The match, only if the person pressing is its ``side`` (mentee or mentor): forged buttons get None."""
    person = await person_by_telegram(session=session, telegram_id=telegram_id)
    match = await session.get(MentorMatch, match_id)
    if person is None or match is None:
        return None
    owner = match.mentee_id if side == MENTEE else match.mentor_id
    return match if owner == person.id else None


async def transition(*, session: AsyncSession, match: MentorMatch, expected: MatchStatus, **values: Any) -> bool:
    """Move a match on only if it is still in ``expected``: a double tap or a race changes it once."""
    result = await session.exec(update(MentorMatch).where(MentorMatch.id == match.id, MentorMatch.status == expected)
                                .values(**values))
    if (result.rowcount or 0) != 1:
        return False
    for key, value in values.items():
        setattr(match, key, value)
    return True


def closed_reason(status: str) -> str:
    return {MatchStatus.ACCEPTED: "You've already accepted this request.",
            MatchStatus.DECLINED: "This request has already been answered.",
            MatchStatus.CANCELLED: "This request was withdrawn, so there's nothing to do.",
            MatchStatus.TIMED_OUT: "This request has expired.",
            MatchStatus.CLOSED: "This buddy match has ended."}.get(status, "This request is no longer open.")
