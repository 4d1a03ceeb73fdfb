"""The matching rules on plain values: each hard constraint on its own, each part of the score, the
reason in words, ranking, and the bounds on what people type."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.mentoring.cleaning import clean_line, clean_story, normalise_org, normalise_username
from bot.mentoring.drafts import ProfileError, validate_draft
from bot.mentoring.lists import REGIONS, STAGES, TOPICS
from bot.mentoring.scoring import (
    MENTOR_FULL,
    MENTOR_PAUSED,
    NO_SHARED_TOPIC,
    PAIR_BEFORE,
    SAME_ORGANISATION,
    SAME_PERSON,
    WEIGHT_COVERAGE,
    WEIGHT_LOAD,
    WEIGHT_PARTNER,
    WEIGHT_REGION,
    WEIGHT_STAGE,
    WEIGHT_STORY,
    MatchProfile,
    constraint_problem,
    explain,
    rank,
    score_pair,
    story_key,
    story_similarity,
)


def mentee(**changes: object) -> MatchProfile:
    base = MatchProfile(person_id=1, org_key=normalise_org("Small Steps"), org_type="community",
                        region="north_west", topics=frozenset({"diligence", "mou"}), stages=frozenset({"forming"}),
                        partner_types=frozenset({"statutory"}),
                        story_key=story_key("We must do due diligence before we sign an MoU with the council"))
    return replace(base, **changes)  # type: ignore[arg-type]


def mentor(**changes: object) -> MatchProfile:
    base = MatchProfile(person_id=2, org_key=normalise_org("Bolton CVS"), org_type="charity",
                        region="london", topics=frozenset({"diligence"}), capacity=2, load=0)
    return replace(base, **changes)  # type: ignore[arg-type]


# -- hard constraints, one at a time -------------------------------------------------------------------------
def test_a_compatible_pair_breaks_no_rule() -> None:
    assert constraint_problem(mentee(), mentor()) is None


def test_nobody_mentors_themselves() -> None:
    assert constraint_problem(mentee(), mentor(person_id=1)) == SAME_PERSON


@pytest.mark.parametrize("name", ["Small Steps", "small steps", "  SMALL   STEPS ", "SmallSteps", "small\tsteps"])
def test_not_the_same_organisation_whatever_the_case_and_spaces(name: str) -> None:
    assert constraint_problem(mentee(), mentor(org_key=normalise_org(name))) == SAME_ORGANISATION


def test_a_different_organisation_is_fine() -> None:
    assert constraint_problem(mentee(), mentor(org_key=normalise_org("Small Steps Two"))) is None


def test_at_least_one_topic_in_common() -> None:
    assert constraint_problem(mentee(), mentor(topics=frozenset({"legal", "data"}))) == NO_SHARED_TOPIC


def test_a_paused_mentor_is_not_suggested() -> None:
    assert constraint_problem(mentee(), mentor(active=False)) == MENTOR_PAUSED


def test_a_mentor_at_capacity_is_not_suggested() -> None:
    assert constraint_problem(mentee(), mentor(capacity=2, load=2)) == MENTOR_FULL
    assert constraint_problem(mentee(), mentor(capacity=2, load=1)) is None


def test_a_pair_that_declined_or_ended_before_is_not_suggested_again() -> None:
    assert constraint_problem(mentee(), mentor(), {(1, 2)}) == PAIR_BEFORE
    assert constraint_problem(mentee(), mentor(), {(1, 3), (2, 1)}) is None


# -- the score ------------------------------------------------------------------------------------------------
def test_topic_coverage_weighs_most() -> None:
    half = score_pair(mentee(), mentor(topics=frozenset({"diligence"})))
    full = score_pair(mentee(), mentor(topics=frozenset({"diligence", "mou"})))
    assert full.coverage == 1.0 and half.coverage == 0.5
    assert full.total - half.total == pytest.approx(WEIGHT_COVERAGE / 2, abs=0.01)
    others = (WEIGHT_STORY, WEIGHT_REGION, WEIGHT_STAGE, WEIGHT_PARTNER, WEIGHT_LOAD)
    assert max(others) < WEIGHT_COVERAGE


def test_a_similar_story_scores_higher() -> None:
    alike = mentor(story_key=story_key("We did due diligence before signing an MoU with our council"))
    unlike = mentor(story_key=story_key("Running a lunch club for older people in a village hall"))
    assert score_pair(mentee(), alike).story > score_pair(mentee(), unlike).story + 20
    assert score_pair(mentee(), alike).total > score_pair(mentee(), unlike).total


def test_story_similarity_ignores_case_order_and_repetition() -> None:
    a, b = story_key("MoU council MoU, due diligence!"), story_key("due Diligence council mou")
    assert story_similarity(a, b) == 100.0
    assert story_similarity("", b) == 0.0


def test_same_region_scores_its_weight() -> None:
    near, far = score_pair(mentee(), mentor(region="north_west")), score_pair(mentee(), mentor())
    assert near.same_region and not far.same_region
    assert near.total - far.total == pytest.approx(WEIGHT_REGION)


def test_experience_of_the_mentees_stage_scores() -> None:
    been, not_been = mentor(stages=frozenset({"forming", "flying"})), mentor(stages=frozenset({"failing"}))
    assert score_pair(mentee(), been).stage == "forming"
    assert score_pair(mentee(), not_been).stage is None
    assert score_pair(mentee(), been).total - score_pair(mentee(), not_been).total == pytest.approx(
        WEIGHT_STAGE)


def test_experience_with_the_kind_of_partner_scores() -> None:
    statutory = mentor(partner_types=frozenset({"statutory", "charity"}))
    assert score_pair(mentee(), statutory).partner == "statutory"
    assert score_pair(mentee(), mentor(partner_types=frozenset({"charity"}))).partner is None
    assert score_pair(mentee(), statutory).total - score_pair(mentee(), mentor()).total == pytest.approx(
        WEIGHT_PARTNER)


def test_load_balancing_prefers_mentors_with_fewer_mentees() -> None:
    free, busy = mentor(capacity=3, load=0), mentor(capacity=3, load=2)
    assert score_pair(mentee(), free).total > score_pair(mentee(), busy).total
    assert score_pair(mentee(), free).total - score_pair(mentee(), busy).total == pytest.approx(
        WEIGHT_LOAD * 2 / 3, abs=0.01)


def test_the_reason_is_given_in_words() -> None:
    score = score_pair(mentee(), mentor(topics=frozenset({"diligence", "mou"}), region="north_west",
                                              partner_types=frozenset({"statutory"})))
    assert explain(score) == "Shares: due diligence, MoUs · Same region · Has worked with a statutory body"
    staged = score_pair(mentee(), mentor(stages=frozenset({"forming"}), story_key=mentee().story_key))
    assert explain(staged) == "Shares: due diligence · Similar story · Has been through the forming stage"


def test_rank_keeps_three_compatible_mentors_best_first() -> None:
    mentors = [mentor(person_id=10, topics=frozenset({"diligence"})),
               mentor(person_id=11, topics=frozenset({"diligence", "mou"})),
               mentor(person_id=12, topics=frozenset({"legal"})),                      # no shared topic
               mentor(person_id=13, topics=frozenset({"mou"}), region="north_west"),
               mentor(person_id=14, topics=frozenset({"diligence", "mou"}), active=False),
               mentor(person_id=15, topics=frozenset({"diligence"}), load=2),           # full
               mentor(person_id=16, topics=frozenset({"mou"}))]
    ranked = rank(mentee(), mentors, {(1, 16)})
    assert [m.person_id for m, _ in ranked] == [11, 13, 10]


# -- what people type -------------------------------------------------------------------------------------------
def test_text_is_cleaned_and_bounded() -> None:
    assert clean_line("  Ade\x00\u200b  \t Okafor\x1b[31m ") == "Ade Okafor[31m"
    assert len(clean_line("x" * 500)) == 100
    assert clean_story("line one\r\n\r\n\r\n\r\nline two\x07") == "line one\n\nline two"


def test_a_draft_is_validated_with_friendly_reasons() -> None:
    good = {"role": "mentor", "display_name": "Priya", "organisation": "Bolton CVS", "org_type": "charity",
            "region": "north_west", "topics": ["mou", "nonsense", "diligence"], "story": "s", "capacity": 3}
    draft = validate_draft(good)
    assert draft.topics == ["mou", "diligence"] and draft.capacity == 3
    for change, reason in (({"display_name": " \x00 "}, "name"), ({"org_type": "pirates"}, "kind of organisation"),
                           ({"region": "atlantis"}, "area"), ({"topics": []}, "at least one topic"),
                           ({"story": "y" * 501}, "500 characters"), ({"capacity": 6}, "1 to 5"),
                           ({"role": "boss"}, "mentor")):
        with pytest.raises(ProfileError, match=reason):
            validate_draft({**good, **change})
    assert validate_draft({**good, "role": "mentee", "capacity": 9}).capacity == 1


def test_usernames_are_normalised() -> None:
    assert normalise_username("@Ade_Okafor") == "ade_okafor"
    assert normalise_username("not a username") is None
    assert normalise_username(None) is None


def test_the_topic_list_is_the_fixed_one_from_the_issue() -> None:
    assert [t.label for t in TOPICS] == [
        "Finding partners", "Consortia and joint bids", "Due diligence", "Partnership agreements and MoUs",
        "Governance and joint boards", "Legal structures and mergers", "Working with statutory bodies",
        "Lead agency and sub-contracting", "Data sharing and protection", "Conflict and difficult partners",
        "Culture and communication", "Reviewing and evaluating a partnership", "Community involvement"]
    assert all(t.note for t in TOPICS)  # each grounded in a seed document
    assert [s.slug for s in STAGES] == ["forming", "frustration", "functioning", "flying", "failing"]
    assert len(REGIONS) == 12
