"""Review nudges in chat: /partnership (set up or change a schedule), /partnerships (pause, resume,
stop), the nudge itself (answer, answer privately, snooze, skip), the check-in questions, the summary
with tips, /reviews (history and chart) and /reviews_csv. The rules are in the modules of :mod:`bot.reviews`;
the dispatch job and the Telegram sender in :mod:`.jobs`.

In a group only the group's administrators (asked of Telegram with getChatMember, never assumed) may
set up, change, pause, stop, snooze or skip; every member answers for themselves.

The handlers live in small modules, wired together here by :func:`register`:

* :mod:`.common`: callback prefixes, keys, timeouts, messages and small helpers (buttons, admin check);
* :mod:`.drafts`: the set-up form's steps: reading typed and tapped answers;
* :mod:`.setup`: the set-up form: /partnership, and rename, partners and schedule from /partnerships;
* :mod:`.manage`: /partnerships (one named button per partnership, its menu, pause, resume, stop);
* :mod:`.checkin`: the check-in form (typed or tapped scores, resumable) and the nudge's other buttons;
* :mod:`.summaries`: the summary posted after a check-in;
* :mod:`.history`: /reviews and /reviews_csv.
"""

from __future__ import annotations

import logging

from telegram import BotCommand
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.core import callbacks as cb
from bot.core.forms.conversation import register_form
from bot.reviews.handlers.checkin import checkin_form, on_nudge
from bot.reviews.handlers.common import CSV, DISPATCH_JOB, HISTORY, MANAGE, NUDGE, SETUP
from bot.reviews.handlers.history import on_history_button, on_reviews, on_reviews_csv
from bot.reviews.handlers.jobs import dispatch_job
from bot.reviews.handlers.manage import list_partnerships, on_manage
from bot.reviews.handlers.setup import STALE, setup_form
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
    # The forms: setting up or changing a partnership, and the check-in (bot/core/forms/conversation.py).
    register_form(application, setup_form(), stale_patterns=[cb.pattern(SETUP)], stale_note=STALE)
    register_form(application, checkin_form())
    application.add_handler(CommandHandler("partnerships", list_partnerships))
    application.add_handler(CommandHandler("reviews", on_reviews))
    application.add_handler(CommandHandler("reviews_csv", on_reviews_csv))
    application.add_handler(CallbackQueryHandler(on_manage, pattern=cb.pattern(MANAGE)))
    application.add_handler(CallbackQueryHandler(on_nudge, pattern=cb.pattern(NUDGE)))
    application.add_handler(CallbackQueryHandler(on_history_button, pattern=rf"^({HISTORY}|{CSV})(:|$)"))
    if application.job_queue is not None:
        application.job_queue.run_repeating(dispatch_job, interval=60, first=3, name=DISPATCH_JOB)
