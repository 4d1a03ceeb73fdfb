"""One storage guard: a database that cannot be reached turns into a friendly "try again in a minute" for the
person (handlers) or a logged skip (jobs), never a traceback and never silence.

Rules raise SQLAlchemy's errors as they come; handlers and jobs are wrapped once instead of each repeating a
``try/except SQLAlchemyError`` block. Where a handler has a better answer than the generic one (keep the person's
answers, ask them to send a reply again), it still catches the error itself.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import ContextTypes

from bot.core.messages import send_html

log = logging.getLogger(__name__)

TRY_AGAIN = "Sorry, I couldn't do that just now. Please try again in a minute."

R = TypeVar("R")
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[R]]
Job = Callable[[ContextTypes.DEFAULT_TYPE], Awaitable[None]]


async def tell_try_again(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str = TRY_AGAIN) -> None:
    """A tapped button gets an alert; a message gets a message in the same chat."""
    if update.callback_query is not None:
        await update.callback_query.answer(text[:190], show_alert=True)
    elif update.effective_chat is not None:
        await send_html(context, update.effective_chat.id, text)


@overload
def storage_guard(handler: Handler[R], /) -> Handler[R | None]: ...


@overload
def storage_guard(*, returning: Any, text: str = TRY_AGAIN) -> Callable[[Handler[R]], Handler[R | Any]]: ...


def storage_guard(handler: Handler[R] | None = None, /, *, returning: Any = None,
                  text: str = TRY_AGAIN) -> Any:
    """Wrap a handler: when the database fails, the person is told ``text`` (try again in a minute).

    ``@storage_guard`` returns None after telling them; ``@storage_guard(returning=END)`` returns the given
    value instead, so a ConversationHandler step can end the conversation (or stay in its state) cleanly."""

    def wrap(inner: Handler[R]) -> Handler[R | Any]:
        @functools.wraps(inner)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> R | Any:
            try:
                return await inner(update, context)
            except SQLAlchemyError as exc:
                log.warning("%s: database unavailable (%s)", inner.__qualname__, type(exc).__name__)
                await tell_try_again(update, context, text)
                return returning

        return guarded

    return wrap if handler is None else wrap(handler)


def job_guard(what: str) -> Callable[[Job], Job]:
    """Wrap a scheduled job: when the database fails, this run is skipped with one log line (the next run
    picks up the same rows, which are claimed in the database, never held in memory)."""

    def wrap(job: Job) -> Job:
        @functools.wraps(job)
        async def guarded(context: ContextTypes.DEFAULT_TYPE) -> None:
            try:
                await job(context)
            except SQLAlchemyError as exc:
                log.warning("%s skipped: database unavailable (%s)", what, type(exc).__name__)

        return guarded

    return wrap


__all__ = ["TRY_AGAIN", "job_guard", "storage_guard", "tell_try_again"]
