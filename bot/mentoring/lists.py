"""The fixed lists people choose from: the two roles, topics, kinds of organisation, regions and the
stages of a partnership, each item with a stable slug (what is stored) and labels (what is shown),
and the ';'-separated slug strings that profiles store.

Why a module of its own: every other part of mentoring (validation, scoring, the chat's buttons, the
CSV import) reads these lists, and they change only with the seed documents they are grounded in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The two roles a profile can have (stored in mentoring_profile.role and in button data)."""

    MENTOR = "mentor"
    MENTEE = "mentee"


MENTOR, MENTEE = Role.MENTOR, Role.MENTEE
ROLES = (MENTOR, MENTEE)


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


def split_slugs(value: str | None) -> list[str]:
    return [part for part in (value or "").split(";") if part]


def join_slugs(slugs: Iterable[str], allowed: Sequence[Choice]) -> str:
    """Known slugs, in the fixed list's order, without duplicates."""
    wanted = set(slugs)
    return ";".join(choice.slug for choice in allowed if choice.slug in wanted)
