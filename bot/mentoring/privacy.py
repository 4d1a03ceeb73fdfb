"""The privacy hooks of mentoring (bot/privacy.py calls them): export everything stored about a person,
and forget them, telling the buddies affected.

Why a module of its own: what leaves with an export and what is deleted must be easy to audit in one
place; the other person of a match appears by display name only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.mentoring.drafts import draft_from_profile
from bot.mentoring.lists import MENTEE, MENTOR
from bot.mentoring.store import MatchStatus, load_parties, person_by_telegram
from db.mentoring_models import MentoringProfile, MentorMatch, MentorRelay
from knowledge.render import escape

#: Matches whose other person is told when this one uses /forget (asked, or running).
LIVE = (MatchStatus.PENDING, MatchStatus.ACCEPTED)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export_user_data(*, session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Everything stored about the person for mentoring, JSON-serialisable ({} when nothing).

    Their buddies appear by display name only: the other person's details are theirs.
    """
    person = await person_by_telegram(session=session, telegram_id=user_id)
    if person is None:
        return {}
    profiles = (await session.exec(select(MentoringProfile).where(MentoringProfile.person_id == person.id))).all()
    matches = (await session.exec(select(MentorMatch).where(or_(
        col(MentorMatch.mentee_id) == person.id, col(MentorMatch.mentor_id) == person.id)))).all()
    out_matches = []
    for match in matches:
        parties = await load_parties(session=session, match=match)
        mine_as_mentee = match.mentee_id == person.id
        out_matches.append({
            "my_role": MENTEE if mine_as_mentee else MENTOR,
            "buddy": parties.mentor_name if mine_as_mentee else parties.mentee_name,
            "status": match.status, "why": match.why, "score": match.score,
            "requested_at": _iso(match.requested_at), "accepted_at": _iso(match.accepted_at),
            "ended_at": _iso(match.ended_at), "connected": match.connected,
            **({"rating": match.rating, "comment": match.comment} if mine_as_mentee else {})})
    return {
        "person": {"telegram_id": person.telegram_id, "username": person.username,
                   "first_name": person.first_name, "imported_as": person.import_ref,
                   "created_at": _iso(person.created_at)},
        "profiles": [{**draft_from_profile(p), "active": p.active, "source": p.source,
                      "waiting_since": _iso(p.waiting_since), "created_at": _iso(p.created_at),
                      "updated_at": _iso(p.updated_at)} for p in profiles],
        "matches": out_matches,
    }


async def describe_user_data(*, session: AsyncSession, user_id: int) -> list[str]:
    """What /forget will delete here, in a few plain lines (shown before the person confirms)."""
    person = await person_by_telegram(session=session, telegram_id=user_id)
    if person is None:
        return []
    profiles = (await session.exec(select(MentoringProfile).where(MentoringProfile.person_id == person.id))).all()
    matches = (await session.exec(select(MentorMatch).where(or_(
        col(MentorMatch.mentee_id) == person.id, col(MentorMatch.mentor_id) == person.id)))).all()
    lines = []
    if profiles:
        roles = " and ".join(sorted({"mentor" if p.role == MENTOR else "mentee" for p in profiles}))
        lines.append(f"your buddy profile ({roles})")
    else:
        lines.append("your name and username kept for mentor buddies")
    live = sum(m.status in LIVE for m in matches)
    if matches:
        lines.append(f"{len(matches)} buddy request{'s' if len(matches) != 1 else ''} and match"
                     f"{'es' if len(matches) != 1 else ''}" + ("; I'll tell the other person it has ended, "
                                                                "not why" if live else ""))
    return lines


async def forget_user(*, session: AsyncSession, user_id: int) -> list[tuple[int, str]]:
    """Delete the person's mentoring data: profiles, matches (with their relay anchors) and the person.

    Returns notices for the other people affected: a buddy is told the match ended (not why); a mentee
    whose request was pending is told to choose someone else; a mentor with a pending request is told
    it was withdrawn. The caller sends them once its transaction has committed.
    """
    notices: list[tuple[int, str]] = []
    person = await person_by_telegram(session=session, telegram_id=user_id)
    if person is None:
        return []
    matches = (await session.exec(select(MentorMatch).where(or_(
        col(MentorMatch.mentee_id) == person.id, col(MentorMatch.mentor_id) == person.id)))).all()
    for match in matches:
        if match.status not in LIVE:
            continue
        parties = await load_parties(session=session, match=match)
        other = parties.mentor if match.mentee_id == person.id else parties.mentee
        if other.telegram_id is None:
            continue
        name = escape(parties.mentee_name if match.mentee_id == person.id else parties.mentor_name)
        if match.status == MatchStatus.ACCEPTED:
            notices.append((other.telegram_id, f"Your buddy match with {name} has ended. "
                                               "Thank you for the time you gave it."))
        elif match.mentee_id == person.id:
            notices.append((other.telegram_id, f"The buddy request from {name} has been withdrawn. "
                                               "There's nothing you need to do."))
        else:
            notices.append((other.telegram_id, f"{name} is no longer available as a mentor. "
                                               "Send /mentor to see other suggestions."))
    match_ids = [match.id for match in matches if match.id is not None]
    if match_ids:
        await session.exec(delete(MentorRelay).where(col(MentorRelay.match_id).in_(match_ids)))
        await session.exec(delete(MentorMatch).where(col(MentorMatch.id).in_(match_ids)))
    await session.exec(delete(MentoringProfile).where(MentoringProfile.person_id == person.id))
    await session.delete(person)
    return notices
