"""/reviews (the history and its chart) and /reviews_csv (the same as a spreadsheet)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.keyboards import short
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import storage_guard
from bot.reviews.checkins import MIN_GROUP, unfinished_checkins
from bot.reviews.handlers.common import CSV, HISTORY, NOT_HERE, RESUME, alert, button, markup, score
from bot.reviews.history import HistoryRow, history, history_csv
from bot.reviews.partnerships import get_partnership, list_partnerships
from bot.reviews.questions import COMMENT_STEP, NUMERIC_KEYS, QUESTION_BY_KEY, QUESTIONS
from bot.reviews.schedule import format_local
from db.review_models import OccurrenceStatus
from knowledge.render import escape

#: How each occurrence's status reads in the history (a sent one needs no note).
STATUS_NOTES = {OccurrenceStatus.SENT: "", OccurrenceStatus.UNCERTAIN: " (delivery uncertain)",
                OccurrenceStatus.SKIPPED: " skipped", OccurrenceStatus.FAILED: " not delivered"}


# -- /reviews and /reviews_csv ---------------------------------------------------------------------------
async def _choose(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str) -> int | None:
    """The chat's only partnership, or None after offering a choice (or saying there is none)."""
    chat = update.effective_chat
    assert chat is not None
    async with services(context).database.transaction() as session:
        views = await list_partnerships(session=session, chat_id=chat.id, include_stopped=True)
    if not views:
        await send_html(context, chat.id, "There are no partnership check-ins here yet. Send /partnership to "
                                          "set one up.")
        return None
    if len(views) == 1:
        return views[0].partnership.id
    rows = [[button(short(v.partnership.name, 40), action, v.partnership.id)] for v in views[:20]]
    await send_html(context, chat.id, "Which partnership?", markup(rows))
    return None


def _history_text(name: str, rows: list[HistoryRow], upcoming: datetime | None,
                  min_group: int = MIN_GROUP) -> str:
    lines = [f"📈 <b>Check-ins: {escape(name)}</b>"]
    if not rows:
        lines.append("No check-ins yet." + (f" The first is {format_local(upcoming)}." if upcoming else ""))
        return "\n".join(lines)
    for row in rows[-12:]:
        status = STATUS_NOTES.get(row.status, f" {row.status}")
        late = " late" if row.late else ""
        scores = " · ".join(f"{QUESTION_BY_KEY[k].label} {score(v)}" for k, v in row.averages.items())
        answered = " · open" if row.open else f" · {row.respondents} answered" if row.respondents else ""
        if row.withheld:
            answered += f" (scores shown from {min_group})"
        stage = f" · {row.stage}" if row.stage else ""
        detail = f"\n  {scores}{stage}" if scores else ""
        lines.append(f"• {row.slot_local:%d %b %Y}{status}{late}{answered}{detail}")
    if len(rows) > 12:
        lines.append(f"<i>…and {len(rows) - 12} earlier: /reviews_csv has them all.</i>")
    if upcoming:
        lines.append(f"Next: {format_local(upcoming)}")
    return "\n".join(lines)


async def _show_history(context: ContextTypes.DEFAULT_TYPE, chat_id: int, partnership_id: int) -> None:
    svc = services(context)
    async with svc.database.transaction() as session:
        partnership = await get_partnership(session=session, partnership_id=partnership_id, chat_id=chat_id)
        if partnership is not None:
            rows = await history(session=session, partnership_id=partnership_id,
                                 min_group=svc.settings.review_min_group)
            views = await list_partnerships(session=session, chat_id=chat_id, include_stopped=True)
    if partnership is None:
        await send_html(context, chat_id, NOT_HERE)
        return
    upcoming = next((v.next_local for v in views if v.partnership.id == partnership_id), None)
    await send_html(context, chat_id, _history_text(partnership.name, rows, upcoming, svc.settings.review_min_group))
    points = [(row.slot_local.date(), row.averages) for row in rows if row.averages]
    if points:
        from bot.reviews.chart import render_chart

        labels = {k: QUESTION_BY_KEY[k].label for k in NUMERIC_KEYS}
        png = await asyncio.to_thread(render_chart, partnership.name, points, labels)
        caption = f"Average scores over time: {escape(short(partnership.name, 60))}"
        await context.bot.send_photo(chat_id, png, caption=caption, filename="reviews.png")


async def _send_csv(context: ContextTypes.DEFAULT_TYPE, chat_id: int, partnership_id: int) -> None:
    svc = services(context)
    async with svc.database.transaction() as session:
        partnership = await get_partnership(session=session, partnership_id=partnership_id, chat_id=chat_id)
        if partnership is not None:
            rows = await history(session=session, partnership_id=partnership_id,
                                 min_group=svc.settings.review_min_group)
    if partnership is None:
        await send_html(context, chat_id, NOT_HERE)
        return
    slug = re.sub(r"[^a-z0-9]+", "-", partnership.name.lower()).strip("-")[:40] or "partnership"
    data = history_csv(rows, svc.settings.review_min_group)
    await context.bot.send_document(chat_id, data, filename=f"reviews-{slug}.csv",
                                    caption=f"Check-ins of {escape(short(partnership.name, 60))}: averages only, "
                                            "no names.")


async def _offer_to_carry_on(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A check-in the person left half-way, while its round is open: a button to pick it up."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    async with services(context).database.transaction() as session:
        unfinished = await unfinished_checkins(session=session, user_id=user.id,
                                               chat_id=None if chat.type == ChatType.PRIVATE else chat.id)
    for progress in unfinished[:3]:
        where = (f"question {progress.step + 1} of {len(QUESTIONS)}" if progress.step < COMMENT_STEP
                 else "the last step")
        await send_html(context, chat.id, f"You started the <b>{escape(progress.partnership_name)}</b> check-in of "
                                          f"{progress.slot_local:%d %b %Y} and stopped at {where}. Tap Carry on to "
                                          "finish it.", markup([[button("▶️ Carry on", RESUME, progress.answer_id)]]))


@storage_guard
async def on_reviews(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    if update.effective_user is not None:
        await _offer_to_carry_on(update, context)
    partnership_id = await _choose(update, context, HISTORY)
    if partnership_id is not None:
        await _show_history(context, chat.id, partnership_id)


@storage_guard
async def on_reviews_csv(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    partnership_id = await _choose(update, context, CSV)
    if partnership_id is not None:
        await _send_csv(context, chat.id, partnership_id)


@storage_guard
async def on_history_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    data = cb.parse(query.data)
    partnership_id = data.int_arg(0)
    partnership = None
    if partnership_id is not None:
        async with services(context).database.transaction() as session:
            partnership = await get_partnership(session=session, partnership_id=partnership_id, chat_id=chat.id)
    if partnership is None:
        await alert(update, NOT_HERE)
        return
    await query.answer()
    if data.action == CSV:
        await _send_csv(context, chat.id, partnership_id or 0)
    else:
        await _show_history(context, chat.id, partnership_id or 0)
