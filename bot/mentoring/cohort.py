"""The admins' view (``partnerbot mentors``): the whole cohort as plain values for the assignment in
bot/mentor_matching.py, storing its proposals, and listing every profile.

Why a module of its own: admins know people by the ids in their CSV files, not by database ids, and
see everyone at once; the chat never does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.mentoring.lists import MENTEE, MENTOR, split_slugs
from bot.mentoring.scoring import MatchProfile
from bot.mentoring.store import ACTIVE_MATCH, ENDED_PAIR, MatchStatus, mentor_loads
from db.mentoring_models import MentoringPerson, MentoringProfile, MentorMatch


@dataclass
class Cohort:
    """Everyone the whole-cohort assignment considers, as plain values, plus the ids admins know them by."""

    mentees: list[MatchProfile]
    mentors: list[MatchProfile]
    refs: dict[int, int | str]
    excluded_pairs: set[tuple[int, int]]
    #: People left out because the bot cannot reach them yet, with the reason in words.
    left_out: dict[int, str] = field(default_factory=dict)


def person_ref(person: MentoringPerson) -> int | str:
    """How an admin knows a person: the CSV's ``telegram`` value (a number stays a number), else the id."""
    ref = person.import_ref
    if ref is None:
        return person.telegram_id if person.telegram_id is not None else f"@{person.username}"
    return int(ref) if ref.isdigit() else ref


NOT_STARTED = "has not opened the bot yet, so the bot cannot message them"


async def load_cohort(*, session: AsyncSession) -> Cohort:
    """Mentees looking for a buddy (none pending, proposed or matched) and every active mentor, among the
    people the bot can reach; the others are in ``left_out`` with the reason.

    Why only those: the chat suggests only mentors who have opened the bot, and an admin's proposal to an
    unreachable mentee or of an unreachable mentor would sit undelivered while the chat offers others.
    """
    people = {p.id: p for p in (await session.exec(select(MentoringPerson))).all()}
    profiles = (await session.exec(select(MentoringProfile).where(col(MentoringProfile.active).is_(True))
                                   .order_by(col(MentoringProfile.id)))).all()
    busy = set((await session.exec(select(MentorMatch.mentee_id).where(
        col(MentorMatch.status).in_(ACTIVE_MATCH)))).all())
    loads = await mentor_loads(session=session)
    ended = (await session.exec(select(MentorMatch.mentee_id, MentorMatch.mentor_id).where(
        col(MentorMatch.status).in_(ENDED_PAIR)))).all()
    reachable = {pid for pid, person in people.items() if person.telegram_id is not None}
    left_out = {p.person_id: NOT_STARTED for p in profiles if p.person_id not in reachable
                and (p.role == MENTOR or p.person_id not in busy)}
    mentees = [MatchProfile.of(p) for p in profiles
               if p.role == MENTEE and p.person_id not in busy and p.person_id in reachable]
    mentors = [MatchProfile.of(p, loads.get(p.person_id, 0)) for p in profiles
               if p.role == MENTOR and p.person_id in reachable]
    refs = {pid: person_ref(person) for pid, person in people.items() if pid is not None}
    return Cohort(mentees, mentors, refs, {(a, b) for a, b in ended}, left_out)


async def record_proposals(*, session: AsyncSession, pairs: Iterable[tuple[int, int, float, str]],
                           now: datetime) -> int:
    """Store an admin's assignments as proposals to the mentees (sent by the bot's delivery job)."""
    count = 0
    for mentee_id, mentor_id, score, why in pairs:
        exists = (await session.exec(select(MentorMatch).where(
            MentorMatch.mentee_id == mentee_id, col(MentorMatch.status).in_(ACTIVE_MATCH)))).first()
        if exists is not None:
            continue
        session.add(MentorMatch(mentee_id=mentee_id, mentor_id=mentor_id, status=MatchStatus.PROPOSED, score=score,
                                why=why[:400], created_at=now))
        count += 1
    return count


async def list_profiles(*, session: AsyncSession) -> list[dict[str, Any]]:
    """Every profile with its person's admin id and current load, for ``partnerbot mentors list``."""
    rows = (await session.exec(select(MentoringProfile, MentoringPerson).join(
        MentoringPerson, col(MentoringPerson.id) == MentoringProfile.person_id)
        .order_by(col(MentoringProfile.role), col(MentoringProfile.id)))).all()
    loads = await mentor_loads(session=session)
    accepted = dict((await session.exec(select(MentorMatch.mentor_id, func.count()).where(
        MentorMatch.status == MatchStatus.ACCEPTED).group_by(MentorMatch.mentor_id))).all())
    out = []
    for profile, person in rows:
        item: dict[str, Any] = {
            "id": person_ref(person), "role": profile.role, "name": profile.display_name,
            "organisation": profile.organisation, "org_type": profile.org_type, "region": profile.region,
            "topics": split_slugs(profile.topics), "active": profile.active,
            "linked": person.telegram_id is not None, "source": profile.source}
        if profile.role == MENTOR:
            item.update(capacity=profile.capacity, mentees=accepted.get(person.id, 0),
                        reserved=loads.get(person.id or 0, 0))
        else:
            item["waiting"] = profile.waiting_since is not None
        out.append(item)
    return out
