"""Mentor buddies in chat: /mentor (find a buddy), /mentor_offer (become a mentor), /profile (see and
edit), the request / accept / decline / pause flow, follow-ups, and relaying messages between buddies.

Handlers only translate: every rule (who may be suggested, scores, what a timeout does, when a
follow-up is due) is in ``bot.mentoring``. Every multi-step flow (the profile questions, deleting a
profile, the rating's comment) is a Form: python-telegram-bot's ConversationHandler, persisted in the
database, ended quietly after 30 minutes (bot/core/forms/conversation.py); it claims text only while open.
Every button that acts on a request or a match is checked on the server against the person pressing.

This package holds the wiring (:data:`COMMANDS` and :func:`register`); the handlers are split by what
the person is doing:

- ``common``: callback actions and the helpers every handler shares (the bottom of the imports);
- ``commands``: /mentor, /mentor_offer and /profile;
- ``profile_form``: the profile questions as a form (ConversationHandler): asking, typed and tapped
  answers, Back, saving;
- ``profile``: the profile card, editing one field, pause / resume, delete;
- ``suggestions``: the mentee's home, asking a mentor, withdrawing the request;
- ``mentor_request``: what a mentor sees when asked (the request and its buttons);
- ``mentor_answers``: the mentor's accept / decline / pause, and introducing the buddies;
- ``followups``: check-in, review, rating and comment, ending a match;
- ``relay``: passing replies between buddies without usernames;
- ``linking``: linking imported people when they first talk to the bot;
- ``jobs``: the scheduled work (waiting list, deliveries, timeouts, follow-ups).
"""

from __future__ import annotations

from telegram import BotCommand, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from bot.core import callbacks as cb
from bot.core.forms.conversation import register_form
from bot.core.groups import HandlerGroup
from bot.mentoring.handlers import profile_form
from bot.mentoring.handlers.commands import on_mentor, on_mentor_offer, on_profile
from bot.mentoring.handlers.common import (
    ACCEPT,
    ASK,
    CANCEL,
    CHECKIN,
    DECLINE,
    END,
    P_ACTIVE,
    P_DELETE_YES,
    P_EDIT,
    P_KEEP,
    PAUSE,
    REVIEW,
    SKIP_COMMENT,
    SUGGEST,
)
from bot.mentoring.handlers.followups import on_checkin, on_end, on_review, rating_form
from bot.mentoring.handlers.jobs import deliver, expire_requests, send_followups
from bot.mentoring.handlers.linking import on_any_update
from bot.mentoring.handlers.mentor_answers import on_answer
from bot.mentoring.handlers.profile import delete_form, on_active, on_edit
from bot.mentoring.handlers.relay import on_relay
from bot.mentoring.handlers.suggestions import on_ask, on_cancel_request, on_suggest

COMMANDS = [
    BotCommand("mentor", "Find a mentor buddy who has been through it"),
    BotCommand("mentor_offer", "Offer to be a mentor buddy"),
    BotCommand("profile", "See or change your mentoring profile"),
]
FINISHED_QUESTION = "That question has finished. Send /profile to see or change your details."
ALREADY_ANSWERED = "That was already answered, so this button does nothing now. Send /profile to see your details."


def register(application: Application) -> None:  # type: ignore[type-arg]
    # Groups of their own, so these never shadow another feature's handlers (one handler runs per group).
    application.add_handler(TypeHandler(Update, on_any_update), group=HandlerGroup.MENTOR_LINK)
    private_reply = filters.ChatType.PRIVATE & filters.REPLY & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(private_reply, on_relay), group=HandlerGroup.MENTOR_RELAY)
    # The forms: the profile questions (/mentor, /mentor_offer, the ✏️ buttons), deleting, the rating comment.
    register_form(application, profile_form.form([
        CommandHandler("mentor", on_mentor), CommandHandler("mentor_offer", on_mentor_offer),
        CallbackQueryHandler(on_edit, pattern=cb.pattern(P_EDIT))]),
        stale_patterns=[profile_form.IN_FORM], stale_note=FINISHED_QUESTION)
    register_form(application, delete_form(), stale_patterns=[rf"^({P_DELETE_YES}|{P_KEEP})(:|$)"],
                  stale_note=ALREADY_ANSWERED)
    register_form(application, rating_form(), stale_patterns=[cb.pattern(SKIP_COMMENT)],
                  stale_note="That feedback is already finished: thank you.")
    application.add_handler(CommandHandler("profile", on_profile))
    for action, callback in ((ASK, on_ask), (ACCEPT, on_answer), (DECLINE, on_answer), (PAUSE, on_answer),
                             (CANCEL, on_cancel_request), (SUGGEST, on_suggest), (P_ACTIVE, on_active),
                             (CHECKIN, on_checkin), (REVIEW, on_review), (END, on_end)):
        application.add_handler(CallbackQueryHandler(callback, pattern=cb.pattern(action)))
    if application.job_queue is not None:
        application.job_queue.run_repeating(expire_requests, interval=600, first=45, name="mentor-timeouts")
        application.job_queue.run_repeating(send_followups, interval=600, first=50, name="mentor-followups")
        application.job_queue.run_repeating(deliver, interval=60, first=20, name="mentor-deliveries")
