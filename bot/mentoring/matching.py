"""Whole-cohort matching for admins: every waiting mentee to a mentor at once.

Goal, in order: match as many mentees as possible; among those assignments, the largest total score.
Both at once with one assignment problem (scipy's linear_sum_assignment): each mentor becomes as many
"slots" as they have free places, a compatible mentee-slot pair is worth BIG + score and an incompatible
one 0 (that is, "not matched"). BIG is larger than any possible sum of scores, so one more match always
beats any gain in score, and among equally many matches the total score decides.

Scores are computed for the whole cohort at once with numpy and rapidfuzz's ``cdist``, and agree with
``bot.mentoring.scoring.score_pair`` pair by pair (a test checks it), so what an admin sees is what a mentee
would be told. The first-come greedy baseline it is compared with lives in the tests (tests/mentoring/greedy.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.mentoring.lists import ORG_TYPES, STAGES, TOPICS
from bot.mentoring.scoring import (
    PARTNER_PREFERENCE,
    WEIGHT_COVERAGE,
    WEIGHT_LOAD,
    WEIGHT_PARTNER,
    WEIGHT_REGION,
    WEIGHT_STAGE,
    WEIGHT_STORY,
    MatchProfile,
    explain,
    score_pair,
)

_TOPIC_BIT = {choice.slug: 1 << index for index, choice in enumerate(TOPICS)}
_STAGE_BIT = {choice.slug: 1 << index for index, choice in enumerate(STAGES)}
_PARTNER_BIT = {slug: 1 << index for index, slug in enumerate(PARTNER_PREFERENCE)}
assert set(_PARTNER_BIT) == {choice.slug for choice in ORG_TYPES}


@dataclass(frozen=True)
class Assignment:
    """One mentee given one mentor, with the score and the reason in words."""

    mentee_id: int
    mentor_id: int
    score: float
    why: str


@dataclass
class CohortResult:
    """An assignment of a cohort: who got whom, and who could not be matched."""

    assignments: list[Assignment]
    unmatched: list[int]

    @property
    def total_score(self) -> float:
        return round(sum(a.score for a in self.assignments), 2)


def _mask(values: frozenset[str], bits: dict[str, int]) -> int:
    total = 0
    for value in values:
        total |= bits.get(value, 0)
    return total


def score_matrix(mentees: Sequence[MatchProfile], mentors: Sequence[MatchProfile],
                 excluded_pairs: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset(),
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(compatible, scores): boolean and float matrices, mentees by mentors, under the same hard
    constraints and weights as ``bot.mentoring.constraint_problem`` and ``score_pair``."""
    n, m = len(mentees), len(mentors)
    if n == 0 or m == 0:
        return np.zeros((n, m), dtype=bool), np.zeros((n, m))
    e_topics = np.array([_mask(p.topics, _TOPIC_BIT) for p in mentees], dtype=np.int64)
    r_topics = np.array([_mask(p.topics, _TOPIC_BIT) for p in mentors], dtype=np.int64)
    shared = e_topics[:, None] & r_topics[None, :]
    shared_count = np.bitwise_count(shared).astype(np.float64)
    e_count = np.bitwise_count(e_topics).astype(np.float64)
    coverage = np.divide(shared_count, e_count[:, None], out=np.zeros((n, m)), where=e_count[:, None] > 0)

    org_ids: dict[str, int] = {}
    e_org = np.array([org_ids.setdefault(p.org_key, len(org_ids)) if p.org_key else -1 for p in mentees])
    r_org = np.array([org_ids.setdefault(p.org_key, len(org_ids)) if p.org_key else -2 for p in mentors])
    e_pid = np.array([p.person_id for p in mentees])
    r_pid = np.array([p.person_id for p in mentors])
    capacity = np.array([p.capacity for p in mentors], dtype=np.float64)
    load = np.array([p.load for p in mentors], dtype=np.float64)
    available = np.array([p.active for p in mentors]) & (load < capacity)

    compatible = (shared != 0) & (e_org[:, None] != r_org[None, :]) & (e_pid[:, None] != r_pid[None, :])
    compatible &= available[None, :]
    if excluded_pairs:
        e_index = {pid: i for i, pid in enumerate(e_pid.tolist())}
        r_index = {pid: j for j, pid in enumerate(r_pid.tolist())}
        for mentee_id, mentor_id in excluded_pairs:
            i, j = e_index.get(mentee_id), r_index.get(mentor_id)
            if i is not None and j is not None:
                compatible[i, j] = False

    story = process.cdist([p.story_key for p in mentees], [p.story_key for p in mentors], scorer=fuzz.ratio,
                          dtype=np.float32, workers=-1).astype(np.float64)
    empty_e = np.array([not p.story_key for p in mentees])
    empty_r = np.array([not p.story_key for p in mentors])
    story[empty_e, :] = 0.0
    story[:, empty_r] = 0.0

    region_ids: dict[str, int] = {}
    e_region = np.array([region_ids.setdefault(p.region, len(region_ids)) for p in mentees])
    r_region = np.array([region_ids.setdefault(p.region, len(region_ids)) for p in mentors])
    e_stage = np.array([_mask(p.stages, _STAGE_BIT) for p in mentees], dtype=np.int64)
    r_stage = np.array([_mask(p.stages, _STAGE_BIT) for p in mentors], dtype=np.int64)
    e_partner = np.array([_mask(p.partner_types, _PARTNER_BIT) for p in mentees], dtype=np.int64)
    r_partner = np.array([_mask(p.partner_types, _PARTNER_BIT) for p in mentors], dtype=np.int64)
    free = np.clip(1.0 - np.divide(load, capacity, out=np.ones(m), where=capacity > 0), 0.0, None)

    scores = (WEIGHT_COVERAGE * coverage + WEIGHT_STORY * story / 100.0
              + WEIGHT_REGION * (e_region[:, None] == r_region[None, :])
              + WEIGHT_STAGE * ((e_stage[:, None] & r_stage[None, :]) != 0)
              + WEIGHT_PARTNER * ((e_partner[:, None] & r_partner[None, :]) != 0)
              + WEIGHT_LOAD * free[None, :])
    return compatible, np.round(scores, 2)


def cohort_result(mentees: Sequence[MatchProfile], mentors: Sequence[MatchProfile],
            pairs: list[tuple[int, int]]) -> CohortResult:
    """Turn (mentee index, mentor index) pairs into assignments with their reasons in words."""
    assignments = []
    for i, j in sorted(pairs):
        score = score_pair(mentees[i], mentors[j])
        assignments.append(Assignment(mentees[i].person_id, mentors[j].person_id, score.total, explain(score)))
    matched = {i for i, _ in pairs}
    return CohortResult(assignments, [p.person_id for i, p in enumerate(mentees) if i not in matched])


def assign_cohort(mentees: Sequence[MatchProfile], mentors: Sequence[MatchProfile],
                  excluded_pairs: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset()) -> CohortResult:
    """The most mentees matched, then the largest total score, within constraints and free places."""
    compatible, scores = score_matrix(mentees, mentors, excluded_pairs)
    free = [max(0, p.capacity - p.load) if p.active else 0 for p in mentors]
    rows = np.flatnonzero(compatible.any(axis=1))
    useful = [j for j in np.flatnonzero(compatible.any(axis=0)).tolist() if free[j] > 0]
    if len(rows) == 0 or not useful:
        return cohort_result(mentees, mentors, [])
    # A mentor with more free places than mentees who could take them needs no more slots than that.
    slot_mentor = np.array([j for j in useful for _ in range(min(free[j], int(compatible[:, j].sum())))])
    sub_ok = compatible[np.ix_(rows, slot_mentor)]
    big = 100.0 * (min(len(rows), len(slot_mentor)) + 1)
    weights = np.where(sub_ok, big + scores[np.ix_(rows, slot_mentor)], 0.0)
    # scipy.optimize costs 65 MB of memory on import; only an admin's whole-cohort match uses it.
    from scipy.optimize import linear_sum_assignment

    row_ind, col_ind = linear_sum_assignment(weights, maximize=True)
    pairs = [(int(rows[r]), int(slot_mentor[c])) for r, c in zip(row_ind, col_ind, strict=True) if sub_ok[r, c]]
    return cohort_result(mentees, mentors, pairs)
