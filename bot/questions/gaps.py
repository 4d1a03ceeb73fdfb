"""What people asked and did not get an answer to, grouped so curators know what to write next.

Similar questions ("how do we share data with the council", "sharing data with council?") are
grouped with rapidfuzz so that one gap with twelve askers stands above twelve gaps of one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz, utils
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.questions.asking import UNANSWERED
from db.models import QuestionLog

SIMILAR = 80.0


@dataclass
class Gap:
    """A group of similar unanswered questions: the most common wording and how often it was asked."""

    example: str
    count: int = 0
    best_score: float = 0.0
    wordings: list[str] = field(default_factory=list)


def group_questions(texts: list[tuple[str, float]], similar: float = SIMILAR) -> list[Gap]:
    """Group (text, best score) pairs greedily by token-set similarity; most asked first."""
    gaps: list[Gap] = []
    keys: list[str] = []
    for text, score in texts:
        key = utils.default_process(text)
        if not key:
            continue
        for index, existing in enumerate(keys):
            if fuzz.token_set_ratio(key, existing) >= similar:
                gap = gaps[index]
                break
        else:
            gap = Gap(example=text)
            gaps.append(gap)
            keys.append(key)
        gap.count += 1
        gap.best_score = max(gap.best_score, score)
        if text not in gap.wordings:
            gap.wordings.append(text)
    return sorted(gaps, key=lambda g: (-g.count, g.example.lower()))


async def find_gaps(*, session: AsyncSession, now: datetime, days: int = 30, limit: int = 20) -> list[Gap]:
    """The most frequent unanswered questions of the last ``days`` days."""
    since = now - timedelta(days=days)
    rows = (await session.exec(select(QuestionLog.text, QuestionLog.best_score).where(
        col(QuestionLog.asked_at) >= since, col(QuestionLog.outcome).in_(UNANSWERED))
        .order_by(col(QuestionLog.asked_at)))).all()
    return group_questions([(text, score) for text, score in rows])[:limit]
