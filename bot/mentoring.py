"""The rules of mentor buddies, free of Telegram: profiles, who may mentor whom, scores and reasons,
requests and answers, the waiting list, follow-ups, and the privacy hooks.

Why plain Python: the same rules serve the chat (bot/handlers/mentoring.py), the admins' command line
(bot/cli_mentors.py, bot/mentor_import.py) and the whole-cohort assignment (bot/mentor_matching.py), and
they are tested without a bot. Everything that must survive a restart is a row (db/mentoring_models.py);
scheduled follow-ups are due times on rows that the scheduler claims, never timers held in memory.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process
from sqlalchemy import func, or_, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import Database
from db.mentoring_models import (
    MAX_COMMENT_CHARS,
    MAX_NAME_CHARS,
    MAX_STORY_CHARS,
    MAX_USERNAME_CHARS,
    MentoringPerson,
    MentoringProfile,
    MentorMatch,
    MentorRelay,
)
from knowledge.render import escape

log = logging.getLogger(__name__)

MENTOR, MENTEE = "mentor", "mentee"
ROLES = (MENTOR, MENTEE)
MIN_CAPACITY, MAX_CAPACITY = 1, 5
MAX_SUGGESTIONS = 3
CHECKIN_AFTER = timedelta(days=14)
CHECKIN_AGAIN_AFTER = timedelta(days=7)
MAX_CHECKIN_ASKS = 2
REVIEW_AFTER = timedelta(days=90)


# -- the fixed lists ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """One item of a fixed list: a stable slug (stored), a label (shown) and a short label (in reasons)."""

    slug: str
    label: str
    short: str = ""
    note: str = ""

    @property
    def brief(self) -> str:
        return self.short or self.label.lower()


#: Topics, each grounded in the seed documents (../shared/seeds) that the knowledge base is written from.
TOPICS: tuple[Choice, ...] = (
    Choice("finding", "Finding partners", "finding partners",
           "seminar panel: 'How do you find someone who will collaborate with you?'"),
    Choice("consortia", "Consortia and joint bids", "consortia and bids",
           "briefing and worksheet: working in a consortium, bidding together"),
    Choice("diligence", "Due diligence", "due diligence", "panel questions and worksheet on checking partners"),
    Choice("mou", "Partnership agreements and MoUs", "MoUs",
           "worksheet: 'Agree a memorandum of understanding'"),
    Choice("governance", "Governance and joint boards", "governance",
           "workbook: governance, accountability and levels of partnership"),
    Choice("legal", "Legal structures and mergers", "legal structures",
           "CAVS guide: forms of partnership from networks to mergers"),
    Choice("statutory", "Working with statutory bodies", "statutory bodies",
           "panel: 'differences between partnership with a statutory and a voluntary organisation'"),
    Choice("lead", "Lead agency and sub-contracting", "lead agency",
           "worksheet: sub-contracting relationships with a larger lead agency"),
    Choice("data", "Data sharing and protection", "data sharing",
           "workbook: information sharing between health, council and voluntary partners"),
    Choice("conflict", "Conflict and difficult partners", "conflict",
           "panel: 'How do you cope with a conflict of interest or competition?'"),
    Choice("culture", "Culture and communication", "culture",
           "workbook and worksheet: organisational cultures, a unifying brand"),
    Choice("review", "Reviewing and evaluating a partnership", "reviewing",
           "briefing: 'Meet regularly to review progress'"),
    Choice("community", "Community involvement", "community involvement",
           "briefing and workbook: involving communities and service users"),
)
ORG_TYPES: tuple[Choice, ...] = (
    Choice("community", "Community group", "a community group"),
    Choice("charity", "Charity", "a charity"),
    Choice("social_enterprise", "Social enterprise", "a social enterprise"),
    Choice("statutory", "Statutory body", "a statutory body"),
    Choice("other", "Other", "other kinds of partner"),
)
#: UK nations and the English regions.
REGIONS: tuple[Choice, ...] = (
    Choice("north_east", "North East"), Choice("north_west", "North West"),
    Choice("yorkshire", "Yorkshire and the Humber"), Choice("east_midlands", "East Midlands"),
    Choice("west_midlands", "West Midlands"), Choice("east", "East of England"), Choice("london", "London"),
    Choice("south_east", "South East"), Choice("south_west", "South West"), Choice("scotland", "Scotland"),
    Choice("wales", "Wales"), Choice("northern_ireland", "Northern Ireland"),
)
#: The five stages of a partnership in the workbook (seed 003: "Typical characteristics of each stage").
STAGES: tuple[Choice, ...] = (
    Choice("forming", "Forming", "forming", "common cause, early enthusiasm"),
    Choice("frustration", "Frustration", "frustration", "slow progress, tensions surface"),
    Choice("functioning", "Functioning", "functioning", "roles agreed, work getting done"),
    Choice("flying", "Flying", "flying", "high trust, achieving together"),
    Choice("failing", "Failing", "failing", "falling apart or winding down"),
)


def _by_slug(choices: Sequence[Choice]) -> dict[str, Choice]:
    return {choice.slug: choice for choice in choices}


TOPIC_BY_SLUG = _by_slug(TOPICS)
ORG_TYPE_BY_SLUG = _by_slug(ORG_TYPES)
REGION_BY_SLUG = _by_slug(REGIONS)
STAGE_BY_SLUG = _by_slug(STAGES)


def label(choices: Sequence[Choice], slug: str | None) -> str:
    """The label of ``slug`` in ``choices`` (the slug itself if the list no longer has it)."""
    for choice in choices:
        if choice.slug == slug:
            return choice.label
    return slug or ""


# -- cleaning what people type ---------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
USERNAME_PATTERN = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


def clean_line(text: str | None, limit: int = MAX_NAME_CHARS) -> str:
    """One line of text as stored: control and invisible characters removed, spaces collapsed, bounded."""
    text = unicodedata.normalize("NFC", text or "")
    return " ".join(_CONTROL.sub(" ", text).split())[:limit]


def clean_story(text: str | None) -> str:
    """A story keeps its line breaks (at most one blank line) but loses control characters."""
    text = unicodedata.normalize("NFC", text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(_CONTROL.sub(" ", line).split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def normalise_org(name: str) -> str:
    """An organisation's name for comparison: case and spaces ignored ("Age UK" == "age  uk" == "AgeUK")."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def normalise_username(username: str | None) -> str | None:
    """A Telegram username as stored: without '@', lowercased (Telegram usernames ignore case)."""
    if not username:
        return None
    match = USERNAME_PATTERN.match(username.strip())
    return match.group(1).lower()[:MAX_USERNAME_CHARS] if match else None


def split_slugs(value: str | None) -> list[str]:
    return [part for part in (value or "").split(";") if part]


def join_slugs(slugs: Iterable[str], allowed: Sequence[Choice]) -> str:
    """Known slugs, in the fixed list's order, without duplicates."""
    wanted = set(slugs)
    return ";".join(choice.slug for choice in allowed if choice.slug in wanted)


# -- profiles as plain values ------------------------------------------------------------------------
class ProfileError(ValueError):
    """A profile value that cannot be used; ``str()`` is a friendly sentence for the person."""


@dataclass
class ProfileDraft:
    """A profile's fields as plain values, validated by :func:`validate_draft` before it is saved."""

    role: str
    display_name: str
    organisation: str
    org_type: str
    region: str
    town: str | None = None
    topics: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    partner_types: list[str] = field(default_factory=list)
    story: str = ""
    capacity: int = 1


def validate_draft(values: dict[str, Any]) -> ProfileDraft:
    """Check and bound every field; raise ProfileError naming the first problem in plain words."""
    role = values.get("role")
    if role not in ROLES:
        raise ProfileError("Choose whether you are offering to mentor or looking for a buddy.")
    name = clean_line(values.get("display_name"))
    if not name:
        raise ProfileError("Please give a name to show.")
    organisation = clean_line(values.get("organisation"))
    if not organisation:
        raise ProfileError("Please give your organisation's name.")
    org_type = values.get("org_type")
    if org_type not in ORG_TYPE_BY_SLUG:
        raise ProfileError("Please choose your kind of organisation.")
    region = values.get("region")
    if region not in REGION_BY_SLUG:
        raise ProfileError("Please choose your area.")
    topics = [slug for slug in values.get("topics") or [] if slug in TOPIC_BY_SLUG]
    if not topics:
        raise ProfileError("Please choose at least one topic.")
    stages = [slug for slug in values.get("stages") or [] if slug in STAGE_BY_SLUG]
    partner_types = [slug for slug in values.get("partner_types") or [] if slug in ORG_TYPE_BY_SLUG]
    story = clean_story(values.get("story"))
    if len(story) > MAX_STORY_CHARS:
        raise ProfileError(f"Please keep the story to {MAX_STORY_CHARS} characters (it has {len(story)}).")
    try:
        capacity = int(values.get("capacity") or 1)
    except (TypeError, ValueError):
        raise ProfileError("Capacity must be a number from 1 to 5.") from None
    if role == MENTOR and not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise ProfileError("Capacity must be a number from 1 to 5.")
    town = clean_line(values.get("town")) or None
    return ProfileDraft(role=role, display_name=name, organisation=organisation, org_type=org_type,
                        region=region, town=town, topics=topics, stages=stages, partner_types=partner_types,
                        story=story, capacity=capacity if role == MENTOR else 1)


def draft_from_profile(profile: MentoringProfile) -> dict[str, Any]:
    """A stored profile as the JSON-serialisable dict a conversation edits."""
    return {"role": profile.role, "display_name": profile.display_name, "organisation": profile.organisation,
            "org_type": profile.org_type, "region": profile.region, "town": profile.town,
            "topics": split_slugs(profile.topics), "stages": split_slugs(profile.stages),
            "partner_types": split_slugs(profile.partner_types), "story": profile.story,
            "capacity": profile.capacity}


# -- matching rules ------------------------------------------------------------------------------------
_STOPWORD_TEXT = (
    "a an and are as at be been but by for from had has have how i i'm in into is it its me my of on or our "
    "so that the their them they this to up us was we were what when which who will with would you your "
    "need help want about some get got do did")
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def story_key(story: str) -> str:
    """A story reduced to its distinct content words, sorted: what similarity is computed on.

    Precomputing this once per person keeps whole-cohort scoring (millions of pairs) fast, and makes
    the comparison insensitive to word order, repetition, case and punctuation.
    """
    words = {word for word in default_process(story).split() if word not in _STOPWORDS and len(word) > 2}
    return " ".join(sorted(words))


def story_similarity(key_a: str, key_b: str) -> float:
    """0-100: how alike two stories are (rapidfuzz's normalised Indel similarity on their keys)."""
    if not key_a or not key_b:
        return 0.0
    return float(fuzz.ratio(key_a, key_b))


@dataclass(frozen=True)
class MatchProfile:
    """What matching needs to know about one person in one role; plain values only."""

    person_id: int
    org_key: str
    org_type: str
    region: str
    topics: frozenset[str]
    stages: frozenset[str] = frozenset()
    partner_types: frozenset[str] = frozenset()
    story_key: str = ""
    capacity: int = 1
    load: int = 0
    active: bool = True

    @classmethod
    def of(cls, profile: MentoringProfile, load: int = 0) -> MatchProfile:
        return cls(person_id=profile.person_id, org_key=normalise_org(profile.organisation),
                   org_type=profile.org_type, region=profile.region, topics=frozenset(split_slugs(profile.topics)),
                   stages=frozenset(split_slugs(profile.stages)),
                   partner_types=frozenset(split_slugs(profile.partner_types)), story_key=story_key(profile.story),
                   capacity=profile.capacity, load=load, active=profile.active)


#: The hard constraints, in the order they are checked; each name is also the reason reported.
SAME_PERSON = "same person"
SAME_ORGANISATION = "same organisation"
NO_SHARED_TOPIC = "no topic in common"
MENTOR_PAUSED = "mentor paused"
MENTOR_FULL = "mentor at capacity"
PAIR_BEFORE = "declined or ended before"


def constraint_problem(mentee: MatchProfile, mentor: MatchProfile,
                       excluded_pairs: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset()) -> str | None:
    """The first hard constraint the pair breaks, or None when the mentor may be suggested.

    ``excluded_pairs`` holds (mentee person id, mentor person id) pairs that declined, timed out or
    ended before, or are already pending or matched.
    """
    if mentee.person_id == mentor.person_id:
        return SAME_PERSON
    if mentee.org_key and mentee.org_key == mentor.org_key:
        return SAME_ORGANISATION
    if not mentee.topics & mentor.topics:
        return NO_SHARED_TOPIC
    if not mentor.active:
        return MENTOR_PAUSED
    if mentor.load >= mentor.capacity:
        return MENTOR_FULL
    if (mentee.person_id, mentor.person_id) in excluded_pairs:
        return PAIR_BEFORE
    return None


WEIGHT_COVERAGE = 50.0
WEIGHT_STORY = 15.0
WEIGHT_REGION = 10.0
WEIGHT_STAGE = 10.0
WEIGHT_PARTNER = 10.0
WEIGHT_LOAD = 5.0
SIMILAR_STORY = 50.0
#: Which shared partner kind to mention first: the one people most often ask about.
PARTNER_PREFERENCE = ("statutory", "social_enterprise", "charity", "community", "other")


@dataclass(frozen=True)
class Score:
    """A pair's score (0-100) and its parts, so the reason can be put into words."""

    total: float
    shared_topics: tuple[str, ...]
    coverage: float
    story: float
    same_region: bool
    stage: str | None
    partner: str | None
    load_share: float


def score_pair(mentee: MatchProfile, mentor: MatchProfile, similarity: float | None = None) -> Score:
    """How well ``mentor`` suits ``mentee``. Coverage of the mentee's topics weighs most (50 of 100);
    then a similar story (15), same region (10), experience of the mentee's stage (10), experience of the
    kind of partner the mentee deals with (10), and a little (5) for mentors with fewer active mentees."""
    shared = tuple(choice.slug for choice in TOPICS if choice.slug in mentee.topics and choice.slug in mentor.topics)
    coverage = len(shared) / len(mentee.topics) if mentee.topics else 0.0
    story = story_similarity(mentee.story_key, mentor.story_key) if similarity is None else similarity
    same_region = mentee.region == mentor.region
    stage = next((choice.slug for choice in STAGES if choice.slug in mentee.stages & mentor.stages), None)
    partner = next((slug for slug in PARTNER_PREFERENCE if slug in mentee.partner_types & mentor.partner_types),
                   None)
    free = max(0.0, 1.0 - mentor.load / mentor.capacity) if mentor.capacity > 0 else 0.0
    total = (WEIGHT_COVERAGE * coverage + WEIGHT_STORY * story / 100.0 + (WEIGHT_REGION if same_region else 0.0)
             + (WEIGHT_STAGE if stage else 0.0) + (WEIGHT_PARTNER if partner else 0.0) + WEIGHT_LOAD * free)
    return Score(round(total, 2), shared, coverage, story, same_region, stage, partner, free)


def explain(score: Score) -> str:
    """The reason in words: "Shares: due diligence, MoUs · Same region · Has worked with a statutory body"."""
    parts = ["Shares: " + ", ".join(TOPIC_BY_SLUG[slug].brief for slug in score.shared_topics)]
    if score.story >= SIMILAR_STORY:
        parts.append("Similar story")
    if score.same_region:
        parts.append("Same region")
    if score.stage:
        parts.append(f"Has been through the {STAGE_BY_SLUG[score.stage].brief} stage")
    if score.partner:
        parts.append(f"Has worked with {ORG_TYPE_BY_SLUG[score.partner].brief}")
    return " · ".join(parts)


def rank(mentee: MatchProfile, mentors: Iterable[MatchProfile], excluded_pairs: frozenset[tuple[int, int]]
         | set[tuple[int, int]] = frozenset(), limit: int = MAX_SUGGESTIONS) -> list[tuple[MatchProfile, Score]]:
    """The best ``limit`` compatible mentors for ``mentee``, best first (ties: fewer mentees, then id)."""
    scored = [(mentor, score_pair(mentee, mentor)) for mentor in mentors
              if constraint_problem(mentee, mentor, excluded_pairs) is None]
    scored.sort(key=lambda pair: (-pair[1].total, pair[0].load, pair[0].person_id))
    return scored[:limit]


# -- storage ---------------------------------------------------------------------------------------------
ACTIVE_MATCH = ("proposed", "pending", "accepted")
ENDED_PAIR = ("declined", "timed_out", "closed")


class MentoringError(Exception):
    """A request that cannot be done; ``str()`` is a friendly sentence for the person."""


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


async def _person_by_telegram(session: AsyncSession, telegram_id: int) -> MentoringPerson | None:
    return (await session.exec(select(MentoringPerson).where(MentoringPerson.telegram_id == telegram_id))).first()


async def _ensure_person(session: AsyncSession, telegram_id: int, username: str | None,
                         first_name: str) -> MentoringPerson:
    """The person with this Telegram id: found, linked from an imported username, or created."""
    person = await _person_by_telegram(session, telegram_id)
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


async def link_person(database: Database, telegram_id: int, username: str | None, first_name: str) -> bool:
    """Someone talked to the bot: link an imported row with their username, refresh their username.

    Creates nothing for people who never used mentoring (data minimisation). Returns True when an
    imported person was linked just now, so held requests and proposals can be delivered.
    """
    handle = normalise_username(username)
    async with database.session() as session:
        person = await _person_by_telegram(session, telegram_id)
        if person is not None:
            if person.username != handle or (first_name and person.first_name != clean_line(first_name)):
                await _ensure_person(session, telegram_id, username, first_name)
                await session.commit()
            return False
        if handle is None:
            return False
        waiting = (await session.exec(select(MentoringPerson).where(
            MentoringPerson.username == handle, col(MentoringPerson.telegram_id).is_(None)))).first()
        if waiting is None:
            return False
        await _ensure_person(session, telegram_id, username, first_name)
        await session.commit()
        return True


async def profiles_of(database: Database, telegram_id: int) -> dict[str, MentoringProfile]:
    """The person's profiles by role ({} when they have none)."""
    async with database.session() as session:
        person = await _person_by_telegram(session, telegram_id)
        if person is None:
            return {}
        rows = await session.exec(select(MentoringProfile).where(MentoringProfile.person_id == person.id))
        return {row.role: row for row in rows.all()}


async def save_profile(database: Database, *, telegram_id: int, username: str | None, first_name: str,
                       draft: ProfileDraft, now: datetime) -> tuple[MentoringProfile, bool]:
    """Create or update the person's profile in ``draft.role``; returns it and whether it is new."""
    async with database.session() as session:
        person = await _ensure_person(session, telegram_id, username, first_name)
        profile = (await session.exec(select(MentoringProfile).where(
            MentoringProfile.person_id == person.id, MentoringProfile.role == draft.role))).first()
        created = profile is None
        if profile is None:
            profile = MentoringProfile(person_id=person.id or 0, role=draft.role, display_name="", organisation="",
                                       org_type="", region="", created_at=now)
        apply_draft(profile, draft)
        profile.source, profile.updated_at = "bot", now
        session.add(profile)
        await session.commit()
        return profile, created


def apply_draft(profile: MentoringProfile, draft: ProfileDraft) -> None:
    profile.display_name, profile.organisation = draft.display_name, draft.organisation
    profile.org_type, profile.region, profile.town = draft.org_type, draft.region, draft.town
    profile.topics = join_slugs(draft.topics, TOPICS)
    profile.stages = join_slugs(draft.stages, STAGES)
    profile.partner_types = join_slugs(draft.partner_types, ORG_TYPES)
    profile.story, profile.capacity = draft.story, draft.capacity


async def set_active(database: Database, telegram_id: int, role: str, active: bool,
                     now: datetime) -> MentoringProfile | None:
    """Pause or resume a mentor (no new requests), or stop or restart a mentee's search."""
    async with database.session() as session:
        person = await _person_by_telegram(session, telegram_id)
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
        await session.commit()
        return profile


async def _loads(session: AsyncSession, mentor_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Mentees each mentor has or has been asked for: proposed, pending and accepted matches."""
    query = select(MentorMatch.mentor_id, func.count()).where(col(MentorMatch.status).in_(ACTIVE_MATCH))
    if mentor_ids is not None:
        query = query.where(col(MentorMatch.mentor_id).in_(list(mentor_ids)))
    rows = await session.exec(query.group_by(MentorMatch.mentor_id))
    return {mentor_id: count for mentor_id, count in rows.all()}


async def _excluded_for(session: AsyncSession, mentee_id: int) -> set[tuple[int, int]]:
    rows = await session.exec(select(MentorMatch.mentor_id).where(
        MentorMatch.mentee_id == mentee_id, col(MentorMatch.status).in_((*ENDED_PAIR, "pending", "accepted"))))
    return {(mentee_id, mentor_id) for mentor_id in rows.all()}


async def _mentor_pool(session: AsyncSession, *, reachable_only: bool) -> list[tuple[MentoringProfile, int]]:
    query = select(MentoringProfile).join(MentoringPerson, col(MentoringPerson.id) == MentoringProfile.person_id) \
        .where(MentoringProfile.role == MENTOR, col(MentoringProfile.active).is_(True))
    if reachable_only:
        query = query.where(col(MentoringPerson.telegram_id).is_not(None))
    profiles = list((await session.exec(query)).all())
    loads = await _loads(session)
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
    excluded = await _excluded_for(session, mentee_profile.person_id)
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


async def mentee_status(database: Database, telegram_id: int, now: datetime,
                        limit: int = MAX_SUGGESTIONS) -> MenteeStatus:
    """What /mentor shows. With no compatible mentor the mentee joins the waiting list (once)."""
    async with database.session() as session:
        person = await _person_by_telegram(session, telegram_id)
        if person is None:
            return MenteeStatus(None)
        profile = (await session.exec(select(MentoringProfile).where(
            MentoringProfile.person_id == person.id, MentoringProfile.role == MENTEE))).first()
        if profile is None:
            return MenteeStatus(None)
        current = (await session.exec(select(MentorMatch).where(
            MentorMatch.mentee_id == person.id, col(MentorMatch.status).in_(("pending", "accepted")))
            .order_by(col(MentorMatch.id).desc()))).first()
        if current is not None:
            parties = await _parties(session, current)
            return MenteeStatus(profile, pending=parties if current.status == "pending" else None,
                                buddy=parties if current.status == "accepted" else None)
        if not profile.active:
            profile.active = True
        suggestions = await _suggestions_in(session, profile, limit)
        if not suggestions and profile.waiting_since is None:
            profile.waiting_since = now
        elif suggestions:
            profile.waiting_since = None
        session.add(profile)
        await session.commit()
        return MenteeStatus(profile, suggestions=suggestions, waiting=not suggestions)


async def _parties(session: AsyncSession, match: MentorMatch) -> Parties:
    mentee = await session.get(MentoringPerson, match.mentee_id)
    mentor = await session.get(MentoringPerson, match.mentor_id)
    assert mentee is not None and mentor is not None
    profiles = (await session.exec(select(MentoringProfile).where(
        or_(col(MentoringProfile.person_id) == mentee.id, col(MentoringProfile.person_id) == mentor.id)))).all()
    mentee_profile = next((p for p in profiles if p.person_id == mentee.id and p.role == MENTEE), None)
    mentor_profile = next((p for p in profiles if p.person_id == mentor.id and p.role == MENTOR), None)
    return Parties(match, mentee, mentor, mentee_profile, mentor_profile)


async def request_mentor(database: Database, telegram_id: int, mentor_person_id: int, now: datetime) -> Parties:
    """The mentee asks a mentor. The hard constraints are checked again here (buttons can be old or forged).

    One request at a time, and not while the mentee has a buddy. Raises MentoringError with the reason.
    """
    async with database.session() as session:
        person = await _person_by_telegram(session, telegram_id)
        mentee_profile = None if person is None else (await session.exec(select(MentoringProfile).where(
            MentoringProfile.person_id == person.id, MentoringProfile.role == MENTEE))).first()
        if person is None or mentee_profile is None:
            raise MentoringError("Please set up your request first with /mentor.")
        busy = (await session.exec(select(MentorMatch).where(
            MentorMatch.mentee_id == person.id, col(MentorMatch.status).in_(("pending", "accepted"))))).first()
        if busy is not None:
            raise MentoringError("You already have a request waiting for an answer." if busy.status == "pending"
                                 else "You already have a buddy. Use /mentor to see them.")
        mentor_profile = (await session.exec(select(MentoringProfile).where(
            MentoringProfile.person_id == mentor_person_id, MentoringProfile.role == MENTOR)
            .with_for_update())).first()
        mentor_person = await session.get(MentoringPerson, mentor_person_id)
        if mentor_profile is None or mentor_person is None:
            raise MentoringError("Sorry, that mentor is no longer available.")
        loads = await _loads(session, [mentor_person_id])
        proposal = (await session.exec(select(MentorMatch).where(
            MentorMatch.mentee_id == person.id, MentorMatch.mentor_id == mentor_person_id,
            MentorMatch.status == "proposed"))).first()
        load = loads.get(mentor_person_id, 0) - (1 if proposal is not None else 0)
        mentee, mentor = MatchProfile.of(mentee_profile), MatchProfile.of(mentor_profile, load)
        problem = constraint_problem(mentee, mentor, await _excluded_for(session, person.id or 0))
        if problem is not None:
            raise MentoringError({
                MENTOR_FULL: "Sorry, that mentor has just become fully booked.",
                MENTOR_PAUSED: "Sorry, that mentor is taking a break from new requests.",
            }.get(problem, "Sorry, that mentor is no longer available to you."))
        score = score_pair(mentee, mentor)
        match = proposal or MentorMatch(mentee_id=person.id or 0, mentor_id=mentor_person_id, status="pending",
                                        created_at=now)
        match.status, match.requested_at, match.score, match.why = "pending", now, score.total, explain(score)
        await session.exec(update(MentorMatch).where(   # other proposals for this mentee lapse
            MentorMatch.mentee_id == person.id, MentorMatch.status == "proposed",
            MentorMatch.mentor_id != mentor_person_id).values(status="withdrawn", ended_at=now))
        mentee_profile.waiting_since = None
        session.add_all([match, mentee_profile])
        await session.commit()
        return await _parties(session, match)


async def set_mentor_message(database: Database, match_id: int, message_id: int, now: datetime) -> None:
    """Remember the request message in the mentor's chat (so a cancel can update it) and that it was sent."""
    async with database.session() as session:
        await session.exec(update(MentorMatch).where(MentorMatch.id == match_id)
                           .values(mentor_message_id=message_id, mentor_told_at=now))
        await session.commit()


async def _load_match_for(session: AsyncSession, match_id: int, telegram_id: int, side: str) -> MentorMatch | None:
    """The match, only if the person pressing is its ``side`` (mentee or mentor): forged buttons get None."""
    person = await _person_by_telegram(session, telegram_id)
    match = await session.get(MentorMatch, match_id)
    if person is None or match is None:
        return None
    owner = match.mentee_id if side == MENTEE else match.mentor_id
    return match if owner == person.id else None


async def _transition(session: AsyncSession, match: MentorMatch, expected: str, **values: Any) -> bool:
    """Move a match on only if it is still in ``expected``: a double tap or a race changes it once."""
    result = await session.exec(update(MentorMatch).where(MentorMatch.id == match.id, MentorMatch.status == expected)
                                .values(**values))
    if (result.rowcount or 0) != 1:
        return False
    for key, value in values.items():
        setattr(match, key, value)
    return True


ACCEPT, DECLINE, PAUSE = "accept", "decline", "pause"


async def respond(database: Database, match_id: int, telegram_id: int, decision: str, now: datetime) -> Parties:
    """The mentor accepts, declines, or declines and pauses. Raises MentoringError when it is not theirs
    or no longer open."""
    async with database.session() as session:
        match = await _load_match_for(session, match_id, telegram_id, MENTOR)
        if match is None:
            raise MentoringError("That request isn't yours to answer.")
        if decision == ACCEPT:
            ok = await _transition(session, match, "pending", status="accepted", responded_at=now, accepted_at=now,
                                   checkin_due=now + CHECKIN_AFTER, review_due=now + REVIEW_AFTER)
        else:
            ok = await _transition(session, match, "pending", status="declined", responded_at=now, ended_at=now,
                                   end_reason="paused" if decision == PAUSE else "declined")
        if not ok:
            raise MentoringError(_closed_reason(match.status))
        if decision == PAUSE:
            await session.exec(update(MentoringProfile).where(
                MentoringProfile.person_id == match.mentor_id, MentoringProfile.role == MENTOR)
                .values(active=False, updated_at=now))
        await session.commit()
        return await _parties(session, match)


def _closed_reason(status: str) -> str:
    return {"accepted": "You've already accepted this request.",
            "declined": "This request has already been answered.",
            "cancelled": "This request was withdrawn, so there's nothing to do.",
            "timed_out": "This request has expired.",
            "closed": "This buddy match has ended."}.get(status, "This request is no longer open.")


async def cancel_request(database: Database, match_id: int, telegram_id: int, now: datetime) -> Parties:
    """The mentee withdraws a pending request."""
    async with database.session() as session:
        match = await _load_match_for(session, match_id, telegram_id, MENTEE)
        if match is None:
            raise MentoringError("That request isn't yours.")
        if not await _transition(session, match, "pending", status="cancelled", ended_at=now, end_reason="cancelled"):
            raise MentoringError(_closed_reason(match.status))
        await session.commit()
        return await _parties(session, match)


async def claim_timeouts(database: Database, now: datetime, timeout: timedelta) -> list[Parties]:
    """Requests unanswered for ``timeout`` become ``timed_out``; each is claimed once (safe with many bots)."""
    claimed: list[Parties] = []
    async with database.session() as session:
        due = (await session.exec(select(MentorMatch).where(
            MentorMatch.status == "pending", col(MentorMatch.requested_at) <= now - timeout))).all()
        for match in due:
            if await _transition(session, match, "pending", status="timed_out", ended_at=now, end_reason="timeout"):
                await session.commit()
                claimed.append(await _parties(session, match))
    return claimed


async def claim_unsent_requests(database: Database, now: datetime) -> list[Parties]:
    """Pending requests to mentors who could not be told yet (imported, now linked): claimed once each."""
    claimed: list[Parties] = []
    async with database.session() as session:
        rows = (await session.exec(select(MentorMatch).join(
            MentoringPerson, col(MentoringPerson.id) == MentorMatch.mentor_id).where(
            MentorMatch.status == "pending", col(MentorMatch.mentor_told_at).is_(None),
            col(MentoringPerson.telegram_id).is_not(None)))).all()
        for match in rows:
            result = await session.exec(update(MentorMatch).where(
                MentorMatch.id == match.id, col(MentorMatch.mentor_told_at).is_(None)).values(mentor_told_at=now))
            if (result.rowcount or 0) == 1:
                await session.commit()
                claimed.append(await _parties(session, match))
    return claimed


async def claim_undelivered_proposals(database: Database, now: datetime) -> list[tuple[Parties, Suggestion]]:
    """An admin's whole-cohort suggestions not yet sent to their (reachable) mentees: claimed once each."""
    claimed: list[tuple[Parties, Suggestion]] = []
    async with database.session() as session:
        rows = (await session.exec(select(MentorMatch).join(
            MentoringPerson, col(MentoringPerson.id) == MentorMatch.mentee_id).where(
            MentorMatch.status == "proposed", col(MentorMatch.delivered_at).is_(None),
            col(MentoringPerson.telegram_id).is_not(None)))).all()
        for match in rows:
            result = await session.exec(update(MentorMatch).where(
                MentorMatch.id == match.id, col(MentorMatch.delivered_at).is_(None)).values(delivered_at=now))
            if (result.rowcount or 0) != 1:
                continue
            await session.commit()
            parties = await _parties(session, match)
            if parties.mentee_profile is None or parties.mentor_profile is None:
                continue
            mentee = MatchProfile.of(parties.mentee_profile)
            score = score_pair(mentee, MatchProfile.of(parties.mentor_profile))
            claimed.append((parties, _suggestion(parties.mentor_profile, score)))
    return claimed


CONNECTED, NOT_YET, DIFFERENT = "yes", "notyet", "different"


async def claim_due_checkins(database: Database, now: datetime) -> list[Parties]:
    """Accepted matches whose "Have you connected?" is due; each claimed once."""
    claimed: list[Parties] = []
    async with database.session() as session:
        rows = (await session.exec(select(MentorMatch).where(
            MentorMatch.status == "accepted", col(MentorMatch.checkin_due) <= now))).all()
        for match in rows:
            result = await session.exec(update(MentorMatch).where(
                MentorMatch.id == match.id, MentorMatch.checkin_due == match.checkin_due)
                .values(checkin_due=None, checkin_asks=match.checkin_asks + 1))
            if (result.rowcount or 0) == 1:
                await session.commit()
                match.checkin_due, match.checkin_asks = None, match.checkin_asks + 1
                claimed.append(await _parties(session, match))
    return claimed


async def claim_due_reviews(database: Database, now: datetime) -> list[Parties]:
    """Accepted matches whose 90-day "Continue or close?" is due; each claimed once."""
    claimed: list[Parties] = []
    async with database.session() as session:
        rows = (await session.exec(select(MentorMatch).where(
            MentorMatch.status == "accepted", col(MentorMatch.review_due) <= now))).all()
        for match in rows:
            result = await session.exec(update(MentorMatch).where(
                MentorMatch.id == match.id, MentorMatch.review_due == match.review_due).values(review_due=None))
            if (result.rowcount or 0) == 1:
                await session.commit()
                match.review_due = None
                claimed.append(await _parties(session, match))
    return claimed


async def answer_checkin(database: Database, match_id: int, telegram_id: int, answer: str,
                         now: datetime) -> Parties:
    """The mentee's answer to "Have you connected?". "Not yet" asks again a week later (twice at most);
    "a different buddy" ends the match, which frees the mentor's place and excludes the pair from now on."""
    async with database.session() as session:
        match = await _load_match_for(session, match_id, telegram_id, MENTEE)
        if match is None:
            raise MentoringError("That buddy match isn't yours.")
        if match.status != "accepted":
            raise MentoringError(_closed_reason(match.status))
        if answer == CONNECTED:
            match.connected = True
        elif answer == NOT_YET:
            match.connected = False
            if match.checkin_asks < MAX_CHECKIN_ASKS:
                match.checkin_due = now + CHECKIN_AGAIN_AFTER
        elif answer == DIFFERENT:
            if not await _transition(session, match, "accepted", status="closed", ended_at=now,
                                     end_reason="rematch"):
                raise MentoringError(_closed_reason(match.status))
        else:
            raise MentoringError("I didn't understand that answer.")
        session.add(match)
        await session.commit()
        return await _parties(session, match)


async def answer_review(database: Database, match_id: int, telegram_id: int, keep: bool,
                        now: datetime) -> Parties:
    """The mentee's answer to "Continue or close?": continuing asks again in 90 days; closing frees the place."""
    async with database.session() as session:
        match = await _load_match_for(session, match_id, telegram_id, MENTEE)
        if match is None:
            raise MentoringError("That buddy match isn't yours.")
        if keep:
            if match.status != "accepted":
                raise MentoringError(_closed_reason(match.status))
            match.review_due = now + REVIEW_AFTER
            session.add(match)
        elif not await _transition(session, match, "accepted", status="closed", ended_at=now, end_reason="closed"):
            raise MentoringError(_closed_reason(match.status))
        await session.commit()
        return await _parties(session, match)


async def end_match(database: Database, match_id: int, telegram_id: int, now: datetime) -> Parties:
    """Either buddy ends an accepted match at any time (e.g. from /mentor)."""
    async with database.session() as session:
        match = await session.get(MentorMatch, match_id)
        person = await _person_by_telegram(session, telegram_id)
        if match is None or person is None or person.id not in (match.mentee_id, match.mentor_id):
            raise MentoringError("That buddy match isn't yours.")
        if not await _transition(session, match, "accepted", status="closed", ended_at=now, end_reason="closed"):
            raise MentoringError(_closed_reason(match.status))
        await session.commit()
        return await _parties(session, match)


async def rate_match(database: Database, match_id: int, telegram_id: int, rating: int | None = None,
                     comment: str | None = None) -> bool:
    """Store the mentee's 1-5 rating and/or comment on their match; False when it is not theirs."""
    async with database.session() as session:
        match = await _load_match_for(session, match_id, telegram_id, MENTEE)
        if match is None or match.accepted_at is None:
            return False
        if rating is not None:
            if not 1 <= rating <= 5:
                return False
            match.rating = rating
        if comment is not None:
            match.comment = clean_story(comment)[:MAX_COMMENT_CHARS] or None
        session.add(match)
        await session.commit()
        return True


async def mentor_matches(database: Database, telegram_id: int) -> list[Parties]:
    """A mentor's current buddies and requests (for /mentor_offer)."""
    async with database.session() as session:
        person = await _person_by_telegram(session, telegram_id)
        if person is None:
            return []
        rows = (await session.exec(select(MentorMatch).where(
            MentorMatch.mentor_id == person.id, col(MentorMatch.status).in_(("pending", "accepted")))
            .order_by(col(MentorMatch.id)))).all()
        return [await _parties(session, match) for match in rows]


async def claim_waiting_with_mentors(database: Database, now: datetime) -> list[tuple[int, list[Suggestion]]]:
    """Waiting mentees for whom a compatible mentor has appeared: (chat id, suggestions), each told once.

    Called when a mentor offers or resumes, when a place frees, and periodically (for CLI imports).
    """
    told: list[tuple[int, list[Suggestion]]] = []
    async with database.session() as session:
        rows = (await session.exec(select(MentoringProfile, MentoringPerson).join(
            MentoringPerson, col(MentoringPerson.id) == MentoringProfile.person_id).where(
            MentoringProfile.role == MENTEE, col(MentoringProfile.waiting_since).is_not(None),
            col(MentoringProfile.active).is_(True), col(MentoringPerson.telegram_id).is_not(None))
            .order_by(col(MentoringProfile.waiting_since)))).all()
        for profile, person in rows:
            suggestions = await _suggestions_in(session, profile, MAX_SUGGESTIONS)
            if not suggestions:
                continue
            result = await session.exec(update(MentoringProfile).where(
                MentoringProfile.id == profile.id, col(MentoringProfile.waiting_since).is_not(None))
                .values(waiting_since=None))
            if (result.rowcount or 0) == 1 and person.telegram_id is not None:
                await session.commit()
                told.append((person.telegram_id, suggestions))
    return told


# -- relaying messages between buddies without usernames ---------------------------------------------
async def add_relay(database: Database, chat_id: int, message_id: int, match_id: int) -> None:
    async with database.session() as session:
        session.add(MentorRelay(chat_id=chat_id, message_id=message_id, match_id=match_id))
        await session.commit()


async def relay_target(database: Database, chat_id: int, message_id: int,
                       sender_telegram_id: int) -> tuple[int | None, str, int] | None:
    """Who a reply to a relay message goes to: (their chat id or None, sender's name, match id).

    None when the message is not a relay anchor; the chat id is None when the match has ended or the
    sender is not in it (a relay works only between the two buddies of an accepted match).
    """
    async with database.session() as session:
        relay = (await session.exec(select(MentorRelay).where(
            MentorRelay.chat_id == chat_id, MentorRelay.message_id == message_id))).first()
        if relay is None:
            return None
        match = await session.get(MentorMatch, relay.match_id)
        sender = await _person_by_telegram(session, sender_telegram_id)
        if match is None or sender is None or match.status != "accepted":
            return (None, "", relay.match_id)
        parties = await _parties(session, match)
        if sender.id == match.mentee_id:
            return (parties.mentor.telegram_id, parties.mentee_name, relay.match_id)
        if sender.id == match.mentor_id:
            return (parties.mentee.telegram_id, parties.mentor_name, relay.match_id)
        return (None, "", relay.match_id)


# -- privacy hooks ---------------------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export_user_data(database: Database, user_id: int) -> dict[str, Any]:
    """Everything stored about the person for mentoring, JSON-serialisable ({} when nothing).

    Their buddies appear by display name only: the other person's details are theirs.
    """
    async with database.session() as session:
        person = await _person_by_telegram(session, user_id)
        if person is None:
            return {}
        profiles = (await session.exec(select(MentoringProfile).where(MentoringProfile.person_id == person.id))).all()
        matches = (await session.exec(select(MentorMatch).where(or_(
            col(MentorMatch.mentee_id) == person.id, col(MentorMatch.mentor_id) == person.id)))).all()
        out_matches = []
        for match in matches:
            parties = await _parties(session, match)
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


async def forget_user(database: Database, user_id: int) -> list[tuple[int, str]]:
    """Delete the person's mentoring data: profiles, matches (with their relay anchors) and the person.

    Returns notices for the other people affected: a buddy is told the match ended (not why); a mentee
    whose request was pending is told to choose someone else; a mentor with a pending request is told
    it was withdrawn.
    """
    notices: list[tuple[int, str]] = []
    async with database.session() as session:
        person = await _person_by_telegram(session, user_id)
        if person is None:
            return []
        matches = (await session.exec(select(MentorMatch).where(or_(
            col(MentorMatch.mentee_id) == person.id, col(MentorMatch.mentor_id) == person.id)))).all()
        for match in matches:
            if match.status not in ("pending", "accepted"):
                continue
            parties = await _parties(session, match)
            other = parties.mentor if match.mentee_id == person.id else parties.mentee
            if other.telegram_id is None:
                continue
            name = escape(parties.mentee_name if match.mentee_id == person.id else parties.mentor_name)
            if match.status == "accepted":
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
        await session.commit()
    return notices


async def delete_profile(database: Database, user_id: int, role: str, now: datetime) -> list[tuple[int, str]]:
    """Remove one of the person's profiles; open matches in that role end, and the buddies are told."""
    notices: list[tuple[int, str]] = []
    async with database.session() as session:
        person = await _person_by_telegram(session, user_id)
        if person is None:
            return []
        side = MentorMatch.mentor_id if role == MENTOR else MentorMatch.mentee_id
        matches = (await session.exec(select(MentorMatch).where(
            side == person.id, col(MentorMatch.status).in_(ACTIVE_MATCH)))).all()
        for match in matches:
            parties = await _parties(session, match)
            other = parties.mentee if role == MENTOR else parties.mentor
            name = escape(parties.mentor_name if role == MENTOR else parties.mentee_name)
            previous = match.status
            match.status, match.ended_at, match.end_reason = (
                "closed" if previous == "accepted" else "withdrawn"), now, "left"
            session.add(match)
            if other.telegram_id is not None and previous == "accepted":
                notices.append((other.telegram_id, f"Your buddy match with {name} has ended. "
                                                   "Thank you for the time you gave it."))
            elif other.telegram_id is not None and previous == "pending":
                notices.append((other.telegram_id, f"{name} is no longer available as a mentor. "
                                                   "Send /mentor to see other suggestions."
                                if role == MENTOR else f"The buddy request from {name} has been withdrawn."))
        await session.exec(delete(MentoringProfile).where(
            MentoringProfile.person_id == person.id, MentoringProfile.role == role))
        await session.commit()
    return notices


# -- the admins' view -----------------------------------------------------------------------------------------
@dataclass
class Cohort:
    """Everyone the whole-cohort assignment considers, as plain values, plus the ids admins know them by."""

    mentees: list[MatchProfile]
    mentors: list[MatchProfile]
    refs: dict[int, int | str]
    excluded_pairs: set[tuple[int, int]]


def person_ref(person: MentoringPerson) -> int | str:
    """How an admin knows a person: the CSV's ``telegram`` value (a number stays a number), else the id."""
    ref = person.import_ref
    if ref is None:
        return person.telegram_id if person.telegram_id is not None else f"@{person.username}"
    return int(ref) if ref.isdigit() else ref


async def load_cohort(database: Database) -> Cohort:
    """Mentees looking for a buddy (none pending, proposed or matched) and every active mentor."""
    async with database.session() as session:
        people = {p.id: p for p in (await session.exec(select(MentoringPerson))).all()}
        profiles = (await session.exec(select(MentoringProfile).where(col(MentoringProfile.active).is_(True))
                                       .order_by(col(MentoringProfile.id)))).all()
        busy = set((await session.exec(select(MentorMatch.mentee_id).where(
            col(MentorMatch.status).in_(ACTIVE_MATCH)))).all())
        loads = await _loads(session)
        ended = (await session.exec(select(MentorMatch.mentee_id, MentorMatch.mentor_id).where(
            col(MentorMatch.status).in_(ENDED_PAIR)))).all()
    mentees = [MatchProfile.of(p) for p in profiles if p.role == MENTEE and p.person_id not in busy]
    mentors = [MatchProfile.of(p, loads.get(p.person_id, 0)) for p in profiles if p.role == MENTOR]
    refs = {pid: person_ref(person) for pid, person in people.items() if pid is not None}
    return Cohort(mentees, mentors, refs, {(a, b) for a, b in ended})


async def record_proposals(database: Database, pairs: Iterable[tuple[int, int, float, str]], now: datetime) -> int:
    """Store an admin's assignments as proposals to the mentees (sent by the bot's delivery job)."""
    count = 0
    async with database.session() as session:
        for mentee_id, mentor_id, score, why in pairs:
            exists = (await session.exec(select(MentorMatch).where(
                MentorMatch.mentee_id == mentee_id, col(MentorMatch.status).in_(ACTIVE_MATCH)))).first()
            if exists is not None:
                continue
            session.add(MentorMatch(mentee_id=mentee_id, mentor_id=mentor_id, status="proposed", score=score,
                                    why=why[:400], created_at=now))
            count += 1
        await session.commit()
    return count


async def list_profiles(database: Database) -> list[dict[str, Any]]:
    """Every profile with its person's admin id and current load, for ``partnerbot mentors list``."""
    async with database.session() as session:
        rows = (await session.exec(select(MentoringProfile, MentoringPerson).join(
            MentoringPerson, col(MentoringPerson.id) == MentoringProfile.person_id)
            .order_by(col(MentoringProfile.role), col(MentoringProfile.id)))).all()
        loads = await _loads(session)
        accepted = dict((await session.exec(select(MentorMatch.mentor_id, func.count()).where(
            MentorMatch.status == "accepted").group_by(MentorMatch.mentor_id))).all())
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
