"""What a mentee is offered: up to three compatible mentors (:class:`Suggestion`, without contact details
or organisation), the waiting list when there is none, and an admin's proposals delivered as suggestions.

Why a module of its own: it joins the stored profiles to the pure scoring rules, and it is the one place
that decides when a mentee joins or leaves the waiting list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.mentoring.lists import MENTEE, MENTOR
from bot.mentoring.scoring import MAX_SUGGESTIONS, MatchProfile, Score, explain, rank, score_pair
from bot.mentoring.store import (
    ENDED_PAIR,
    OPEN_MATCH,
    MatchStatus,
    Parties,
    load_parties,
    mentor_loads,
    person_by_telegram,
)
from db.mentoring_models import MentoringPerson, MentoringProfile, MentorMatch


@dataclass(frozen=True)
class Suggestion:
    """A mentor as a mentee sees them before asking: no contact details, no organisation name."""

    mentor_person_id: int
    display_name: str
    org_type: str
    region: str
    shared_topics: tuple[str, ...]
    story: str
    why: str
    score: float


async def excluded_for(*, session: AsyncSession, mentee_id: int) -> set[tuple[int, int]]:
    rows = await session.exec(select(MentorMatch.mentor_id).where(
        MentorMatch.mentee_id == mentee_id, col(MentorMatch.status).in_((*ENDED_PAIR, *OPEN_MATCH))))
    return {(mentee_id, mentor_id) for mentor_id in rows.all()}


async def _mentor_pool(session: AsyncSession, *, reachable_only: bool) -> list[tuple[MentoringProfile, int]]:
    query = select(MentoringProfile).join(MentoringPerson, col(MentoringPerson.id) == MentoringProfile.person_id) \
        .where(MentoringProfile.role == MENTOR, col(MentoringProfile.active).is_(True))
    if reachable_only:
        query = query.where(col(MentoringPerson.telegram_id).is_not(None))
    profiles = list((await session.exec(query)).all())
    loads = await mentor_loads(session=session)
    return [(profile, loads.get(profile.person_id, 0)) for profile in profiles]


def _suggestion(profile: MentoringProfile, score: Score) -> Suggestion:
    return Suggestion(mentor_person_id=profile.person_id, display_name=profile.display_name,
                      org_type=profile.org_type, region=profile.region, shared_topics=score.shared_topics,
                      story=profile.story, why=explain(score), score=score.total)


async def _suggestions_in(session: AsyncSession, mentee_profile: MentoringProfile,
                          limit: int) -> list[Suggestion]:
    pool = await _mentor_pool(session, reachable_only=True)
    by_person = {profile.person_id: profile for profile, _load in pool}
    mentee = MatchProfile.of(mentee_profile)
    excluded = await excluded_for(session=session, mentee_id=mentee_profile.person_id)
    ranked = rank(mentee, [MatchProfile.of(profile, load) for profile, load in pool], excluded, limit)
    return [_suggestion(by_person[mentor.person_id], score) for mentor, score in ranked]


@dataclass
class MenteeStatus:
    """Where a mentee stands: suggestions to choose from, a pending request, a buddy, or waiting."""

    profile: MentoringProfile | None
    suggestions: list[Suggestion] = field(default_factory=list)
    pending: Parties | None = None
    buddy: Parties | None = None
    waiting: bool = False


async def mentee_status(*, session: AsyncSession, telegram_id: int, now: datetime,
                        limit: int = MAX_SUGGESTIONS) -> MenteeStatus:
    """What /mentor shows. With no compatible mentor the mentee joins the waiting list (once)."""
    person = await person_by_telegram(session=session, telegram_id=telegram_id)
    if person is None:
        return MenteeStatus(None)
    profile = (await session.exec(select(MentoringProfile).where(
        MentoringProfile.person_id == person.id, MentoringProfile.role == MENTEE))).first()
    if profile is None:
        return MenteeStatus(None)
    current = (await session.exec(select(MentorMatch).where(
        MentorMatch.mentee_id == person.id, col(MentorMatch.status).in_(OPEN_MATCH))
        .order_by(col(MentorMatch.id).desc()))).first()
    if current is not None:
        parties = await load_parties(session=session, match=current)
        return MenteeStatus(profile, pending=parties if current.status == MatchStatus.PENDING else None,
                            buddy=parties if current.status == MatchStatus.ACCEPTED else None)
    if not profile.active:
        profile.active = True
    suggestions = await _suggestions_in(session, profile, limit)
    if not suggestions and profile.waiting_since is None:
        profile.waiting_since = now
    elif suggestions:
        profile.waiting_since = None
    session.add(profile)
    return MenteeStatus(profile, suggestions=suggestions, waiting=not suggestions)


async def waiting_mentees(*, session: AsyncSession) -> list[int]:
    """The profile ids of reachable mentees on the waiting list, longest waiting first (for
    :func:`claim_waiting`, one transaction each)."""
    rows = await session.exec(select(MentoringProfile.id).join(
        MentoringPerson, col(MentoringPerson.id) == MentoringProfile.person_id).where(
        MentoringProfile.role == MENTEE, col(MentoringProfile.waiting_since).is_not(None),
        col(MentoringProfile.active).is_(True), col(MentoringPerson.telegram_id).is_not(None))
        .order_by(col(MentoringProfile.waiting_since)))
    return [profile_id for profile_id in rows.all() if profile_id is not None]


async def claim_waiting(*, session: AsyncSession, profile_id: int) -> tuple[int, list[Suggestion]] | None:
    """A waiting mentee for whom a compatible mentor has appeared: (chat id, suggestions), taken off the
    waiting list so they are told once (safe with several bot processes); None when there is still nobody,
    or they are no longer waiting.

    Called when a mentor offers or resumes, when a place frees, and periodically (for CLI imports).
    """
    row = (await session.exec(select(MentoringProfile, MentoringPerson).join(
        MentoringPerson, col(MentoringPerson.id) == MentoringProfile.person_id).where(
        MentoringProfile.id == profile_id, col(MentoringProfile.waiting_since).is_not(None),
        col(MentoringProfile.active).is_(True)))).first()
    if row is None or row[1].telegram_id is None:
        return None
    profile, person = row
    suggestions = await _suggestions_in(session, profile, MAX_SUGGESTIONS)
    if not suggestions:
        return None
    result = await session.exec(update(MentoringProfile).where(
        MentoringProfile.id == profile.id, col(MentoringProfile.waiting_since).is_not(None))
        .values(waiting_since=None))
    if (result.rowcount or 0) != 1:
        return None
    return person.telegram_id, suggestions


async def undelivered_proposals(*, session: AsyncSession) -> list[int]:
    """The match ids of an admin's whole-cohort suggestions not yet sent to their (reachable) mentees."""
    rows = await session.exec(select(MentorMatch.id).join(
        MentoringPerson, col(MentoringPerson.id) == MentorMatch.mentee_id).where(
        MentorMatch.status == MatchStatus.PROPOSED, col(MentorMatch.delivered_at).is_(None),
        col(MentoringPerson.telegram_id).is_not(None)))
    return [match_id for match_id in rows.all() if match_id is not None]


async def claim_proposal(*, session: AsyncSession, match_id: int,
                         now: datetime) -> tuple[Parties, Suggestion] | None:
    """Mark one proposal delivered (claimed once, safe with several bot processes) and return it as the
    mentee will see it; None when another process got there first or a profile has gone since."""
    result = await session.exec(update(MentorMatch).where(
        MentorMatch.id == match_id, MentorMatch.status == MatchStatus.PROPOSED,
        col(MentorMatch.delivered_at).is_(None))
        .values(delivered_at=now))
    if (result.rowcount or 0) != 1:
        return None
    match = await session.get(MentorMatch, match_id)
    assert match is not None
    parties = await load_parties(session=session, match=match)
    if parties.mentee_profile is None or parties.mentor_profile is None:
        return None
    mentee = MatchProfile.of(parties.mentee_profile)
    score = score_pair(mentee, MatchProfile.of(parties.mentor_profile))
    return parties, _suggestion(parties.mentor_profile, score)
