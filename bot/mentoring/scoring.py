"""Who may mentor whom, and how well: the hard constraints, the weighted score of a pair, the reason
put into words ("Shares: due diligence · Same region"), and the ranking of mentors for one mentee.

Why a module of its own: these are pure functions on plain values (:class:`MatchProfile`), shared by the
chat's suggestions and the whole-cohort assignment (bot/mentor_matching.py, which must agree with
:func:`score_pair` pair by pair), and they are fast enough to score millions of pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from bot.mentoring.cleaning import normalise_org
from bot.mentoring.lists import ORG_TYPE_BY_SLUG, STAGE_BY_SLUG, STAGES, TOPIC_BY_SLUG, TOPICS, split_slugs
from db.mentoring_models import MentoringProfile

MAX_SUGGESTIONS = 3


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


class Constraint(StrEnum):
    """The hard constraints, in the order they are checked; each value is also the reason reported."""

    SAME_PERSON = "same person"
    SAME_ORGANISATION = "same organisation"
    NO_SHARED_TOPIC = "no topic in common"
    MENTOR_PAUSED = "mentor paused"
    MENTOR_FULL = "mentor at capacity"
    PAIR_BEFORE = "declined or ended before"


SAME_PERSON, SAME_ORGANISATION, NO_SHARED_TOPIC = (Constraint.SAME_PERSON, Constraint.SAME_ORGANISATION,
                                                   Constraint.NO_SHARED_TOPIC)
MENTOR_PAUSED, MENTOR_FULL, PAIR_BEFORE = Constraint.MENTOR_PAUSED, Constraint.MENTOR_FULL, Constraint.PAIR_BEFORE


def constraint_problem(mentee: MatchProfile, mentor: MatchProfile,
                       excluded_pairs: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset(),
                       ) -> Constraint | None:
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
