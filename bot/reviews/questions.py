"""The check-in questionnaire: the questions and their options, reading answers, averages and tips."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from db.review_models import ReviewAnswer

LOW_SCORE = 2.5  # an average at or below this (on 1-5; "no" is 1, "partly" 3) gets tips


# -- the check-in ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    key: str
    label: str  # short, for summaries, the chart and the CSV
    text: str  # HTML, written here (no user input)
    kind: str  # scale (1-5), ynp (yes/partly/no), stage
    tips: tuple[str, ...] = ()


SCALE_OPTIONS = (("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5"))
YNP_OPTIONS = (("Yes", "5"), ("Partly", "3"), ("No", "1"))
STAGES = ("forming", "frustration", "functioning", "flying", "failing")
STAGE_OPTIONS = tuple((stage.capitalize(), stage) for stage in STAGES)
LOW_STAGES = ("frustration", "failing")

#: Grounded in the seed documents and the six principles of the Partnership Assessment Tool (Hardy,
#: Hudson and Waddington, 2003); the tips are knowledge-base entries, checked at start-up and in a test.
QUESTIONS: tuple[Question, ...] = (
    Question("purpose", "Purpose", "Is our <b>purpose</b> still shared and clear to everyone involved?", "scale",
             ("common-purpose-values", "setup-common-goals", "panel-focus-on-purpose")),
    Question("roles", "Roles", "Are <b>roles and responsibilities</b> clear: does each partner know what it does, "
             "and what the others do?", "scale",
             ("setup-roles-lead-partner", "conflict-structures-roles", "partnership-meeting-roles")),
    Question("communication", "Communication", "Is <b>communication</b> working at all levels, from boards and "
             "managers to staff and volunteers?", "scale",
             ("communication-keep-going", "communication-listening", "communication-monologue-dialogue",
              "story-tip-communication")),
    Question("progress", "Progress", "Are we on track against the <b>targets we agreed</b>?", "ynp",
             ("story-tip-targets", "partnership-indicators", "performance-assessment-why")),
    Question("weight", "Pulling weight", "Is every partner <b>pulling its weight</b>, with problems raised early "
             "rather than left to grow?", "ynp",
             ("review-partner-not-pulling-weight", "panel-speak-to-partner", "conflict-handling")),
    Question("value", "Adding value", "Are we still <b>adding value</b>: achieving more together than apart "
             "(1 + 1 = 3)?", "scale", ("policy-1-plus-1-equals-3", "compat-added-value")),
    Question("stage", "Stage", "Which <b>stage</b> is the partnership at now?", "stage", ()),
)
STAGE_TIPS: dict[str, tuple[str, ...]] = {
    "frustration": ("lifecycle-stage-frustration", "review-lifecycle-stage", "conflict-handling"),
    "failing": ("lifecycle-stage-failing", "review-lifecycle-stage"),
}
NUMERIC_KEYS = tuple(q.key for q in QUESTIONS if q.kind != "stage")
QUESTION_BY_KEY = {q.key: q for q in QUESTIONS}
COMMENT_STEP = len(QUESTIONS)  # the "anything to raise?" step comes after the last question


def options_for(question: Question) -> tuple[tuple[str, str], ...]:
    return {"scale": SCALE_OPTIONS, "ynp": YNP_OPTIONS, "stage": STAGE_OPTIONS}[question.kind]


def tip_entry_ids() -> set[str]:
    ids = {entry for q in QUESTIONS for entry in q.tips}
    return ids | {entry for tips in STAGE_TIPS.values() for entry in tips}


def missing_tip_entries(known: Callable[[str], object]) -> list[str]:
    """Tip entry ids the knowledge base does not have (``known`` is e.g. ``kb.get``): should be none."""
    return sorted(entry for entry in tip_entry_ids() if known(entry) is None)


def answer_scores(answer: ReviewAnswer) -> dict[str, Any]:
    try:
        value = json.loads(answer.scores or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def next_step(scores: dict[str, Any]) -> int:
    """The index of the first question not yet answered, or COMMENT_STEP."""
    for index, question in enumerate(QUESTIONS):
        if question.key not in scores:
            return index
    return COMMENT_STEP


@dataclass(frozen=True)
class Tip:
    label: str
    entry_ids: tuple[str, ...]


def aggregate(answers: Sequence[ReviewAnswer]) -> tuple[dict[str, float], str | None]:
    averages: dict[str, float] = {}
    for key in NUMERIC_KEYS:
        values = [s[key] for s in map(answer_scores, answers) if isinstance(s.get(key), int)]
        if values:
            averages[key] = round(sum(values) / len(values), 2)
    stages = Counter(s["stage"] for s in map(answer_scores, answers) if s.get("stage") in STAGES)
    # On a tie the later (more worrying) stage in the list wins: frustration and failing should be seen.
    stage = max(stages, key=lambda s: (stages[s], s in LOW_STAGES)) if stages else None
    return averages, stage


def tips_for(averages: dict[str, float], stage: str | None) -> list[Tip]:
    tips = [Tip(QUESTION_BY_KEY[key].label, QUESTION_BY_KEY[key].tips)
            for key in NUMERIC_KEYS if key in averages and averages[key] <= LOW_SCORE]
    if stage in STAGE_TIPS:
        tips.append(Tip(f"Stage: {stage}", STAGE_TIPS[stage]))
    return tips
