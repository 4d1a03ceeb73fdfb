"""The profile questions: which question comes next, how each is asked, and saving the profile at
the end.

The draft in ``context.user_data`` (persisted in the database) *is* the conversation's state: the next
question is the first one the draft has no answer for. That keeps a half-filled profile across a restart,
and stays right when updates are handled side by side (the draft is changed before any reply is sent).
The questions claim text only while someone is answering them (:class:`AnsweringProfile`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, ContextTypes, filters

from bot.core import callbacks as cb
from bot.core.services import SERVICES_KEY, services
from bot.mentoring.drafts import ProfileError, draft_from_profile, validate_draft
from bot.mentoring.handlers.common import (
    COMMENT_FOR,
    P_CANCEL,
    P_CAPACITY,
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
    buttons,
    say,
    user_of,
)
from bot.mentoring.handlers.suggestions import show_mentee_home
from bot.mentoring.jobs import tell_waiting
from bot.mentoring.lists import MENTEE, MENTOR, ORG_TYPES, REGIONS, STAGES, Choice
from bot.mentoring.lists import TOPICS as TOPIC_CHOICES
from bot.mentoring.profiles import profiles_of, save_profile
from bot.questions.answers import short
from db.mentoring_models import MAX_STORY_CHARS
from knowledge.render import escape

NAME, ORG, ORG_TYPE, REGION, TOWN, TOPICS, STAGE, PARTNERS, STORY, CAPACITY = range(10)
ORDER = (NAME, ORG, ORG_TYPE, REGION, TOWN, TOPICS, STAGE, PARTNERS, STORY, CAPACITY)
FIELD_STATE = {"display_name": NAME, "organisation": ORG, "org_type": ORG_TYPE, "region": REGION, "town": TOWN,
               "topics": TOPICS, "stages": STAGE, "partner_types": PARTNERS, "story": STORY, "capacity": CAPACITY}
SHARED_FIELDS = ("display_name", "organisation", "org_type", "region", "town")


DRAFT, EDITING = "m_draft", "m_edit"
CLAIM_TEXT_FOR = timedelta(hours=6)


def _draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(DRAFT, {})


def _pairs(items: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    return [items[i:i + 2] for i in range(0, len(items), 2)]


def _missing_state(draft: dict[str, Any]) -> int | None:
    """The first question still unanswered in ``draft`` (None when the profile is complete)."""
    answered = {NAME: bool(draft.get("display_name")), ORG: bool(draft.get("organisation")),
                ORG_TYPE: bool(draft.get("org_type")), REGION: bool(draft.get("region")), TOWN: "town" in draft,
                TOPICS: bool(draft.get("topics_done")), STAGE: bool(draft.get("stages_done")),
                PARTNERS: bool(draft.get("partners_done")), STORY: bool(draft.get("story")),
                CAPACITY: draft.get("role") != MENTOR or bool(draft.get("capacity"))}
    return next((state for state in ORDER if not answered[state]), None)


def current_state(user_data: dict[str, Any] | None) -> int | None:
    """The question being answered: the field being edited, else the first unanswered one."""
    draft = (user_data or {}).get(DRAFT)
    if not draft or "role" not in draft:
        return None
    editing = (user_data or {}).get(EDITING)
    return FIELD_STATE[editing] if editing in FIELD_STATE else _missing_state(draft)


class AnsweringProfile(filters.UpdateFilter):
    """True while the person is answering the profile questions: a draft touched in the last few hours.

    Only then does the profile claim their text; an abandoned draft stops claiming it (their words go
    to the question answering again) but is kept: /mentor or /mentor_offer picks it up.
    """

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        super().__init__(name="AnsweringProfile")
        self.application = application

    def filter(self, update: Update) -> bool:
        user = update.effective_user
        if user is None:
            return False
        data = self.application.user_data.get(user.id)
        draft = data.get(DRAFT) if data else None
        if not draft or "role" not in draft or current_state(data) is None:
            return False
        try:
            touched = datetime.fromisoformat(str(draft.get("at")))
        except ValueError:
            return False
        return self.application.bot_data[SERVICES_KEY].clock() - touched < CLAIM_TEXT_FOR


def active_draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
    """The draft being answered, marked as touched now; None when there is none."""
    draft = (context.user_data or {}).get(DRAFT)
    if not draft or "role" not in draft:
        return None
    draft["at"] = services(context).clock().isoformat()
    return draft


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, state: int) -> None:
    """Send the question for ``state``."""
    draft = _draft(context)
    mentor = draft.get("role") == MENTOR
    _, _, first_name = user_of(update)
    if state == NAME:
        default = short(first_name or "me", 40)
        await say(update, context, "What name shall I show to " + ("mentees" if mentor else "mentors")
                   + "? Tap the button to use your Telegram first name, or type another (up to 100 characters).",
                   buttons([[(f"Use “{default}”", P_NAME)], [("Cancel", P_CANCEL)]]))
    elif state == ORG:
        await say(update, context, "What is your organisation called?\n<i>I use it so that nobody is matched "
                   "with someone from their own organisation. Your buddy sees it only once you both agree.</i>")
    elif state == ORG_TYPE:
        await say(update, context, "What kind of organisation is it?",
                   buttons([[(c.label, cb.make(P_TYPE, c.slug))] for c in ORG_TYPES]))
    elif state == REGION:
        await say(update, context, "Where are you based?",
                   buttons(_pairs([(c.label, cb.make(P_REGION, c.slug)) for c in REGIONS])))
    elif state == TOWN:
        await say(update, context, "Which town or city? Type it, or tap Skip.", buttons([[("Skip", P_TOWN)]]))
    elif state == TOPICS:
        await say(update, context, ("Which topics could you help with?" if mentor else
                                     "What would you like help with?") + " Tap all that apply, then Done.",
                   topics_markup(draft))
    elif state == STAGE:
        if mentor:
            await say(update, context, "Which stages of a partnership have you been through? "
                       "Tap all that apply, then Done.", stages_markup(draft))
        else:
            await say(update, context, "Where is your partnership now?",
                       buttons([[(f"{c.label}: {c.note}", cb.make(P_STAGE, c.slug))] for c in STAGES]))
    elif state == PARTNERS:
        await say(update, context, ("Which kinds of partner have you worked with?" if mentor else
                                     "Which kinds of partner are you working with, or hoping to?")
                   + " Tap all that apply, then Done.", partners_markup(draft))
    elif state == STORY:
        await say(update, context, ("In a few sentences: what have you been through that others could learn "
                                     "from?" if mentor else "In a few sentences: what do you need help with?")
                   + f" (up to {MAX_STORY_CHARS} characters)")
    elif state == CAPACITY:
        await say(update, context, "How many mentees could you support at the same time?",
                   buttons([[(str(n), cb.make(P_CAPACITY, n)) for n in range(1, 6)]]))


def _toggle_rows(choices: tuple[Choice, ...], chosen: list[str], action: str,
                 done: str) -> InlineKeyboardMarkup:
    rows = [[(("✅ " if c.slug in chosen else "") + c.label, cb.make(action, c.slug))] for c in choices]
    return buttons([*rows, [("Done", done)]])


def topics_markup(draft: dict[str, Any]) -> InlineKeyboardMarkup:
    return _toggle_rows(TOPIC_CHOICES, draft.get("topics", []), P_TOPIC, P_TOPICS_DONE)


def stages_markup(draft: dict[str, Any]) -> InlineKeyboardMarkup:
    return _toggle_rows(STAGES, draft.get("stages", []), P_STAGE, P_STAGES_DONE)


def partners_markup(draft: dict[str, Any]) -> InlineKeyboardMarkup:
    return _toggle_rows(ORG_TYPES, draft.get("partner_types", []), P_PARTNER, P_PARTNERS_DONE)


async def advance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After an answer: the next question, or save (at the end, or straight away when editing one field)."""
    assert context.user_data is not None
    state = None if context.user_data.get(EDITING) else _missing_state(_draft(context))
    if state is not None:
        await ask(update, context, state)
    else:
        await _save(update, context)


async def start_profile(update: Update, context: ContextTypes.DEFAULT_TYPE, role: str) -> None:
    """Begin (or pick up) a profile in ``role``; details already given in the other role are reused."""
    assert context.user_data is not None
    svc = services(context)
    user_id, _, _ = user_of(update)
    draft = context.user_data.get(DRAFT) or {}
    context.user_data.pop(EDITING, None)
    context.user_data.pop(COMMENT_FOR, None)
    if draft.get("role") == role and _missing_state(draft) is not None:
        draft["at"] = svc.clock().isoformat()
        await say(update, context, "Welcome back: let's carry on where you left off.")
        await advance(update, context)
        return
    draft = {"role": role, "topics": [], "stages": [], "partner_types": [], "at": svc.clock().isoformat()}
    try:
        others = await profiles_of(svc.database, user_id)
    except SQLAlchemyError:
        others = {}
    other = others.get(MENTEE if role == MENTOR else MENTOR)
    if other is not None:
        known = draft_from_profile(other)
        draft.update({key: known[key] for key in SHARED_FIELDS})
    context.user_data[DRAFT] = draft
    if role == MENTOR:
        intro = ("🤝 <b>Becoming a mentor buddy</b>\nYou'll be matched with people in partnerships who could "
                 "use the experience you have. A few quick questions (about two minutes); /cancel stops.")
    else:
        intro = ("🤝 <b>Finding a mentor buddy</b>\nA few quick questions so I can suggest people who have been "
                 "through something similar (about two minutes); /cancel stops.")
    if other is not None:
        intro += "\nI've used your name, organisation and area from your other profile (change them with /profile)."
    await say(update, context, intro)
    await advance(update, context)


async def _save(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Validate and store the draft. On a database failure the answers are kept for the next try."""
    assert context.user_data is not None
    svc = services(context)
    user_id, username, first_name = user_of(update)
    draft = _draft(context)
    try:
        profile, created = await save_profile(
            svc.database, telegram_id=user_id, username=username, first_name=first_name,
            draft=validate_draft(draft), now=svc.clock())
    except ProfileError as exc:
        context.user_data.pop(EDITING, None)
        await say(update, context, escape(str(exc)))
        state = _missing_state(draft)
        await ask(update, context, state if state is not None else NAME)
        return
    except SQLAlchemyError:
        command = "/mentor_offer" if draft.get("role") == MENTOR else "/mentor"
        draft["at"] = ""  # stop claiming their text until they come back
        await say(update, context, "Sorry, I couldn't save your profile just now. Your answers are kept: send "
                                    f"{command} in a minute and I'll finish.")
        return
    context.user_data.pop(DRAFT, None)
    context.user_data.pop(EDITING, None)
    if profile.role == MENTOR:
        await say(update, context, ("✅ Thank you, you're now a mentor buddy! " if created else "✅ Saved. ")
                   + "I'll message you when someone asks for you. See or change your details with /profile; "
                     "you can pause new requests at any time.")
        await tell_waiting(context)
    else:
        await say(update, context, "✅ Saved." + (" Let's find you a buddy." if created else ""))
        await show_mentee_home(context, user_id)
