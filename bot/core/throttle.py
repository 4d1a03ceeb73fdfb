"""Runs before every other handler: a person over RATE_LIMIT_PER_MINUTE messages gets one polite note
and is ignored until they slow down. Button taps have their own, three times larger allowance: filling in
a profile or a check-in is a quick run of taps, not abuse. Admins are never limited."""

from __future__ import annotations

import time

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.core.ratelimit import SlidingWindowLimiter
from bot.core.services import services

SLOW_DOWN = "You're sending messages very quickly. Please wait a minute, then carry on: nothing is lost."
LIMITER_KEY = "rate_limiter"
TAP_LIMITER_KEY = "tap_rate_limiter"
TAPS_PER_MESSAGE = 3


async def throttle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None or update.inline_query is not None:
        return
    svc = services(context)
    if svc.settings.is_admin(user.id):
        return
    key = TAP_LIMITER_KEY if update.callback_query is not None else LIMITER_KEY
    limiter: SlidingWindowLimiter = context.application.bot_data[key]
    decision = limiter.check(user.id, time.monotonic())
    if decision.allowed:
        return
    if decision.warn:
        if update.callback_query is not None:
            await update.callback_query.answer(SLOW_DOWN, show_alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, SLOW_DOWN)
    elif update.callback_query is not None:
        await update.callback_query.answer()
    raise ApplicationHandlerStop


def register(application: Application) -> None:  # type: ignore[type-arg]
    limit = application.bot_data["services"].settings.rate_limit_per_minute
    application.bot_data[LIMITER_KEY] = SlidingWindowLimiter(limit, 60.0)
    application.bot_data[TAP_LIMITER_KEY] = SlidingWindowLimiter(limit * TAPS_PER_MESSAGE, 60.0)
    application.add_handler(TypeHandler(Update, throttle), group=-10)
