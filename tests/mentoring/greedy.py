"""The first-come, first-served assignment: a baseline to compare the whole-cohort assignment against (in the
tests and the benchmark), never used by the bot."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.mentoring.matching import CohortResult, cohort_result, score_matrix
from bot.mentoring.scoring import MatchProfile


def assign_greedy(mentees: Sequence[MatchProfile], mentors: Sequence[MatchProfile],
                  excluded_pairs: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset()) -> CohortResult:
    """First come, first served: each mentee in turn takes the best compatible mentor still free."""
    compatible, scores = score_matrix(mentees, mentors, excluded_pairs)
    free = np.array([max(0, p.capacity - p.load) if p.active else 0 for p in mentors])
    pairs: list[tuple[int, int]] = []
    for i in range(len(mentees)):
        options = compatible[i] & (free > 0)
        if not options.any():
            continue
        j = int(np.argmax(np.where(options, scores[i], -1.0)))
        free[j] -= 1
        pairs.append((i, j))
    return cohort_result(mentees, mentors, pairs)
