"""Whole-cohort matching: the same rules as one-by-one suggestions, the most mentees matched, then the
best total score, within capacities; and how first-come greedy falls short."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from bot.mentoring.lists import REGIONS, TOPICS
from bot.mentoring.matching import assign_cohort, score_matrix
from bot.mentoring.scoring import MatchProfile, constraint_problem, score_pair, story_key
from tests.mentoring.greedy import assign_greedy

TOPIC_SLUGS = [t.slug for t in TOPICS]
REGION_SLUGS = [r.slug for r in REGIONS][:3]
WORDS = ["council", "data", "sharing", "merger", "consortium", "bid", "trust", "board", "lead", "agency",
         "volunteers", "review", "conflict"]


def random_person(rng: random.Random, person_id: int, *, mentor: bool) -> MatchProfile:
    return MatchProfile(
        person_id=person_id, org_key=f"org{rng.randint(0, 6)}", org_type=rng.choice(["charity", "community"]),
        region=rng.choice(REGION_SLUGS), topics=frozenset(rng.sample(TOPIC_SLUGS[:5], rng.randint(1, 3))),
        stages=frozenset(rng.sample(["forming", "frustration", "flying"], rng.randint(0, 2))),
        partner_types=frozenset(rng.sample(["statutory", "charity", "community"], rng.randint(0, 2))),
        story_key=story_key(" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12)))),
        capacity=rng.randint(1, 3) if mentor else 1, load=rng.randint(0, 1) if mentor else 0,
        active=rng.random() > 0.1 if mentor else True)


def cohort(seed: int, mentees: int, mentors: int) -> tuple[list[MatchProfile], list[MatchProfile]]:
    rng = random.Random(seed)
    return ([random_person(rng, i, mentor=False) for i in range(mentees)],
            [random_person(rng, 1000 + j, mentor=True) for j in range(mentors)])


def test_the_cohort_scores_agree_with_the_one_by_one_rules() -> None:
    mentees, mentors = cohort(1, 40, 25)
    excluded = {(mentees[0].person_id, mentors[0].person_id), (mentees[3].person_id, mentors[5].person_id)}
    compatible, scores = score_matrix(mentees, mentors, excluded)
    for i, mentee in enumerate(mentees):
        for j, mentor in enumerate(mentors):
            assert compatible[i, j] == (constraint_problem(mentee, mentor, excluded) is None)
            assert scores[i, j] == pytest.approx(score_pair(mentee, mentor).total, abs=0.011)


def _check_valid(result, mentees, mentors, excluded=frozenset()):  # type: ignore[no-untyped-def]
    by_id = {m.person_id: m for m in mentors}
    uses = Counter(a.mentor_id for a in result.assignments)
    for mentor_id, count in uses.items():
        assert count <= by_id[mentor_id].capacity - by_id[mentor_id].load
    mentee_by_id = {m.person_id: m for m in mentees}
    assert len({a.mentee_id for a in result.assignments}) == len(result.assignments)
    for a in result.assignments:
        assert constraint_problem(mentee_by_id[a.mentee_id], by_id[a.mentor_id], excluded) is None
        assert a.why.startswith("Shares: ")
    assert sorted([a.mentee_id for a in result.assignments] + result.unmatched) == sorted(m.person_id for m in mentees)


def _brute_force(mentees: list[MatchProfile], mentors: list[MatchProfile]) -> tuple[int, float]:
    """The best (count, total score) by trying every assignment: the reference for small cohorts."""
    slots = [j for j, m in enumerate(mentors) if m.active for _ in range(max(0, m.capacity - m.load))]
    options = []
    for mentee in mentees:
        choices: list[int | None] = [None]
        choices += sorted({j for j in slots if constraint_problem(mentee, mentors[j]) is None})
        options.append(choices)
    best = (0, 0.0)
    for combo in itertools.product(*options):
        used = Counter(j for j in combo if j is not None)
        if any(used[j] > mentors[j].capacity - mentors[j].load for j in used):
            continue
        total = sum(score_pair(mentees[i], mentors[j]).total for i, j in enumerate(combo) if j is not None)
        key = (len([j for j in combo if j is not None]), round(total, 2))
        best = max(best, key)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_the_cohort_assignment_matches_the_most_then_scores_best(seed: int) -> None:
    mentees, mentors = cohort(seed, 6, 4)
    result = assign_cohort(mentees, mentors)
    _check_valid(result, mentees, mentors)
    count, total = _brute_force(mentees, mentors)
    assert len(result.assignments) == count
    assert result.total_score == pytest.approx(total, abs=0.05)


def test_first_come_greedy_can_strand_a_mentee_that_the_cohort_matches() -> None:
    both = MatchProfile(1, "a", "charity", "london", frozenset({"mou", "data"}))
    only_mou = MatchProfile(2, "b", "charity", "wales", frozenset({"mou"}))
    mou_mentor = MatchProfile(10, "c", "charity", "london", frozenset({"mou"}))
    data_mentor = MatchProfile(11, "d", "charity", "scotland", frozenset({"data"}))
    greedy = assign_greedy([both, only_mou], [mou_mentor, data_mentor])
    whole = assign_cohort([both, only_mou], [mou_mentor, data_mentor])
    assert [(a.mentee_id, a.mentor_id) for a in greedy.assignments] == [(1, 10)] and greedy.unmatched == [2]
    assert sorted((a.mentee_id, a.mentor_id) for a in whole.assignments) == [(1, 11), (2, 10)]
    assert whole.unmatched == []


def test_capacities_pauses_and_old_pairs_are_respected() -> None:
    mentees, mentors = cohort(99, 60, 12)
    excluded = {(m.person_id, mentors[0].person_id) for m in mentees}
    result = assign_cohort(mentees, mentors, excluded)
    _check_valid(result, mentees, mentors, excluded)
    assert all(a.mentor_id != mentors[0].person_id for a in result.assignments)
    greedy = assign_greedy(mentees, mentors, excluded)
    _check_valid(greedy, mentees, mentors, excluded)
    assert len(result.assignments) >= len(greedy.assignments)


def test_an_empty_cohort_gives_an_empty_result() -> None:
    mentees, mentors = cohort(5, 3, 2)
    assert assign_cohort([], mentors).assignments == []
    result = assign_cohort(mentees, [])
    assert result.assignments == [] and result.unmatched == [m.person_id for m in mentees]
