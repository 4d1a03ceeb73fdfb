"""A profile as plain values: the draft a conversation or an import fills in, its validation (with a
friendly sentence for the first problem), and the conversion to and from a stored profile row.

Why a module of its own: the chat's profile questions, the CSV import and the privacy export all need
the same checks and the same shape of draft, without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.mentoring.cleaning import clean_line, clean_story
from bot.mentoring.lists import (
    MENTOR,
    ORG_TYPE_BY_SLUG,
    ORG_TYPES,
    REGION_BY_SLUG,
    ROLES,
    STAGE_BY_SLUG,
    STAGES,
    TOPIC_BY_SLUG,
    TOPICS,
    join_slugs,
    split_slugs,
)
from db.mentoring_models import MAX_STORY_CHARS, MentoringProfile

MIN_CAPACITY, MAX_CAPACITY = 1, 5


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


def apply_draft(profile: MentoringProfile, draft: ProfileDraft) -> None:
    profile.display_name, profile.organisation = draft.display_name, draft.organisation
    profile.org_type, profile.region, profile.town = draft.org_type, draft.region, draft.town
    profile.topics = join_slugs(draft.topics, TOPICS)
    profile.stages = join_slugs(draft.stages, STAGES)
    profile.partner_types = join_slugs(draft.partner_types, ORG_TYPES)
    profile.story, profile.capacity = draft.story, draft.capacity
