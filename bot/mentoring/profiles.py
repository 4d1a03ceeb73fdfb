"""People and their stored profiles: linking a Telegram account to an imported person, saving, pausing
and deleting a profile.

Why a module of its own: a person can arrive twice (imported by an admin by username, and from the chat
by Telegram id); joining the two rows and keeping usernames fresh is delicate and belongs in one place.
Nothing is created for people who never used mentoring.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.mentoring.cleaning import clean_line, normalise_username
from bot.mentoring.drafts import ProfileDraft, apply_draft
from bot.mentoring.lists import MENTOR
from bot.mentoring.store import ACTIVE_MATCH, EndReason, MatchStatus, ProfileSource, load_parties, person_by_telegram
from db.mentoring_models import MentoringPerson, MentoringProfile, MentorMatch
from knowledge.render import escape


async def _ensure_person(session: AsyncSession, telegram_id: int, username: str | None,
                         first_name: str) -> MentoringPerson:
    """The person with this Telegram id: found, linked from an imported username, or created."""
    person = await person_by_telegram(session=session, telegram_id=telegram_id)
    handle = normalise_username(username)
    if handle:
        imported = (await session.exec(select(MentoringPerson).where(
            MentoringPerson.username == handle, col(MentoringPerson.telegram_id).is_(None)))).first()
        if person is None:
            person = imported
        elif imported is not None and imported.id != person.id:
            await _merge(session, imported, person)
    if person is None:
        person = MentoringPerson(telegram_id=telegram_id, first_name=clean_line(first_name))
    person.telegram_id = telegram_id
    if handle != person.username:
        if handle:  # a username moves with its owner: take it off any stale row first
            stale = update(MentoringPerson).where(MentoringPerson.username == handle)
            if person.id is not None:
                stale = stale.where(MentoringPerson.id != person.id)
            await session.exec(stale.values(username=None))
        person.username = handle
    if first_name:
        person.first_name = clean_line(first_name)
    session.add(person)
    await session.flush()
    return person


async def _merge(session: AsyncSession, imported: MentoringPerson, person: MentoringPerson) -> None:
    """An admin imported someone by username who already uses the bot under another row: join the two.

    Profiles the person does not have yet move over; their own profiles win over imported ones.
    """
    roles = set((await session.exec(select(MentoringProfile.role).where(
        MentoringProfile.person_id == person.id))).all())
    for profile in (await session.exec(select(MentoringProfile).where(
            MentoringProfile.person_id == imported.id))).all():
        if profile.role in roles:
            await session.delete(profile)
        else:
            profile.person_id = person.id or 0
            session.add(profile)
    await session.exec(update(MentorMatch).where(MentorMatch.mentee_id == imported.id).values(mentee_id=person.id))
    await session.exec(update(MentorMatch).where(MentorMatch.mentor_id == imported.id).values(mentor_id=person.id))
    ref = imported.import_ref
    await session.delete(imported)
    await session.flush()
    if person.import_ref is None:
        person.import_ref = ref


async def link_person(*, session: AsyncSession, telegram_id: int, username: str | None, first_name: str) -> bool:
    """Someone talked to the bot: link an imported row with their username, refresh their username.

    Creates nothing for people who never used mentoring (data minimisation). Returns True when an
    imported person was linked just now, so held requests and proposals can be delivered.
    """
    handle = normalise_username(username)
    person = await person_by_telegram(session=session, telegram_id=telegram_id)
    if person is not None:
        if person.username != handle or (first_name and person.first_name != clean_line(first_name)):
            await _ensure_person(session, telegram_id, username, first_name)
        return False
    if handle is None:
        return False
    waiting = (await session.exec(select(MentoringPerson).where(
        MentoringPerson.username == handle, col(MentoringPerson.telegram_id).is_(None)))).first()
    if waiting is None:
        return False
    await _ensure_person(session, telegram_id, username, first_name)
    return True


async def profiles_of(*, session: AsyncSession, telegram_id: int) -> dict[str, MentoringProfile]:
    """The person's profiles by role ({} when they have none)."""
    person = await person_by_telegram(session=session, telegram_id=telegram_id)
    if person is None:
        return {}
    rows = await session.exec(select(MentoringProfile).where(MentoringProfile.person_id == person.id))
    return {row.role: row for row in rows.all()}


async def save_profile(*, session: AsyncSession, telegram_id: int, username: str | None, first_name: str,
                       draft: ProfileDraft, now: datetime) -> tuple[MentoringProfile, bool]:
    """Create or update the person's profile in ``draft.role``; returns it and whether it is new."""
    person = await _ensure_person(session, telegram_id, username, first_name)
    profile = (await session.exec(select(MentoringProfile).where(
        MentoringProfile.person_id == person.id, MentoringProfile.role == draft.role))).first()
    created = profile is None
    if profile is None:
        profile = MentoringProfile(person_id=person.id or 0, role=draft.role, display_name="", organisation="",
                                   org_type="", region="", created_at=now)
    apply_draft(profile, draft)
    profile.source, profile.updated_at = ProfileSource.BOT, now
    session.add(profile)
    await session.flush()
    return profile, created


async def set_active(*, session: AsyncSession, telegram_id: int, role: str, active: bool,
                     now: datetime) -> MentoringProfile | None:
    """Pause or resume a mentor (no new requests), or stop or restart a mentee's search."""
    person = await person_by_telegram(session=session, telegram_id=telegram_id)
    if person is None:
        return None
    profile = (await session.exec(select(MentoringProfile).where(
        MentoringProfile.person_id == person.id, MentoringProfile.role == role))).first()
    if profile is None:
        return None
    profile.active, profile.updated_at = active, now
    if not active:
        profile.waiting_since = None
    session.add(profile)
    return profile


async def delete_profile(*, session: AsyncSession, user_id: int, role: str, now: datetime) -> list[tuple[int, str]]:
    """Remove one of the person's profiles; open matches in that role end, and the buddies are told."""
    notices: list[tuple[int, str]] = []
    person = await person_by_telegram(session=session, telegram_id=user_id)
    if person is None:
        return []
    side = MentorMatch.mentor_id if role == MENTOR else MentorMatch.mentee_id
    matches = (await session.exec(select(MentorMatch).where(
        side == person.id, col(MentorMatch.status).in_(ACTIVE_MATCH)))).all()
    for match in matches:
        parties = await load_parties(session=session, match=match)
        other = parties.mentee if role == MENTOR else parties.mentor
        name = escape(parties.mentor_name if role == MENTOR else parties.mentee_name)
        previous = match.status
        match.status, match.ended_at, match.end_reason = (
            MatchStatus.CLOSED if previous == MatchStatus.ACCEPTED else MatchStatus.WITHDRAWN), now, EndReason.LEFT
        session.add(match)
        if other.telegram_id is not None and previous == MatchStatus.ACCEPTED:
            notices.append((other.telegram_id, f"Your buddy match with {name} has ended. "
                                               "Thank you for the time you gave it."))
        elif other.telegram_id is not None and previous == MatchStatus.PENDING:
            notices.append((other.telegram_id, f"{name} is no longer available as a mentor. "
                                               "Send /mentor to see other suggestions."
                            if role == MENTOR else f"The buddy request from {name} has been withdrawn."))
    await session.exec(delete(MentoringProfile).where(
        MentoringProfile.person_id == person.id, MentoringProfile.role == role))
    return notices
