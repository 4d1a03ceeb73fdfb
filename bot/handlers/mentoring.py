"""Mentor buddies in chat: /mentor (find a buddy), /mentor_offer (become a mentor), /profile (see and
edit), the request / accept / decline / pause flow, follow-ups, and relaying messages between buddies.

Handlers only translate: every rule (who may be suggested, scores, what a timeout does, when a
follow-up is due) is in ``bot.mentoring``. The profile questions keep their state in the person's
``user_data`` (persisted in the database), so a half-filled profile survives a restart; they claim text
only while someone is answering them.
Every button that acts on a request or a match is checked on the server against the person pressing.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import callbacks as cb
from bot import mentoring as rules
from bot.answers import short
from bot.messages import send_html
from bot.services import SERVICES_KEY, services
from db.mentoring_models import MAX_COMMENT_CHARS, MAX_NAME_CHARS, MAX_STORY_CHARS
from knowledge.render import escape

T = TypeVar("T")

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("mentor", "Find a mentor buddy who has been through it"),
    BotCommand("mentor_offer", "Offer to be a mentor buddy"),
    BotCommand("profile", "See or change your mentoring profile"),
]

# Callback actions (all start with "m").
P_NAME, P_TYPE, P_REGION, P_TOWN = "mpn", "mpt", "mpr", "mpw"
P_TOPIC, P_TOPICS_DONE, P_STAGE, P_STAGES_DONE = "mpk", "mpd", "mps", "mpf"
P_PARTNER, P_PARTNERS_DONE, P_CAPACITY, P_CANCEL = "mpp", "mpg", "mpc", "mpx"
P_EDIT, P_ACTIVE, P_DELETE, P_DELETE_YES, P_KEEP = "mpe", "mph", "mpq", "mpy", "mpj"
ASK = "ms"            # ms:<mentor person id>
ACCEPT, DECLINE, PAUSE = "ma", "md", "mz"   # <match id>
CANCEL = "mc"         # mc:<match id>
CHECKIN = "mf"        # mf:<match id>:<yes|notyet|different>
REVIEW = "mv"         # mv:<match id>:<1 continue|0 close>
RATE = "mr"           # mr:<match id>:<1-5>
SKIP_COMMENT = "mk"   # mk:<match id>
END = "me"            # me:<match id>
SUGGEST = "mo"        # show suggestions again

NAME, ORG, ORG_TYPE, REGION, TOWN, TOPICS, STAGE, PARTNERS, STORY, CAPACITY = range(10)
ORDER = (NAME, ORG, ORG_TYPE, REGION, TOWN, TOPICS, STAGE, PARTNERS, STORY, CAPACITY)
FIELD_STATE = {"display_name": NAME, "organisation": ORG, "org_type": ORG_TYPE, "region": REGION, "town": TOWN,
               "topics": TOPICS, "stages": STAGE, "partner_types": PARTNERS, "story": STORY, "capacity": CAPACITY}
SHARED_FIELDS = ("display_name", "organisation", "org_type", "region", "town")
DRAFT, EDITING, COMMENT_FOR = "m_draft", "m_edit", "m_comment"
LINK_CHECK_SECONDS = 600.0
CLAIM_TEXT_FOR = timedelta(hours=6)
LINK_GROUP, COMMENT_GROUP, RELAY_GROUP = -9, -8, -7  # after the rate limiter (-10)

TRY_AGAIN = "Sorry, I couldn't do that just now. Please try again in a minute."
TAP_A_BUTTON = "Please tap one of the buttons above, or send /cancel to stop."
NOT_NOW = "That question has finished. Send /profile to see or change your details."


# -- small helpers ------------------------------------------------------------------------------------------
def _user(update: Update) -> tuple[int, str | None, str]:
    user = update.effective_user
    assert user is not None
    return user.id, user.username, user.first_name or ""


def _draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(DRAFT, {})


def _buttons(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in row]
                                 for row in rows])


def _pairs(items: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    return [items[i:i + 2] for i in range(0, len(items), 2)]


async def _notify(context: ContextTypes.DEFAULT_TYPE, chat_id: int | None, text: str,
                  markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Send to someone who may have stopped the bot: a failure is logged, not raised."""
    if chat_id is None:
        return None
    try:
        return await send_html(context, chat_id, text, markup)
    except (Forbidden, BadRequest) as exc:
        log.info("Could not reach a mentoring user (%s)", type(exc).__name__)
        return None


async def _say(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
               markup: InlineKeyboardMarkup | None = None) -> Message | None:
    chat = update.effective_chat
    return await send_html(context, chat.id, text, markup) if chat else None


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message's text (its buttons go): best effort, an old message may be gone."""
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(BadRequest):
        await query.edit_message_text(text, reply_markup=markup)


def _chip(choices: tuple[rules.Choice, ...], slugs: list[str]) -> str:
    return ", ".join(escape(rules.label(choices, slug)) for slug in slugs) or "none"


def _area(region: str, town: str | None = None) -> str:
    text = rules.label(rules.REGIONS, region)
    return escape(f"{town}, {text}" if town else text)


# -- the profile questions ------------------------------------------------------------------------------
# The draft in ``context.user_data`` (persisted in the database) *is* the conversation's state: the next
# question is the first one the draft has no answer for. That keeps a half-filled profile across a restart,
# and stays right when updates are handled side by side (the draft is changed before any reply is sent).
def _missing_state(draft: dict[str, Any]) -> int | None:
    """The first question still unanswered in ``draft`` (None when the profile is complete)."""
    answered = {NAME: bool(draft.get("display_name")), ORG: bool(draft.get("organisation")),
                ORG_TYPE: bool(draft.get("org_type")), REGION: bool(draft.get("region")), TOWN: "town" in draft,
                TOPICS: bool(draft.get("topics_done")), STAGE: bool(draft.get("stages_done")),
                PARTNERS: bool(draft.get("partners_done")), STORY: bool(draft.get("story")),
                CAPACITY: draft.get("role") != rules.MENTOR or bool(draft.get("capacity"))}
    return next((state for state in ORDER if not answered[state]), None)


def _current_state(user_data: dict[str, Any] | None) -> int | None:
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
        if not draft or "role" not in draft or _current_state(data) is None:
            return False
        try:
            touched = datetime.fromisoformat(str(draft.get("at")))
        except ValueError:
            return False
        return self.application.bot_data[SERVICES_KEY].clock() - touched < CLAIM_TEXT_FOR


def _active_draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
    """The draft being answered, marked as touched now; None when there is none."""
    draft = (context.user_data or {}).get(DRAFT)
    if not draft or "role" not in draft:
        return None
    draft["at"] = services(context).clock().isoformat()
    return draft


async def _ask(update: Update, context: ContextTypes.DEFAULT_TYPE, state: int) -> None:
    """Send the question for ``state``."""
    draft = _draft(context)
    mentor = draft.get("role") == rules.MENTOR
    _, _, first_name = _user(update)
    if state == NAME:
        default = short(first_name or "me", 40)
        await _say(update, context, "What name shall I show to " + ("mentees" if mentor else "mentors")
                   + "? Tap the button to use your Telegram first name, or type another (up to 100 characters).",
                   _buttons([[(f"Use “{default}”", P_NAME)], [("Cancel", P_CANCEL)]]))
    elif state == ORG:
        await _say(update, context, "What is your organisation called?\n<i>I use it so that nobody is matched "
                   "with someone from their own organisation. Your buddy sees it only once you both agree.</i>")
    elif state == ORG_TYPE:
        await _say(update, context, "What kind of organisation is it?",
                   _buttons([[(c.label, cb.make(P_TYPE, c.slug))] for c in rules.ORG_TYPES]))
    elif state == REGION:
        await _say(update, context, "Where are you based?",
                   _buttons(_pairs([(c.label, cb.make(P_REGION, c.slug)) for c in rules.REGIONS])))
    elif state == TOWN:
        await _say(update, context, "Which town or city? Type it, or tap Skip.", _buttons([[("Skip", P_TOWN)]]))
    elif state == TOPICS:
        await _say(update, context, ("Which topics could you help with?" if mentor else
                                     "What would you like help with?") + " Tap all that apply, then Done.",
                   _topics_markup(draft))
    elif state == STAGE:
        if mentor:
            await _say(update, context, "Which stages of a partnership have you been through? "
                       "Tap all that apply, then Done.", _stages_markup(draft))
        else:
            await _say(update, context, "Where is your partnership now?",
                       _buttons([[(f"{c.label}: {c.note}", cb.make(P_STAGE, c.slug))] for c in rules.STAGES]))
    elif state == PARTNERS:
        await _say(update, context, ("Which kinds of partner have you worked with?" if mentor else
                                     "Which kinds of partner are you working with, or hoping to?")
                   + " Tap all that apply, then Done.", _partners_markup(draft))
    elif state == STORY:
        await _say(update, context, ("In a few sentences: what have you been through that others could learn "
                                     "from?" if mentor else "In a few sentences: what do you need help with?")
                   + f" (up to {MAX_STORY_CHARS} characters)")
    elif state == CAPACITY:
        await _say(update, context, "How many mentees could you support at the same time?",
                   _buttons([[(str(n), cb.make(P_CAPACITY, n)) for n in range(1, 6)]]))


def _toggle_rows(choices: tuple[rules.Choice, ...], chosen: list[str], action: str,
                 done: str) -> InlineKeyboardMarkup:
    rows = [[(("✅ " if c.slug in chosen else "") + c.label, cb.make(action, c.slug))] for c in choices]
    return _buttons([*rows, [("Done", done)]])


def _topics_markup(draft: dict[str, Any]) -> InlineKeyboardMarkup:
    return _toggle_rows(rules.TOPICS, draft.get("topics", []), P_TOPIC, P_TOPICS_DONE)


def _stages_markup(draft: dict[str, Any]) -> InlineKeyboardMarkup:
    return _toggle_rows(rules.STAGES, draft.get("stages", []), P_STAGE, P_STAGES_DONE)


def _partners_markup(draft: dict[str, Any]) -> InlineKeyboardMarkup:
    return _toggle_rows(rules.ORG_TYPES, draft.get("partner_types", []), P_PARTNER, P_PARTNERS_DONE)


async def _advance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After an answer: the next question, or save (at the end, or straight away when editing one field)."""
    assert context.user_data is not None
    state = None if context.user_data.get(EDITING) else _missing_state(_draft(context))
    if state is not None:
        await _ask(update, context, state)
    else:
        await _save(update, context)


async def _start_profile(update: Update, context: ContextTypes.DEFAULT_TYPE, role: str) -> None:
    """Begin (or pick up) a profile in ``role``; details already given in the other role are reused."""
    assert context.user_data is not None
    svc = services(context)
    user_id, _, _ = _user(update)
    draft = context.user_data.get(DRAFT) or {}
    context.user_data.pop(EDITING, None)
    context.user_data.pop(COMMENT_FOR, None)
    if draft.get("role") == role and _missing_state(draft) is not None:
        draft["at"] = svc.clock().isoformat()
        await _say(update, context, "Welcome back: let's carry on where you left off.")
        await _advance(update, context)
        return
    draft = {"role": role, "topics": [], "stages": [], "partner_types": [], "at": svc.clock().isoformat()}
    try:
        others = await rules.profiles_of(svc.database, user_id)
    except SQLAlchemyError:
        others = {}
    other = others.get(rules.MENTEE if role == rules.MENTOR else rules.MENTOR)
    if other is not None:
        known = rules.draft_from_profile(other)
        draft.update({key: known[key] for key in SHARED_FIELDS})
    context.user_data[DRAFT] = draft
    if role == rules.MENTOR:
        intro = ("🤝 <b>Becoming a mentor buddy</b>\nYou'll be matched with people in partnerships who could "
                 "use the experience you have. A few quick questions (about two minutes); /cancel stops.")
    else:
        intro = ("🤝 <b>Finding a mentor buddy</b>\nA few quick questions so I can suggest people who have been "
                 "through something similar (about two minutes); /cancel stops.")
    if other is not None:
        intro += "\nI've used your name, organisation and area from your other profile (change them with /profile)."
    await _say(update, context, intro)
    await _advance(update, context)


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == "private"


async def on_mentor(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mentor: the mentee's home: suggestions, the pending request, the buddy, or the questions."""
    if not _private(update):
        await _say(update, context, "Let's talk about mentor buddies in a private chat: message me directly.")
        return
    svc = services(context)
    user_id, _, _ = _user(update)
    try:
        profiles = await rules.profiles_of(svc.database, user_id)
    except SQLAlchemyError:
        await _say(update, context, TRY_AGAIN)
        return
    if rules.MENTEE not in profiles:
        await _start_profile(update, context, rules.MENTEE)
        return
    await show_mentee_home(context, user_id)


async def on_mentor_offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mentor_offer: become a mentor, or see your mentor status."""
    if not _private(update):
        await _say(update, context, "Let's talk about mentor buddies in a private chat: message me directly.")
        return
    svc = services(context)
    user_id, _, _ = _user(update)
    try:
        profiles = await rules.profiles_of(svc.database, user_id)
        matches = await rules.mentor_matches(svc.database, user_id) if rules.MENTOR in profiles else []
    except SQLAlchemyError:
        await _say(update, context, TRY_AGAIN)
        return
    profile = profiles.get(rules.MENTOR)
    if profile is None:
        await _start_profile(update, context, rules.MENTOR)
        return
    buddies = [p for p in matches if p.match.status == "accepted"]
    pending = [p for p in matches if p.match.status == "pending"]
    lines = [f"<b>You're a mentor buddy</b> ({'taking requests' if profile.active else 'paused'}).",
             f"Buddies: {len(buddies)} of {profile.capacity}."]
    lines += [f"• {escape(p.mentee_name)}" for p in buddies]
    if pending:
        lines.append(f"Requests waiting for your answer: {len(pending)} (see the messages above).")
    rows = [[("⏸ Pause new requests" if profile.active else "▶️ Resume requests",
              cb.make(P_ACTIVE, rules.MENTOR, 0 if profile.active else 1))],
            [("✏️ Edit my profile", cb.make(P_EDIT, rules.MENTOR, "card"))]]
    rows += [[(f"End match with {short(p.mentee_name, 30)}", cb.make(END, p.match.id))] for p in buddies]
    await _say(update, context, "\n".join(lines), _buttons(rows))


async def on_profile(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/profile: each profile with buttons to change any field, pause or delete."""
    if not _private(update):
        await _say(update, context, "Your profile is private: message me directly and send /profile.")
        return
    svc = services(context)
    user_id, _, _ = _user(update)
    try:
        profiles = await rules.profiles_of(svc.database, user_id)
    except SQLAlchemyError:
        await _say(update, context, TRY_AGAIN)
        return
    if not profiles:
        await _say(update, context, "You don't have a mentoring profile yet. Send /mentor to find a buddy, or "
                                    "/mentor_offer to become one.")
        return
    for role in rules.ROLES:
        if role in profiles:
            await _say(update, context, profile_card(profiles[role]), profile_markup(profiles[role]))


def profile_card(profile: Any) -> str:
    mentor = profile.role == rules.MENTOR
    status = ("taking requests" if profile.active else "paused") if mentor else (
        "looking for a buddy" if profile.active else "not looking just now")
    lines = [f"<b>Your {'mentor' if mentor else 'buddy-seeker'} profile</b> ({status})",
             f"Name: {escape(profile.display_name)}",
             f"Organisation: {escape(profile.organisation)} ({escape(rules.label(rules.ORG_TYPES, profile.org_type))})",
             f"Area: {_area(profile.region, profile.town)}",
             f"Topics: {_chip(rules.TOPICS, rules.split_slugs(profile.topics))}",
             f"{'Stages' if mentor else 'Stage'}: {_chip(rules.STAGES, rules.split_slugs(profile.stages))}",
             f"Partners: {_chip(rules.ORG_TYPES, rules.split_slugs(profile.partner_types))}"]
    if mentor:
        lines.append(f"Mentees at a time: {profile.capacity}")
    if profile.story:
        lines.append(f"Story:<blockquote>{escape(profile.story)}</blockquote>")
    return "\n".join(lines)


def profile_markup(profile: Any) -> InlineKeyboardMarkup:
    role = profile.role
    fields = [("Name", "display_name"), ("Organisation", "organisation"), ("Type", "org_type"),
              ("Area", "region"), ("Town", "town"), ("Topics", "topics"), ("Stage", "stages"),
              ("Partners", "partner_types"), ("Story", "story")]
    if role == rules.MENTOR:
        fields.append(("Capacity", "capacity"))
    items = [(f"✏️ {name}", cb.make(P_EDIT, role, key)) for name, key in fields]
    if role == rules.MENTOR:
        toggle = ("⏸ Pause" if profile.active else "▶️ Resume", cb.make(P_ACTIVE, role, 0 if profile.active else 1))
    else:
        toggle = ("⏸ Stop looking" if profile.active else "▶️ Look again",
                  cb.make(P_ACTIVE, role, 0 if profile.active else 1))
    return _buttons([*[items[i:i + 3] for i in range(0, len(items), 3)],
                     [toggle, ("🗑 Delete", cb.make(P_DELETE, role))]])


async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A ✏️ button: load the stored profile and ask just that question (its owner's own profile only)."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    data = cb.parse(query.data)
    role = data.args[0] if data.args else ""
    key = data.args[1] if len(data.args) > 1 else ""
    svc = services(context)
    try:
        profile = (await rules.profiles_of(svc.database, query.from_user.id)).get(role)
    except SQLAlchemyError:
        await query.answer(TRY_AGAIN, show_alert=True)
        return
    if profile is None:
        await query.answer("You don't have that profile.", show_alert=True)
        return
    await query.answer()
    if key not in FIELD_STATE:  # "edit my profile": show the card with its ✏️ buttons
        await _say(update, context, profile_card(profile), profile_markup(profile))
        return
    draft = rules.draft_from_profile(profile)
    draft.update(topics_done=True, stages_done=True, partners_done=True, at=svc.clock().isoformat())
    context.user_data[DRAFT] = draft
    context.user_data[EDITING] = key
    await _ask(update, context, FIELD_STATE[key])


async def _callback_draft(update: Update, context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
    """The draft a profile button acts on; a button of finished questions gets a polite note instead."""
    draft = _active_draft(context)
    if draft is None and update.callback_query is not None:
        await update.callback_query.answer(NOT_NOW, show_alert=True)
    return draft


async def on_name_default(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    draft = await _callback_draft(update, context)
    if draft is None:
        return
    draft["display_name"] = rules.clean_line(query.from_user.first_name) or "Mentoring member"
    await query.answer()
    await _advance(update, context)


async def _text_answer(update: Update, limit: int) -> str | None:
    """The typed answer, cleaned; None (after saying why) when it is empty or too long."""
    message = update.effective_message
    assert message is not None
    text = rules.clean_line(message.text or "", 100_000)
    if not text:
        await message.reply_html("Please type a few words.")
        return None
    if len(text) > limit:
        await message.reply_html(f"That's {len(text)} characters; please keep it to {limit}.")
        return None
    return text


async def on_profile_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text while answering the profile: the answer to the current question, or a nudge to tap a button."""
    message = update.effective_message
    draft = _active_draft(context)
    state = _current_state(context.user_data)
    if message is None or draft is None or state is None:
        return
    if state in (NAME, ORG, TOWN):
        text = await _text_answer(update, MAX_NAME_CHARS)
        if text is None:
            return
        draft[{NAME: "display_name", ORG: "organisation", TOWN: "town"}[state]] = text
    elif state == STORY:
        story = rules.clean_story(message.text or "")
        if not story:
            await message.reply_html("Please type a few sentences.")
            return
        if len(story) > MAX_STORY_CHARS:
            await message.reply_html(f"That's {len(story)} characters; please shorten it to {MAX_STORY_CHARS}. "
                                     f"Here it is to copy and trim:\n<blockquote>{escape(story[:3000])}</blockquote>")
            return
        draft["story"] = story
    else:
        await message.reply_html(TAP_A_BUTTON)
        await _ask(update, context, state)
        return
    await _advance(update, context)


async def on_town_skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    draft = await _callback_draft(update, context)
    if draft is None or update.callback_query is None:
        return
    draft["town"] = None
    await update.callback_query.answer()
    await _edit(update, "✔️ No town given")
    await _advance(update, context)


async def _choice(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str,
                  allowed: dict[str, rules.Choice]) -> None:
    query = update.callback_query
    assert query is not None
    draft = await _callback_draft(update, context)
    if draft is None:
        return
    slug = cb.parse(query.data).args[0] if cb.parse(query.data).args else ""
    if slug not in allowed:
        await query.answer("Please choose from the list.")
        return
    draft[key] = slug
    await query.answer()
    await _edit(update, f"✔️ {escape(allowed[slug].label)}")
    await _advance(update, context)


async def on_org_type(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _choice(update, context, "org_type", rules.ORG_TYPE_BY_SLUG)


async def on_region(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _choice(update, context, "region", rules.REGION_BY_SLUG)


async def _toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, allowed: dict[str, rules.Choice],
                  markup: Any) -> None:
    query = update.callback_query
    assert query is not None
    draft = await _callback_draft(update, context)
    if draft is None:
        return
    slug = cb.parse(query.data).args[0] if cb.parse(query.data).args else ""
    chosen: list[str] = list(draft.get(key) or [])
    if slug in allowed:
        chosen = [s for s in chosen if s != slug] if slug in chosen else [*chosen, slug]
        draft[key] = chosen
    await query.answer()
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(markup(draft))


async def on_topic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _toggle(update, context, "topics", rules.TOPIC_BY_SLUG, _topics_markup)


async def on_partner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _toggle(update, context, "partner_types", rules.ORG_TYPE_BY_SLUG, _partners_markup)


async def on_stage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if ((context.user_data or {}).get(DRAFT) or {}).get("role") == rules.MENTOR:
        await _toggle(update, context, "stages", rules.STAGE_BY_SLUG, _stages_markup)
        return
    query = update.callback_query
    assert query is not None
    draft = await _callback_draft(update, context)
    if draft is None:
        return
    slug = cb.parse(query.data).args[0] if cb.parse(query.data).args else ""
    if slug not in rules.STAGE_BY_SLUG:
        await query.answer("Please choose from the list.")
        return
    draft.update(stages=[slug], stages_done=True)
    await query.answer()
    await _edit(update, f"✔️ {escape(rules.STAGE_BY_SLUG[slug].label)}")
    await _advance(update, context)


async def _done(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, flag: str,
                choices: tuple[rules.Choice, ...], required: bool) -> None:
    query = update.callback_query
    assert query is not None
    draft = await _callback_draft(update, context)
    if draft is None:
        return
    if required and not draft.get(key):
        await query.answer("Please choose at least one.", show_alert=True)
        return
    draft[flag] = True
    await query.answer()
    await _edit(update, f"✔️ {_chip(choices, draft.get(key) or [])}")
    await _advance(update, context)


async def on_topics_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _done(update, context, "topics", "topics_done", rules.TOPICS, True)


async def on_stages_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _done(update, context, "stages", "stages_done", rules.STAGES, False)


async def on_partners_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _done(update, context, "partner_types", "partners_done", rules.ORG_TYPES, False)


async def on_capacity(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    draft = await _callback_draft(update, context)
    if draft is None:
        return
    number = cb.parse(query.data).int_arg(0)
    if number is None or not rules.MIN_CAPACITY <= number <= rules.MAX_CAPACITY:
        await query.answer("Please choose 1 to 5.")
        return
    draft["capacity"] = number
    await query.answer()
    await _edit(update, f"✔️ {number} at a time")
    await _advance(update, context)


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel or the Cancel button while answering: forget the draft, change nothing."""
    assert context.user_data is not None
    had_draft = context.user_data.pop(DRAFT, None) is not None
    context.user_data.pop(EDITING, None)
    if update.callback_query:
        await update.callback_query.answer()
    if had_draft:
        await _say(update, context, "OK, I've stopped. Nothing was changed. Send /mentor or /mentor_offer any time.")
    else:
        await _edit(update, "OK, nothing changed.")


async def _save(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Validate and store the draft. On a database failure the answers are kept for the next try."""
    assert context.user_data is not None
    svc = services(context)
    user_id, username, first_name = _user(update)
    draft = _draft(context)
    try:
        profile, created = await rules.save_profile(
            svc.database, telegram_id=user_id, username=username, first_name=first_name,
            draft=rules.validate_draft(draft), now=svc.clock())
    except rules.ProfileError as exc:
        context.user_data.pop(EDITING, None)
        await _say(update, context, escape(str(exc)))
        state = _missing_state(draft)
        await _ask(update, context, state if state is not None else NAME)
        return
    except SQLAlchemyError:
        command = "/mentor_offer" if draft.get("role") == rules.MENTOR else "/mentor"
        draft["at"] = ""  # stop claiming their text until they come back
        await _say(update, context, "Sorry, I couldn't save your profile just now. Your answers are kept: send "
                                    f"{command} in a minute and I'll finish.")
        return
    context.user_data.pop(DRAFT, None)
    context.user_data.pop(EDITING, None)
    if profile.role == rules.MENTOR:
        await _say(update, context, ("✅ Thank you, you're now a mentor buddy! " if created else "✅ Saved. ")
                   + "I'll message you when someone asks for you. See or change your details with /profile; "
                     "you can pause new requests at any time.")
        await tell_waiting(context)
    else:
        await _say(update, context, "✅ Saved." + (" Let's find you a buddy." if created else ""))
        await show_mentee_home(context, user_id)


# -- suggestions and requests -----------------------------------------------------------------------------
def suggestions_text(suggestions: list[rules.Suggestion], intro: str) -> str:
    """Up to three mentors, as a mentee may see them: no contact details and no organisation name."""
    parts = [intro]
    for number, s in enumerate(suggestions, start=1):
        parts.append(f"<b>{number}. {escape(s.display_name)}</b> · {escape(rules.label(rules.ORG_TYPES, s.org_type))}"
                     f" · {escape(rules.label(rules.REGIONS, s.region))}\n<i>{escape(s.why)}</i>"
                     + (f"\n<blockquote>{escape(s.story)}</blockquote>" if s.story else ""))
    parts.append("When you ask, they'll see your name, area, topics and what you need help with. Contact "
                 "details are swapped only if they say yes.")
    return "\n\n".join(parts)


def suggestions_markup(suggestions: list[rules.Suggestion]) -> InlineKeyboardMarkup:
    return _buttons([[(f"Ask {short(s.display_name, 30)}", cb.make(ASK, s.mentor_person_id))] for s in suggestions])


WAITING_TEXT = ("I haven't found a mentor who fits yet, so you're on the waiting list. I'll message you as soon "
                "as one is free. You can change your topics with /profile.")


async def show_mentee_home(context: ContextTypes.DEFAULT_TYPE, user_id: int,
                           intro: str = "Here are mentors who could help you:") -> None:
    """What a mentee sees: their buddy, their pending request, suggestions, or the waiting list."""
    svc = services(context)
    try:
        status = await rules.mentee_status(svc.database, user_id, svc.clock())
    except SQLAlchemyError:
        await _notify(context, user_id, TRY_AGAIN)
        return
    if status.buddy is not None:
        parties = status.buddy
        sent = await _notify(context, user_id, f"Your mentor buddy is <b>{escape(parties.mentor_name)}</b>. "
                             + _contact_line(parties.mentor, parties.mentor_name),
                             _buttons([[("🔄 I need a different buddy",
                                         cb.make(CHECKIN, parties.match.id, rules.DIFFERENT))],
                                       [("End the match", cb.make(END, parties.match.id))]]))
        if sent is not None and parties.mentor.username is None:
            await rules.add_relay(svc.database, user_id, sent.message_id, parties.match.id or 0)
    elif status.pending is not None:
        parties = status.pending
        await _notify(context, user_id, f"You've asked <b>{escape(parties.mentor_name)}</b> to be your buddy and "
                      "I'm waiting for their answer.",
                      _buttons([[("Cancel request", cb.make(CANCEL, parties.match.id))]]))
    elif status.suggestions:
        await _notify(context, user_id, suggestions_text(status.suggestions, intro),
                      suggestions_markup(status.suggestions))
    else:
        await _notify(context, user_id, WAITING_TEXT,
                      _buttons([[("⏸ Stop looking", cb.make(P_ACTIVE, rules.MENTEE, 0))]]))


def _contact_line(person: Any, name: str) -> str:
    """A username link, or the relay offer when the person has no username."""
    if person.username:
        return f'Say hello: <a href="https://t.me/{escape(person.username)}">@{escape(person.username)}</a>'
    return (f"{escape(name)} has no Telegram username, so <b>reply to this message</b> and I'll pass your "
            "message on.")


def request_text(parties: rules.Parties, hours: int) -> str:
    profile = parties.mentee_profile
    assert profile is not None
    stage = rules.split_slugs(profile.stages)
    return (f"🤝 <b>{escape(parties.mentee_name)}</b> would like you as their mentor buddy.\n"
            f"{escape(rules.label(rules.ORG_TYPES, profile.org_type))} · {_area(profile.region)}\n"
            f"Needs help with: {_chip(rules.TOPICS, rules.split_slugs(profile.topics))}\n"
            + (f"Partnership stage: {_chip(rules.STAGES, stage)}\n" if stage else "")
            + (f"<blockquote>{escape(profile.story)}</blockquote>\n" if profile.story else "")
            + f"<i>Why you: {escape(parties.match.why)}</i>\n\n"
            f"Please answer within {hours} hours. Your contact details are shared only if you accept.")


def request_markup(match_id: int) -> InlineKeyboardMarkup:
    return _buttons([[("✅ Accept", cb.make(ACCEPT, match_id)), ("❌ Decline", cb.make(DECLINE, match_id))],
                     [("⏸ Pause me", cb.make(PAUSE, match_id))]])


async def send_request(context: ContextTypes.DEFAULT_TYPE, parties: rules.Parties) -> bool:
    """Send a pending request to its mentor and remember the message; False if they can't be reached."""
    svc = services(context)
    sent = await _notify(context, parties.mentor.telegram_id,
                         request_text(parties, svc.settings.mentor_request_timeout_hours),
                         request_markup(parties.match.id or 0))
    if sent is not None:
        await rules.set_mentor_message(svc.database, parties.match.id or 0, sent.message_id, svc.clock())
    return sent is not None


async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A mentee taps "Ask <name>": the rules re-check everything, then the mentor gets the request."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    mentor_id = cb.parse(query.data).int_arg(0)
    if mentor_id is None:
        await query.answer("That button is out of date: send /mentor.", show_alert=True)
        return
    try:
        parties = await rules.request_mentor(svc.database, query.from_user.id, mentor_id, svc.clock())
    except rules.MentoringError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    except SQLAlchemyError:
        await query.answer(TRY_AGAIN, show_alert=True)
        return
    await query.answer()
    await _edit(update, f"You chose <b>{escape(parties.mentor_name)}</b>.")
    hours = svc.settings.mentor_request_timeout_hours
    told = parties.mentor.telegram_id is not None and await send_request(context, parties)
    later = "" if told else " They haven't opened the bot yet, so they'll see it when they do."
    await _notify(context, query.from_user.id,
                  f"📨 I've asked <b>{escape(parties.mentor_name)}</b>.{later} I'll tell you their answer; if they "
                  f"can't reply within {hours} hours I'll suggest someone else.",
                  _buttons([[("Cancel request", cb.make(CANCEL, parties.match.id))]]))



async def _for_match(query: CallbackQuery, match_id: int | None, not_yours: str,
                     call: Callable[[int], Awaitable[T]]) -> T | None:
    """Run a rule on the match a button names. The rule checks on the server that the match belongs to
    the person pressing; when it does not, or the database is down, the person is told and None returned."""
    try:
        if match_id is None:
            raise rules.MentoringError(not_yours)
        return await call(match_id)
    except rules.MentoringError as exc:
        await query.answer(str(exc), show_alert=True)
    except SQLAlchemyError:
        await query.answer(TRY_AGAIN, show_alert=True)
    return None

async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The mentor's Accept / Decline / Pause me; only the asked mentor can answer."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    decision = {ACCEPT: rules.ACCEPT, DECLINE: rules.DECLINE, PAUSE: rules.PAUSE}[data.action]
    match_id = data.int_arg(0)
    parties = await _for_match(
        query, match_id, "That request isn't yours to answer.",
        lambda match_id: rules.respond(svc.database, match_id, query.from_user.id, decision, svc.clock()))
    if parties is None:
        return
    await query.answer()
    mentee_id = parties.mentee.telegram_id
    if decision == rules.ACCEPT:
        await _edit(update, f"✅ You accepted <b>{escape(parties.mentee_name)}</b>'s request.")
        await introduce(context, parties)
        return
    if decision == rules.PAUSE:
        await _edit(update, "You declined this request and you're paused: no new requests until you resume.",
                    _buttons([[("▶️ Resume requests", cb.make(P_ACTIVE, rules.MENTOR, 1))]]))
    else:
        await _edit(update, f"You declined <b>{escape(parties.mentee_name)}</b>'s request. Thank you for "
                            "answering: I'll suggest someone else to them.")
    if mentee_id is not None:
        await show_mentee_home(context, mentee_id, intro=(
            f"{escape(parties.mentor_name)} can't take on a new buddy just now. That's no reflection on you. "
            "Here is who else could help:"))


async def introduce(context: ContextTypes.DEFAULT_TYPE, parties: rules.Parties) -> None:
    """Both buddies get each other's contact: a username link, or relaying through the bot."""
    svc = services(context)
    mentee_profile, mentor_profile = parties.mentee_profile, parties.mentor_profile

    def org(profile: Any) -> str:
        return f" from {escape(profile.organisation)}" if profile else ""

    to_mentee = (f"🎉 <b>{escape(parties.mentor_name)}</b>{org(mentor_profile)} has agreed to be your mentor "
                 f"buddy!\n{_contact_line(parties.mentor, parties.mentor_name)}\n"
                 "I'll check in with you in two weeks.")
    to_mentor = (f"🎉 You're now mentor buddy to <b>{escape(parties.mentee_name)}</b>{org(mentee_profile)}.\n"
                 f"{_contact_line(parties.mentee, parties.mentee_name)}")
    for chat_id, text in ((parties.mentee.telegram_id, to_mentee), (parties.mentor.telegram_id, to_mentor)):
        sent = await _notify(context, chat_id, text)
        if sent is not None and chat_id is not None:
            try:
                await rules.add_relay(svc.database, chat_id, sent.message_id, parties.match.id or 0)
            except SQLAlchemyError:
                log.warning("Could not record a relay message for match %s", parties.match.id)


async def on_cancel_request(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    match_id = cb.parse(query.data).int_arg(0)
    parties = await _for_match(
        query, match_id, "That request isn't yours.",
        lambda match_id: rules.cancel_request(svc.database, match_id, query.from_user.id, svc.clock()))
    if parties is None:
        return
    await query.answer("Request withdrawn.")
    await _edit(update, f"You withdrew your request to <b>{escape(parties.mentor_name)}</b>.",
                _buttons([[("Show me mentors", SUGGEST)]]))
    mentor_chat, message_id = parties.mentor.telegram_id, parties.match.mentor_message_id
    note = f"{escape(parties.mentee_name)} has withdrawn their request. There's nothing you need to do."
    if mentor_chat is not None and message_id is not None:
        try:
            await context.bot.edit_message_text(note, chat_id=mentor_chat, message_id=message_id)
            return
        except (BadRequest, Forbidden):
            pass
    if parties.match.mentor_told_at is not None:
        await _notify(context, mentor_chat, note)


async def on_suggest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await show_mentee_home(context, query.from_user.id)


async def on_active(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pause / resume (mentor) or stop / restart looking (mentee): on the presser's own profile only."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    role, active = (data.args[0] if data.args else ""), data.int_arg(1) == 1
    try:
        profile = await rules.set_active(svc.database, query.from_user.id, role, active, svc.clock())
    except SQLAlchemyError:
        await query.answer(TRY_AGAIN, show_alert=True)
        return
    if profile is None:
        await query.answer("You don't have that profile.", show_alert=True)
        return
    if role == rules.MENTOR:
        await query.answer("Resumed: you can get requests again." if active else "Paused: no new requests.")
        await _edit(update, profile_card(profile), profile_markup(profile))
        if active:
            await tell_waiting(context)
    else:
        await query.answer("OK" if active else "OK, you're off the waiting list.")
        await _edit(update, profile_card(profile), profile_markup(profile))
        if active:
            await show_mentee_home(context, query.from_user.id)


async def on_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    role = cb.parse(query.data).args[0] if cb.parse(query.data).args else ""
    if role not in rules.ROLES:
        await query.answer()
        return
    await query.answer()
    await _say(update, context, f"Delete your {'mentor' if role == rules.MENTOR else 'buddy-seeker'} profile? Any "
                                "current buddy match in that role will end.",
               _buttons([[("Yes, delete it", cb.make(P_DELETE_YES, role)), ("No, keep it", P_KEEP)]]))


async def on_delete_yes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    role = cb.parse(query.data).args[0] if cb.parse(query.data).args else ""
    if role not in rules.ROLES:
        await query.answer()
        return
    try:
        notices = await rules.delete_profile(svc.database, query.from_user.id, role, svc.clock())
    except SQLAlchemyError:
        await query.answer(TRY_AGAIN, show_alert=True)
        return
    await query.answer()
    await _edit(update, "Deleted. Thank you for taking part.")
    for chat_id, text in notices:
        await _notify(context, chat_id, text)
    if role == rules.MENTOR:
        await tell_waiting(context)


# -- follow-ups ------------------------------------------------------------------------------------------------------
async def on_checkin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The mentee's answer to "Have you connected?" (also "I need a different buddy" from /mentor)."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    match_id, answer = data.int_arg(0), (data.args[1] if len(data.args) > 1 else "")
    parties = await _for_match(
        query, match_id, "That buddy match isn't yours.",
        lambda match_id: rules.answer_checkin(svc.database, match_id, query.from_user.id, answer, svc.clock()))
    if parties is None:
        return
    await query.answer()
    if answer == rules.CONNECTED:
        await _edit(update, "🎉 Great! I'll check in again at three months.")
    elif answer == rules.NOT_YET:
        again = " I'll ask again in a week." if parties.match.checkin_due else ""
        await _edit(update, f"No problem: these things take time. {_contact_line(parties.mentor, parties.mentor_name)}"
                            f"{again}")
        if parties.mentor.username is None and query.message is not None:
            await rules.add_relay(svc.database, query.from_user.id, query.message.message_id, match_id)
    else:
        await _edit(update, f"OK, I've ended your match with {escape(parties.mentor_name)}.")
        await _notify(context, parties.mentor.telegram_id,
                      f"Your buddy match with {escape(parties.mentee_name)} has ended. Thank you for the time you "
                      "gave; your place is free for someone new.")
        await show_mentee_home(context, query.from_user.id, intro="Here are other mentors who could help:")
        await tell_waiting(context)


async def on_review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The mentee's answer to "Continue or close?", then a 1-5 rating."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    match_id, keep = data.int_arg(0), data.int_arg(1) == 1
    parties = await _for_match(
        query, match_id, "That buddy match isn't yours.",
        lambda match_id: rules.answer_review(svc.database, match_id, query.from_user.id, keep, svc.clock()))
    if parties is None:
        return
    await query.answer()
    await _edit(update, "👍 Carrying on: I'll check in again in three months." if keep
                else f"Closed. Thank you both. Your match with {escape(parties.mentor_name)} has ended.")
    if not keep:
        await _notify(context, parties.mentor.telegram_id,
                      f"Your buddy match with {escape(parties.mentee_name)} has been closed. Thank you for the time "
                      "you gave; your place is free for someone new.")
        await tell_waiting(context)
    await _notify(context, query.from_user.id, f"How has being buddies with {escape(parties.mentor_name)} been? "
                  "1 = not helpful, 5 = very helpful.",
                  _buttons([[(str(n), cb.make(RATE, match_id, n)) for n in range(1, 6)]]))


async def on_rate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or context.user_data is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    match_id, rating = data.int_arg(0), data.int_arg(1)
    try:
        ok = match_id is not None and rating is not None and await rules.rate_match(
            svc.database, match_id, query.from_user.id, rating=rating)
    except SQLAlchemyError:
        await query.answer(TRY_AGAIN, show_alert=True)
        return
    if not ok:
        await query.answer("That buddy match isn't yours.", show_alert=True)
        return
    await query.answer()
    context.user_data[COMMENT_FOR] = match_id
    await _edit(update, f"Thank you: {rating} out of 5. Anything you'd like to add? Type a short comment "
                        f"(up to {MAX_COMMENT_CHARS} characters), or tap Skip.",
                _buttons([[("Skip", cb.make(SKIP_COMMENT, match_id))]]))


async def on_skip_comment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is None or context.user_data is None:
        return
    context.user_data.pop(COMMENT_FOR, None)
    await update.callback_query.answer()
    await _edit(update, "Thank you for the feedback.")


async def on_comment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text after a rating is its comment (and is not treated as a question)."""
    if context.user_data is None or COMMENT_FOR not in context.user_data:
        return
    message = update.effective_message
    if message is None or not message.text:
        return
    svc = services(context)
    text = rules.clean_story(message.text)
    if len(text) > MAX_COMMENT_CHARS:
        await message.reply_html(f"That's {len(text)} characters; please shorten it to {MAX_COMMENT_CHARS}.")
        raise ApplicationHandlerStop
    try:
        await rules.rate_match(svc.database, int(context.user_data[COMMENT_FOR]), message.from_user.id
                               if message.from_user else 0, comment=text)
    except SQLAlchemyError:
        await message.reply_html(TRY_AGAIN)
        raise ApplicationHandlerStop from None
    context.user_data.pop(COMMENT_FOR, None)
    await message.reply_html("Thank you: your comment is saved.")
    raise ApplicationHandlerStop


async def on_end(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    match_id = cb.parse(query.data).int_arg(0)
    parties = await _for_match(
        query, match_id, "That buddy match isn't yours.",
        lambda match_id: rules.end_match(svc.database, match_id, query.from_user.id, svc.clock()))
    if parties is None:
        return
    await query.answer()
    by_mentee = parties.mentee.telegram_id == query.from_user.id
    other_chat = parties.mentor.telegram_id if by_mentee else parties.mentee.telegram_id
    other_name = parties.mentor_name if by_mentee else parties.mentee_name
    await _edit(update, f"Your buddy match with {escape(other_name)} has ended. Thank you.")
    await _notify(context, other_chat, f"Your buddy match with "
                  f"{escape(parties.mentee_name if by_mentee else parties.mentor_name)} has ended. Thank you for the "
                  "time you gave it." + ("" if by_mentee else " Send /mentor to find another buddy."))
    await tell_waiting(context)


# -- relaying between buddies ----------------------------------------------------------------------------------------
async def on_relay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to a buddy message goes to the buddy (for people without a username). Other replies pass."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or not message.text or message.from_user is None:
        return
    svc = services(context)
    try:
        target = await rules.relay_target(svc.database, message.chat_id, message.reply_to_message.message_id,
                                          message.from_user.id)
    except SQLAlchemyError:
        return
    if target is None:
        return
    recipient, sender_name, match_id = target
    if recipient is None:
        await message.reply_html("This buddy match has ended, so I can't pass messages on.")
        raise ApplicationHandlerStop
    sent = await _notify(context, recipient, f"💬 <b>{escape(sender_name)}</b>, your buddy, says:\n"
                         f"<blockquote>{escape(message.text)}</blockquote>\n<i>Reply to this message to answer.</i>")
    if sent is None:
        await message.reply_html("Sorry, I couldn't pass that on: your buddy may have stopped the bot.")
        raise ApplicationHandlerStop
    try:
        await rules.add_relay(svc.database, recipient, sent.message_id, match_id)
    except SQLAlchemyError:
        log.warning("Could not record a relay message for match %s", match_id)
    await message.reply_html("✅ Passed on to your buddy.")
    raise ApplicationHandlerStop


async def on_any_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Link an imported person (known by username) the first time they talk to the bot; keep usernames fresh.

    Checked at most every ten minutes per person in this process, and never creates a row by itself.
    """
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.is_bot or chat is None or chat.type != "private":
        return
    seen: dict[int, float] = context.application.bot_data.setdefault("m_seen", {})
    now = time.monotonic()
    if now - seen.get(user.id, -LINK_CHECK_SECONDS) < LINK_CHECK_SECONDS:
        return
    seen[user.id] = now
    try:
        linked = await rules.link_person(services(context).database, user.id, user.username, user.first_name or "")
    except SQLAlchemyError:
        seen.pop(user.id, None)
        return
    if linked:
        await deliver(context)


# -- scheduled work (each claims rows from the database) --------------------------------------------------------
async def tell_waiting(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Waiting mentees for whom a mentor has appeared are told, once."""
    svc = services(context)
    try:
        found = await rules.claim_waiting_with_mentors(svc.database, svc.clock())
    except SQLAlchemyError as exc:
        log.warning("Waiting list check skipped: database unavailable (%s)", type(exc).__name__)
        return
    for chat_id, suggestions in found:
        await _notify(context, chat_id, suggestions_text(
            suggestions, "🎉 Good news: a mentor who could help you is now available."),
            suggestions_markup(suggestions))


async def deliver(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: requests held for mentors who just linked, admins' proposals, and the waiting list."""
    svc = services(context)
    try:
        held = await rules.claim_unsent_requests(svc.database, svc.clock())
        proposals = await rules.claim_undelivered_proposals(svc.database, svc.clock())
    except SQLAlchemyError as exc:
        log.warning("Mentoring deliveries skipped: database unavailable (%s)", type(exc).__name__)
        return
    for parties in held:
        await send_request(context, parties)
    for parties, suggestion in proposals:
        await _notify(context, parties.mentee.telegram_id, suggestions_text(
            [suggestion], "🤝 Our organisers suggest a mentor buddy for you:"),
            _buttons([[(f"Ask {short(suggestion.display_name, 30)}", cb.make(ASK, suggestion.mentor_person_id))],
                      [("Show me others", SUGGEST)]]))
    await tell_waiting(context)


async def expire_requests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: requests unanswered in MENTOR_REQUEST_TIMEOUT_HOURS are withdrawn; the mentee gets the next one."""
    svc = services(context)
    try:
        expired = await rules.claim_timeouts(svc.database, svc.clock(),
                                             timedelta(hours=svc.settings.mentor_request_timeout_hours))
    except SQLAlchemyError as exc:
        log.warning("Mentor request timeouts skipped: database unavailable (%s)", type(exc).__name__)
        return
    for parties in expired:
        if parties.mentor.telegram_id is not None and parties.match.mentor_message_id is not None:
            with contextlib.suppress(BadRequest, Forbidden):
                await context.bot.edit_message_text(
                    f"This request from {escape(parties.mentee_name)} has expired, so I've withdrawn it. "
                    "No problem at all.", chat_id=parties.mentor.telegram_id,
                    message_id=parties.match.mentor_message_id)
        if parties.mentee.telegram_id is not None:
            await show_mentee_home(context, parties.mentee.telegram_id, intro=(
                f"{escape(parties.mentor_name)} hasn't been able to answer in time, so I've withdrawn your request. "
                "That's no reflection on you. Here is who else could help:"))


async def send_followups(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: "Have you connected?" at 14 days and "Continue or close?" at 90 days, each sent once."""
    svc = services(context)
    try:
        checkins = await rules.claim_due_checkins(svc.database, svc.clock())
        reviews = await rules.claim_due_reviews(svc.database, svc.clock())
    except SQLAlchemyError as exc:
        log.warning("Mentoring follow-ups skipped: database unavailable (%s)", type(exc).__name__)
        return
    for parties in checkins:
        match_id = parties.match.id
        await _notify(context, parties.mentee.telegram_id,
                      f"👋 It's been a while since you were matched with <b>{escape(parties.mentor_name)}</b>. "
                      "Have you connected?",
                      _buttons([[("✅ Yes", cb.make(CHECKIN, match_id, rules.CONNECTED)),
                                 ("⏳ Not yet", cb.make(CHECKIN, match_id, rules.NOT_YET))],
                                [("🔄 I need a different buddy", cb.make(CHECKIN, match_id, rules.DIFFERENT))]]))
    for parties in reviews:
        match_id = parties.match.id
        await _notify(context, parties.mentee.telegram_id,
                      f"🗓 It's been three months with <b>{escape(parties.mentor_name)}</b>. Would you like to "
                      "continue, or close the buddy match?",
                      _buttons([[("Continue", cb.make(REVIEW, match_id, 1)), ("Close", cb.make(REVIEW, match_id, 0))]]))


# -- wiring ------------------------------------------------------------------------------------------------------
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


async def on_cancel_outside(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"No, keep it" and stale Cancel buttons outside the profile questions."""
    if update.callback_query is not None:
        await update.callback_query.answer()
        await _edit(update, "OK, nothing changed.")
