"""The check-in questionnaire: the questions and their options, reading answers, averages and tips."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from db.review_models import ReviewAnswer

LOW_SCORE = 2.5  # an average at or below this (on 1-5; "no" is 1, "partly" 3) gets tips


# -- the check-in ---------------------------------------------------------------------------------
class QuestionKind(StrEnum):
    """How a question is answered."""

    SCALE = "scale"  # 1 to 5
    YNP = "ynp"      # yes, partly or no (5, 3, 1)
    STAGE = "stage"  # one of the partnership's life-cycle stages


class Stage(StrEnum):
    """The stages of a partnership's life cycle (stored as the value in the answers and summaries)."""

    FORMING = "forming"
    FRUSTRATION = "frustration"
    FUNCTIONING = "functioning"
    FLYING = "flying"
    FAILING = "failing"


@dataclass(frozen=True)
class Question:
    key: str
    label: str  # short, for summaries, the chart and the CSV
    text: str  # HTML, written here (no user input)
    kind: QuestionKind
    tips: tuple[str, ...] = ()


SCALE_OPTIONS = (("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5"))
YNP_OPTIONS = (("Yes", "5"), ("Partly", "3"), ("No", "1"))
STAGES = tuple(Stage)
STAGE_OPTIONS = tuple((stage.capitalize(), str(stage)) for stage in STAGES)
LOW_STAGES = (Stage.FRUSTRATION, Stage.FAILING)

#: Grounded in the seed documents and the six principles of the Partnership Assessment Tool (Hardy,
#: Hudson and Waddington, 2003); the tips are knowledge-base entries, checked at start-up and in a test.
QUESTIONS: tuple[Question, ...] = (
    Question("purpose", "Purpose", "Is our <b>purpose</b> still shared and clear to everyone involved?",
             QuestionKind.SCALE, ("common-purpose-values", "setup-common-goals", "panel-focus-on-purpose")),
    Question("roles", "Roles", "Are <b>roles and responsibilities</b> clear: does each partner know what it does, "
             "and what the others do?", QuestionKind.SCALE,
             ("setup-roles-lead-partner", "conflict-structures-roles", "partnership-meeting-roles")),
    Question("communication", "Communication", "Is <b>communication</b> working at all levels, from boards and "
             "managers to staff and volunteers?", QuestionKind.SCALE,
             ("communication-keep-going", "communication-listening", "communication-monologue-dialogue",
              "story-tip-communication")),
    Question("progress", "Progress", "Are we on track against the <b>targets we agreed</b>?", QuestionKind.YNP,
             ("story-tip-targets", "partnership-indicators", "performance-assessment-why")),
    Question("weight", "Pulling weight", "Is every partner <b>pulling its weight</b>, with problems raised early "
             "rather than left to grow?", QuestionKind.YNP,
             ("review-partner-not-pulling-weight", "panel-speak-to-partner", "conflict-handling")),
    Question("value", "Adding value", "Are we still <b>adding value</b>: achieving more together than apart "
             "(1 + 1 = 3)?", QuestionKind.SCALE, ("policy-1-plus-1-equals-3", "compat-added-value")),
    Question("stage", "Stage", "Which <b>stage</b> is the partnership at now?", QuestionKind.STAGE, ()),
)
STAGE_TIPS: dict[str, tuple[str, ...]] = {
    Stage.FRUSTRATION: ("lifecycle-stage-frustration", "review-lifecycle-stage", "conflict-handling"),
    Stage.FAILING: ("lifecycle-stage-failing", "review-lifecycle-stage"),
}
NUMERIC_KEYS = tuple(q.key for q in QUESTIONS if q.kind != QuestionKind.STAGE)
QUESTION_BY_KEY = {q.key: q for q in QUESTIONS}
COMMENT_STEP = len(QUESTIONS)  # the "anything to raise?" step comes after the last question


def options_for(question: Question) -> tuple[tuple[str, str], ...]:
    return {QuestionKind.SCALE: SCALE_OPTIONS, QuestionKind.YNP: YNP_OPTIONS,
            QuestionKind.STAGE: STAGE_OPTIONS}[question.kind]


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
