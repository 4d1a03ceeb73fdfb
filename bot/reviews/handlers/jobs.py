"""Sending the nudges: the dispatch job that runs every minute, and the Telegram sender it uses."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx
from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ContextTypes

from bot.core.services import SCHEDULED_ONLY_TO_KEY, services
from bot.core.storage import job_guard
from bot.reviews.checkins import close_expired_checkins
from bot.reviews.dispatch import (
    CLAIM_BATCH,
    Claimed,
    DispatchReport,
    Outcome,
    Sender,
    SendOutcome,
    claim_due,
    mark_stale_claims,
    record_outcomes,
    send_all,
)
from bot.reviews.handlers.common import NUDGE, NudgeAction, button, markup
from bot.reviews.handlers.summaries import post_summary
from bot.reviews.partnerships import is_group_chat
from bot.reviews.schedule import format_local
from db.engine import Database
from knowledge.render import escape

log = logging.getLogger(__name__)


# -- sending the nudges (the job) ------------------------------------------------------------------------
def nudge_text(item: Claimed) -> str:
    lines = [f"🗓 <b>Check-in time: {escape(item.name)}</b>"]
    if item.late:
        lines.append(f"<i>This was due {format_local(item.slot_local)}, while I was offline: "
                     "sorry it's late.</i>")
    elif item.snoozed:
        lines.append("<i>You snoozed this one: here it is again.</i>")
    lines.append("How is the partnership going? 7 quick questions, about two minutes. Regular reviews catch "
                 "problems early.")
    if item.partners:
        lines.append(f"Partners: {escape(item.partners)}")
    if is_group_chat(item.chat_id):
        lines.append("<i>Everyone answers for themselves; I'll post a summary when you're done.</i>")
    return "\n".join(lines)


def nudge_markup(item: Claimed) -> InlineKeyboardMarkup:
    oid = item.occurrence_id
    first = [button("▶️ Answer here", NUDGE, oid, NudgeAction.ANSWER_HERE),
             button("🔒 Answer privately", NUDGE, oid, NudgeAction.ANSWER_PRIVATELY)] \
        if is_group_chat(item.chat_id) else [button("▶️ Start the check-in", NUDGE, oid, NudgeAction.ANSWER_HERE)]
    snooze = [button("⏰ Snooze 1 day", NUDGE, oid, NudgeAction.SNOOZE_DAY),
              button("⏰ Snooze 1 week", NUDGE, oid, NudgeAction.SNOOZE_WEEK)]
    return markup([first, snooze, [button("⏭ Skip this one", NUDGE, oid, NudgeAction.SKIP)]])


def _never_connected(exc: BaseException) -> bool:
    """True when the request provably never reached Telegram (so sending again cannot duplicate)."""
    return isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def make_sender(bot: Any, now: datetime) -> Sender:
    """The Telegram side of dispatch: send one nudge and say what happened, for the mark step."""

    async def send(item: Claimed) -> Outcome:
        try:
            message = await bot.send_message(item.chat_id, nudge_text(item), parse_mode=ParseMode.HTML,
                                             reply_markup=nudge_markup(item))
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
                warnings.simplefilter("ignore")
                raw = exc.retry_after
            wait = raw.total_seconds() if isinstance(raw, timedelta) else float(raw)
            return Outcome(SendOutcome.RETRY, retry_at=now + timedelta(seconds=float(wait) + 1),
                           reason="Telegram: too many requests")
        except ChatMigrated as exc:
            return Outcome(SendOutcome.MIGRATED, new_chat_id=exc.new_chat_id, reason="the group became a supergroup")
        except Forbidden as exc:
            return Outcome(SendOutcome.BLOCKED, reason=f"Telegram refused: {exc.message}"[:200])
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                return Outcome(SendOutcome.BLOCKED, reason="Telegram refused: chat not found")
            return Outcome(SendOutcome.FAILED, reason=f"Telegram refused: {exc.message}"[:200])
        except TimedOut as exc:
            if _never_connected(exc):
                return Outcome(SendOutcome.RETRY, retry_at=now + timedelta(minutes=1),
                               reason="could not reach Telegram")
            return Outcome(SendOutcome.UNCERTAIN, reason="Telegram did not answer in time (the nudge may have arrived)")
        except NetworkError as exc:
            if _never_connected(exc):
                return Outcome(SendOutcome.RETRY, retry_at=now + timedelta(minutes=1),
                               reason="could not reach Telegram")
            return Outcome(SendOutcome.UNCERTAIN, reason=f"network error after sending: {exc.message}"[:200])
        return Outcome(SendOutcome.SENT, message_id=message.message_id)

    return send


async def dispatch_due(database: Database, now: datetime, send: Sender, *, batch: int = CLAIM_BATCH,
                       concurrency: int = 50, only_chat_ids: Iterable[int] | None = None) -> DispatchReport:
    """Claim, send and mark every nudge due at ``now``, batch by batch (see :mod:`bot.reviews.dispatch`).

    Each batch is two units of work with the sends between them, outside any transaction: the claim, committed
    before anything is sent (so no other process claims the same rows, and a crash mid-send leaves them
    ``sending``, never resent), and the marks, committed together once the batch is sent."""
    async with database.transaction() as session:
        stale = await mark_stale_claims(session=session, now=now)
    total = DispatchReport(stale=stale)
    chats = list(only_chat_ids) if only_chat_ids is not None else None
    while True:
        async with database.transaction() as session:
            claimed = await claim_due(session=session, now=now, limit=batch, only_chat_ids=chats)
        if not claimed:
            break
        outcomes = await send_all(claimed, send, concurrency)
        async with database.transaction() as session:
            report = await record_outcomes(session=session, claimed=claimed, outcomes=outcomes, now=now)
        total.claimed += len(claimed)
        for name in ("sent", "late", "retried", "failed", "uncertain"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.paused.extend(report.paused)
        if len(claimed) < batch:
            break
    return total


def _only_local_chat(application: Application) -> list[int] | None:  # type: ignore[type-arg]
    """In ``partnerbot chat`` only the terminal person's nudges are sent (see SCHEDULED_ONLY_TO_KEY)."""
    return application.bot_data.get(SCHEDULED_ONLY_TO_KEY)


@job_guard("Review nudges")
async def dispatch_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every minute: claim, send and mark due nudges; then close 48-hour-old check-ins with a summary."""
    svc = services(context)
    now = svc.clock()
    report = await dispatch_due(svc.database, now, make_sender(context.bot, now),
                                only_chat_ids=_only_local_chat(context.application))
    async with svc.database.transaction() as session:
        summaries = await close_expired_checkins(session=session, now=now, min_group=svc.settings.review_min_group)
    if report.claimed:
        log.info("Review nudges: %d claimed, %d sent (%d late), %d to retry, %d failed, %d uncertain",
                 report.claimed, report.sent, report.late, report.retried, report.failed, report.uncertain)
    for partnership_id in report.paused:
        log.warning("Review partnership %s paused: Telegram refused its nudge", partnership_id)
    for summary in summaries:
        await post_summary(context, summary)
