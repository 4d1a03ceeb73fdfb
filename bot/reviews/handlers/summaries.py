"""The check-in summary posted to the chat: averages, what changed since last time, and tips."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.keyboards import short
from bot.core.messages import send_html
from bot.core.services import services
from bot.reviews.checkins import Summary
from bot.reviews.handlers.common import HISTORY, button, markup, score
from bot.reviews.questions import LOW_SCORE, QUESTIONS
from knowledge.render import escape

log = logging.getLogger(__name__)


# -- summaries --------------------------------------------------------------------------------------------
def summary_text(summary: Summary, kb: Any) -> tuple[str, list[tuple[str, str]]]:
    """The summary message and its tip buttons (label, entry id)."""
    when = f"{summary.slot_local:%d %b %Y}"
    people = "1 person answered" if summary.respondents == 1 else f"{summary.respondents} people answered"
    lines = [f"📋 <b>Check-in summary: {escape(summary.name)}</b> ({when})"]
    if summary.withheld:
        lines += [f"<i>{people}.</i>", "", f"To keep everyone's answers private, scores and comments are shown "
                  f"only when at least {summary.min_group} people answer. Next time, ask everyone to tap "
                  "“Answer here”."]
        return "\n".join(lines), []
    lines += [f"<i>{people}. Scores out of 5 (yes = 5, partly = 3, no = 1).</i>", ""]
    for question in QUESTIONS:
        if question.key in summary.averages:
            mark = " ⚠️" if summary.averages[question.key] <= LOW_SCORE else ""
            lines.append(f"• {question.label}: <b>{score(summary.averages[question.key])}</b>{mark}")
    if summary.stage:
        lines.append(f"• Stage: <b>{summary.stage}</b>")
    lines.append("")
    if summary.previous_local is None:
        lines.append("<i>This is the first check-in with scores: next time I'll show what changed.</i>")
    else:
        lines.append(f"<b>Since last time</b> ({summary.previous_local:%d %b %Y}):")
        lines.extend(f"• {c.label}: {score(c.before)} → {score(c.after)} {c.arrow}" for c in summary.changes)
        if summary.stage_before and summary.stage and summary.stage_before != summary.stage:
            lines.append(f"• Stage: {summary.stage_before} → {summary.stage}")
    if summary.comments:
        lines.extend(["", "<b>Raised</b> (no names):"] + [f"• {escape(c)}" for c in summary.comments])
    buttons: list[tuple[str, str]] = []
    if summary.tips:
        lines.extend(["", "<b>💡 Worth a look</b> for the low scores:"])
        for tip in summary.tips:
            entries = [kb.get(entry_id) for entry_id in tip.entry_ids]
            found = [e for e in entries if e is not None]
            lines.append(f"• {escape(tip.label)}: " + "; ".join(escape(e.question) for e in found))
            buttons.extend((f"💡 {short(e.question, 50)}", e.id) for e in found)
    unique: dict[str, str] = {}
    for label, entry_id in buttons:
        unique.setdefault(entry_id, label)
    return "\n".join(lines), [(label, entry_id) for entry_id, label in unique.items()][:8]


async def post_summary(context: ContextTypes.DEFAULT_TYPE, summary: Summary) -> None:
    text, tips = summary_text(summary, services(context).kb)
    rows = [[InlineKeyboardButton(label, callback_data=cb.make(cb.OPEN_ENTRY, entry))] for label, entry in tips]
    rows.append([button("📈 History and chart", HISTORY, summary.partnership_id)])
    try:
        await send_html(context, summary.chat_id, text, markup(rows))
    except (Forbidden, BadRequest) as exc:
        log.warning("Could not post the summary of review %s: %s", summary.occurrence_id, type(exc).__name__)
