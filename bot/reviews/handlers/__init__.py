"""Review nudges in chat: /partnership (set up or change a schedule), /partnerships (pause, resume,
stop), the nudge itself (answer, answer privately, snooze, skip), the check-in questions, the summary
with tips, /reviews (history and chart) and /reviews_csv. The rules are in the modules of :mod:`bot.reviews`;
the dispatch job and the Telegram sender in :mod:`bot.reviews.jobs`.

In a group only the group's administrators (asked of Telegram with getChatMember, never assumed) may
set up, change, pause, stop, snooze or skip; every member answers for themselves.

The handlers live in small modules, wired together here by :func:`register`:

* :mod:`.common`: callback prefixes, keys, timeouts, messages and small helpers (buttons, admin check);
* :mod:`.drafts`: the set-up conversation's state and steps;
* :mod:`.setup`: /partnership and the "Change" button;
* :mod:`.capture`: typed set-up answers and comments, taken before the question handlers;
* :mod:`.manage`: /partnerships (pause, resume, stop);
* :mod:`.checkin`: the nudge's buttons and the check-in questions;
* :mod:`.summaries`: the summary posted after a check-in;
* :mod:`.history`: /reviews and /reviews_csv.
"""

from __future__ import annotations

import logging

from telegram import BotCommand
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.core import callbacks as cb
from bot.reviews.handlers.capture import on_text_capture
from bot.reviews.handlers.checkin import on_answer, on_nothing_to_add, on_nudge
from bot.reviews.handlers.common import (
    ANSWER,
    CHANGE,
    CSV,
    DISPATCH_JOB,
    HISTORY,
    MANAGE,
    NOTHING,
    NUDGE,
    REVIEW_GROUP,
    SETUP,
)
from bot.reviews.handlers.history import on_history_button, on_reviews, on_reviews_csv
from bot.reviews.handlers.manage import list_partnerships, on_manage
from bot.reviews.handlers.setup import change_start, on_setup_button, setup_start
from bot.reviews.jobs import dispatch_job
from bot.reviews.questions import missing_tip_entries

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("partnership", "Set up regular review check-ins for a partnership"),
    BotCommand("partnerships", "Your partnerships' check-ins: change, pause, stop"),
    BotCommand("reviews", "Check-in history and chart"),
    BotCommand("reviews_csv", "Check-in history as a spreadsheet (CSV)"),
]


# -- wiring ---------------------------------------------------------------------------------------------
def register(application: Application) -> None:  # type: ignore[type-arg]
    svc = application.bot_data["services"]
    missing = missing_tip_entries(svc.kb.get)
    if missing:
        log.error("Review tips name knowledge-base entries that do not exist: %s", ", ".join(missing))
    application.add_handler(MessageHandler(filters.TEXT, on_text_capture), group=REVIEW_GROUP)
    application.add_handler(CommandHandler("partnership", setup_start))
    application.add_handler(CallbackQueryHandler(on_setup_button, pattern=cb.pattern(SETUP)))
    application.add_handler(CallbackQueryHandler(change_start, pattern=cb.pattern(CHANGE)))
    application.add_handler(CommandHandler("partnerships", list_partnerships))
    application.add_handler(CommandHandler("reviews", on_reviews))
    application.add_handler(CommandHandler("reviews_csv", on_reviews_csv))
    application.add_handler(CallbackQueryHandler(on_manage, pattern=cb.pattern(MANAGE)))
    application.add_handler(CallbackQueryHandler(on_nudge, pattern=cb.pattern(NUDGE)))
    application.add_handler(CallbackQueryHandler(on_answer, pattern=cb.pattern(ANSWER)))
    application.add_handler(CallbackQueryHandler(on_nothing_to_add, pattern=cb.pattern(NOTHING)))
    application.add_handler(CallbackQueryHandler(on_history_button, pattern=rf"^({HISTORY}|{CSV})(:|$)"))
    if application.job_queue is not None:
        application.job_queue.run_repeating(dispatch_job, interval=60, first=3, name=DISPATCH_JOB)
