"""Runs before every other handler: a person over RATE_LIMIT_PER_MINUTE messages is slowed down, not
ignored. Their extra messages wait in a short queue (at most :data:`QUEUE_LIMIT` each) and are answered,
in order, as soon as the limit allows; one note says so. Messages beyond the queue are not answered, and
the note sent when the queue is handled says which, so nobody is told "nothing is lost" when something was.

The queue is released by the JobQueue, one job per free slot, so stopping the bot never waits a minute for
it: jobs not yet due are dropped at stop. A waiting message is not marked handled in the inbox until it has
really been handled (:func:`is_waiting`), so after a stop or a crash it is answered once the bot is back.

Button taps have their own, three times larger allowance (filling in a form is a quick run of taps, not
abuse); a tap over it is answered at once with a note to tap again (Telegram expects a tap's answer within
seconds, so taps are not queued). Admins are never limited.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.core.groups import HandlerGroup
from bot.core.messages import send_html
from bot.core.ratelimit import SlidingWindowLimiter
from bot.core.services import services
from knowledge.render import escape

log = logging.getLogger(__name__)

SLOW_DOWN = ("You're sending messages very quickly, so I'll answer the rest in a moment, in order. "
             "No need to send them again.")
SLOW_TAPS = "You're tapping very quickly: please wait a moment, then tap again."
LIMITER_KEY = "rate_limiter"
WAITING_KEY = "rate_waiting"
TAP_LIMITER_KEY = "tap_rate_limiter"
QUEUES_KEY = "rate_queues"
TAPS_PER_MESSAGE = 3
#: How many messages one person may have waiting; the rest are not answered (and they are told which).
QUEUE_LIMIT = 10


@dataclass
class _Queue:
    """One person's waiting messages, and the ones that did not fit."""

    chat_id: int
    updates: deque[Update] = field(default_factory=deque)
    dropped: list[str] = field(default_factory=list)
    releasing: bool = False


async def throttle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None or update.inline_query is not None:
        return
    app = context.application
    if update.update_id in app.bot_data.setdefault("rate_released", set()):
        app.bot_data["rate_released"].discard(update.update_id)  # a queued message, now let through
        return
    svc = services(context)
    if svc.settings.is_admin(user.id):
        return
    if update.callback_query is not None:
        decision = app.bot_data[TAP_LIMITER_KEY].check(user.id, time.monotonic())
        if not decision.allowed:
            await update.callback_query.answer(SLOW_TAPS, show_alert=decision.warn)
            raise ApplicationHandlerStop
        return
    limiter: SlidingWindowLimiter = app.bot_data[LIMITER_KEY]
    queues: dict[int, _Queue] = app.bot_data.setdefault(QUEUES_KEY, {})
    queue = queues.get(user.id)
    if queue is None and limiter.check(user.id, time.monotonic()).allowed:
        return
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        raise ApplicationHandlerStop  # in a group: quietly not answered, never a note to everyone
    if queue is None:
        queue = queues[user.id] = _Queue(chat.id)
        await send_html(context, chat.id, SLOW_DOWN)
    if len(queue.updates) < QUEUE_LIMIT:
        queue.updates.append(update)
        app.bot_data.setdefault(WAITING_KEY, set()).add(update.update_id)
    else:
        text = update.effective_message.text if update.effective_message else None
        queue.dropped.append((text or "a message")[:40])
    if not queue.releasing:
        queue.releasing = True
        _schedule_release(app, user.id)
    raise ApplicationHandlerStop


def is_waiting(application: Application, update_id: int) -> bool:  # type: ignore[type-arg]
    """Whether this update waits in a rate queue: handled later, so not to be marked handled yet."""
    return update_id in application.bot_data.get(WAITING_KEY, ())


def _schedule_release(app: Application, user_id: int) -> None:  # type: ignore[type-arg]
    """Run :func:`_release` for this person when their next message is allowed through."""
    limiter: SlidingWindowLimiter = app.bot_data[LIMITER_KEY]
    now = time.monotonic()
    delay = max(0.0, limiter.next_free(user_id, now) - now)
    assert app.job_queue is not None  # the bot is built with its JobQueue (reviews and retention need it)
    # However late the loop gets to it (APScheduler skips a job over a second late by default), it must run:
    # a skipped release would leave the person's messages waiting until the next restart.
    app.job_queue.run_once(_release, delay, data=user_id, name=f"rate-queue-{user_id}",
                           job_kwargs={"misfire_grace_time": None})


async def _release(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Let one person's waiting messages through, in order, as far as the limit allows now; schedule the rest
    for their next free slot; when none is left, say what was dropped."""
    app = context.application
    user_id = int(context.job.data) if context.job is not None else 0  # type: ignore[arg-type]
    limiter: SlidingWindowLimiter = app.bot_data[LIMITER_KEY]
    queue = app.bot_data[QUEUES_KEY].get(user_id)
    if queue is None:
        return
    try:
        while queue.updates and limiter.check(user_id, time.monotonic()).allowed:
            update = queue.updates.popleft()
            app.bot_data["rate_released"].add(update.update_id)
            app.bot_data[WAITING_KEY].discard(update.update_id)
            # Through the update processor, as a fresh update would go: in order with the person's other
            # updates, and marked handled in the inbox once it has been.
            await app.update_processor.process_update(update, app.process_update(update))
        if queue.updates:
            _schedule_release(app, user_id)
            return
        if queue.dropped:
            listed = "; ".join(f"“{escape(text)}”" for text in queue.dropped[:5])
            more = f" and {len(queue.dropped) - 5} more" if len(queue.dropped) > 5 else ""
            await app.bot.send_message(queue.chat_id, f"I couldn't keep up with {len(queue.dropped)} of your "
                                                      f"messages, so I haven't answered these: {listed}{more}. "
                                                      "Please send them again.")
    except Exception:
        log.exception("Releasing queued messages failed")
    app.bot_data[QUEUES_KEY].pop(user_id, None)


def register(application: Application) -> None:  # type: ignore[type-arg]
    limit = application.bot_data["services"].settings.rate_limit_per_minute
    application.bot_data[LIMITER_KEY] = SlidingWindowLimiter(limit, 60.0)
    application.bot_data[TAP_LIMITER_KEY] = SlidingWindowLimiter(limit * TAPS_PER_MESSAGE, 60.0)
    application.add_handler(TypeHandler(Update, throttle), group=HandlerGroup.THROTTLE)
