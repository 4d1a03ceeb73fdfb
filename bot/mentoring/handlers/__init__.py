"""Mentor buddies in chat: /mentor (find a buddy), /mentor_offer (become a mentor), /profile (see and
edit), the request / accept / decline / pause flow, follow-ups, and relaying messages between buddies.

Handlers only translate: every rule (who may be suggested, scores, what a timeout does, when a
follow-up is due) is in ``bot.mentoring``. The profile questions keep their state in the person's
``user_data`` (persisted in the database), so a half-filled profile survives a restart; they claim text
only while someone is answering them.
Every button that acts on a request or a match is checked on the server against the person pressing.

This package holds the wiring (:data:`COMMANDS` and :func:`register`); the handlers are split by what
the person is doing:

- ``common``: callback actions and the helpers every handler shares (the bottom of the imports);
- ``commands``: /mentor, /mentor_offer and /profile;
- ``profile_questions``: which profile question comes next, asking it, saving the profile;
- ``profile_answers``: the typed and tapped answers to those questions, and /cancel;
- ``profile``: the profile card, editing one field, pause / resume, delete;
- ``suggestions``: the mentee's home, asking a mentor, the request, withdrawing it;
- ``answers``: the mentor's accept / decline / pause, and introducing the buddies;
- ``followups``: check-in, review, rating and comment, ending a match;
- ``relay``: passing replies between buddies without usernames;
- ``linking``: linking imported people when they first talk to the bot;
- ``jobs``: the scheduled work (waiting list, deliveries, timeouts, follow-ups).
"""

from __future__ import annotations

from telegram import BotCommand, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from bot.core import callbacks as cb
from bot.mentoring.handlers.answers import on_answer
from bot.mentoring.handlers.commands import on_mentor, on_mentor_offer, on_profile
from bot.mentoring.handlers.common import (
    ACCEPT,
    ASK,
    CANCEL,
    CHECKIN,
    DECLINE,
    END,
    P_ACTIVE,
    P_CANCEL,
    P_CAPACITY,
    P_DELETE,
    P_DELETE_YES,
    P_EDIT,
    P_KEEP,
    P_NAME,
    P_PARTNER,
    P_PARTNERS_DONE,
    P_REGION,
    P_STAGE,
    P_STAGES_DONE,
    P_TOPIC,
    P_TOPICS_DONE,
    P_TOWN,
    P_TYPE,
    PAUSE,
    RATE,
    REVIEW,
    SKIP_COMMENT,
    SUGGEST,
)
from bot.mentoring.handlers.followups import (
    on_checkin,
    on_comment,
    on_end,
    on_rate,
    on_review,
    on_skip_comment,
)
from bot.mentoring.handlers.linking import on_any_update
from bot.mentoring.handlers.profile import on_active, on_cancel_outside, on_delete, on_delete_yes, on_edit
from bot.mentoring.handlers.profile_answers import (
    on_cancel,
    on_capacity,
    on_name_default,
    on_org_type,
    on_partner,
    on_partners_done,
    on_profile_text,
    on_region,
    on_stage,
    on_stages_done,
    on_topic,
    on_topics_done,
    on_town_skip,
)
from bot.mentoring.handlers.profile_questions import AnsweringProfile
from bot.mentoring.handlers.relay import on_relay
from bot.mentoring.handlers.suggestions import on_ask, on_cancel_request, on_suggest
from bot.mentoring.jobs import deliver, expire_requests, send_followups

COMMANDS = [
    BotCommand("mentor", "Find a mentor buddy who has been through it"),
    BotCommand("mentor_offer", "Offer to be a mentor buddy"),
    BotCommand("profile", "See or change your mentoring profile"),
]
LINK_GROUP, COMMENT_GROUP, RELAY_GROUP = -9, -8, -7  # after the rate limiter (-10)


def register(application: Application) -> None:  # type: ignore[type-arg]
    answering = AnsweringProfile(application)
    # Groups of their own, so these never shadow another feature's handlers (one handler runs per group).
    application.add_handler(TypeHandler(Update, on_any_update), group=LINK_GROUP)
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, on_comment),
                            group=COMMENT_GROUP)
    private_reply = filters.ChatType.PRIVATE & filters.REPLY & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(private_reply, on_relay), group=RELAY_GROUP)
    application.add_handler(CommandHandler("mentor", on_mentor))
    application.add_handler(CommandHandler("mentor_offer", on_mentor_offer))
    application.add_handler(CommandHandler("profile", on_profile))
    application.add_handler(CommandHandler("cancel", on_cancel, filters=answering))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & answering,
                                           on_profile_text))
    for action, callback in ((P_NAME, on_name_default), (P_TYPE, on_org_type), (P_REGION, on_region),
                             (P_TOWN, on_town_skip), (P_TOPIC, on_topic), (P_TOPICS_DONE, on_topics_done),
                             (P_STAGE, on_stage), (P_STAGES_DONE, on_stages_done), (P_PARTNER, on_partner),
                             (P_PARTNERS_DONE, on_partners_done), (P_CAPACITY, on_capacity), (P_CANCEL, on_cancel),
                             (P_KEEP, on_cancel_outside), (P_EDIT, on_edit),
                             (ASK, on_ask), (ACCEPT, on_answer), (DECLINE, on_answer), (PAUSE, on_answer),
                             (CANCEL, on_cancel_request), (SUGGEST, on_suggest), (P_ACTIVE, on_active),
                             (P_DELETE, on_delete), (P_DELETE_YES, on_delete_yes), (CHECKIN, on_checkin),
                             (REVIEW, on_review), (RATE, on_rate), (SKIP_COMMENT, on_skip_comment), (END, on_end)):
        application.add_handler(CallbackQueryHandler(callback, pattern=cb.pattern(action)))
    if application.job_queue is not None:
        application.job_queue.run_repeating(expire_requests, interval=600, first=45, name="mentor-timeouts")
        application.job_queue.run_repeating(send_followups, interval=600, first=50, name="mentor-followups")
        application.job_queue.run_repeating(deliver, interval=60, first=20, name="mentor-deliveries")
