"""Data protection rules, free of Telegram: what is kept about a person, and forgetting them.

Each feature that stores personal data provides ``export_user_data`` and ``forget_user`` next to its
own rules; this module only gathers them, so /mydata and /forget can never miss a feature that is
listed in ``FEATURES``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.mentoring import privacy as mentoring_privacy
from bot.questions import privacy as questions_privacy
from bot.reviews import privacy as reviews_privacy
from db.engine import Database

Export = Callable[[Database, int], Awaitable[dict[str, Any]]]
Forget = Callable[[Database, int], Awaitable[list[tuple[int, str]]]]


@dataclass(frozen=True)
class Feature:
    """A part of the bot that keeps personal data."""

    name: str
    export: Export
    forget: Forget


def features() -> list[Feature]:
    """Every feature that stores personal data, in the order /mydata shows them."""
    return [
        Feature("questions", questions_privacy.export_user_data, questions_privacy.forget_user),
        Feature("mentoring", mentoring_privacy.export_user_data, mentoring_privacy.forget_user),
        Feature("reviews", reviews_privacy.export_user_data, reviews_privacy.forget_user),
    ]


async def export_everything(database: Database, user_id: int, conversation: dict[str, Any]) -> dict[str, Any]:
    """The /mydata document: every feature's data plus any half-finished conversation."""
    document: dict[str, Any] = {"telegram_user_id": user_id}
    for feature in features():
        document[feature.name] = await feature.export(database, user_id)
    document["conversation_in_progress"] = conversation
    return document


async def forget_everything(database: Database, user_id: int) -> list[tuple[int, str]]:
    """Delete the person from every feature; returns notices for other people (e.g. a buddy)."""
    notices: list[tuple[int, str]] = []
    for feature in features():
        notices.extend(await feature.forget(database, user_id))
    return notices


PRIVACY_NOTICE = (
    "<b>What I keep, and why</b>\n"
    "• <b>Questions I couldn't answer</b>: the text, when, and how close I got, so the team can add answers. "
    "Your Telegram id is kept with it for 30 days (so a panel reply can reach you), then removed.\n"
    "• <b>Questions you send to the panel</b>: the text, and your first name only if you say yes. Panel "
    "members never see your username or contact details.\n"
    "• <b>👍 / 👎 on answers</b>: which answer and your vote, so we know what helps.\n"
    "• <b>Mentor buddy profile</b> (if you make one): what you enter. Your contact details go to a buddy only "
    "after you both agree. When a match ends, contact details are not kept.\n"
    "• <b>Review check-ins</b> (if your partnership uses them): your answers, shown to your partnership. If you "
    "ask me to forget you, they stay only as anonymous totals.\n\n"
    "<b>Who can see it</b>: the council for voluntary service staff who run this bot (admins) see unanswered "
    "questions without names. Nobody else sees your details without your agreement.\n\n"
    "<b>Your rights</b>: /mydata sends you everything I keep about you. /forget deletes it. "
    "Nothing is used for marketing or shared outside this service."
)
