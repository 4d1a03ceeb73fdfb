"""The profile questions as a :class:`~bot.core.forms.conversation.Form` (python-telegram-bot's
ConversationHandler, persistent, ended quietly after 30 minutes): /mentor and /mentor_offer start or pick
up a profile, the ✏️ buttons of /profile change one field.

Why it forgives: every step takes a typed answer as well as a tap ("charity", "Carmarthenshire", "four",
"done"); a question typed into a step is answered from the knowledge base and the step asked again; text
that reads as a question is never stored as a name or story unless the person says so; every step has
Back and Cancel. The answers so far are kept in ``user_data`` (persisted), so a restart or a timeout loses
nothing: /mentor carries on where the person left off.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.core import callbacks as cb
from bot.core.forms.conversation import (
    END,
    Form,
    answered_as_question,
    back_handler,
    drop_buttons,
    nav_row,
)
from bot.core.forms.places import read_region
from bot.core.forms.questions import reads_as_question
from bot.core.forms.typed import Option, choose, normalise, parse_number, parse_yes_no
from bot.core.services import services
from bot.mentoring import cleaning, drafts, lists, profiles
from bot.mentoring.handlers.common import (
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
    P_USE,
    chip,
    edit,
    say,
    user_of,
)
from bot.mentoring.handlers.jobs import tell_waiting
from bot.mentoring.handlers.suggestions import show_mentee_home
from bot.mentoring.suggestions import mentee_status
from db.mentoring_models import MAX_NAME_CHARS, MAX_STORY_CHARS, MentoringProfile
from knowledge.render import escape

NAME, ORG, ORG_TYPE, REGION, TOWN, TOPICS, STAGE, PARTNERS, STORY, CAPACITY, CONFIRM = range(11)
ORDER = (NAME, ORG, ORG_TYPE, REGION, TOWN, TOPICS, STAGE, PARTNERS, STORY, CAPACITY)
FIELD_STATE = {"display_name": NAME, "organisation": ORG, "org_type": ORG_TYPE, "region": REGION, "town": TOWN,
               "topics": TOPICS, "stages": STAGE, "partner_types": PARTNERS, "story": STORY, "capacity": CAPACITY}
TEXT_FIELDS = {NAME: ("display_name", "name"), ORG: ("organisation", "organisation's name"),
               TOWN: ("town", "town"), STORY: ("story", "story")}
SHARED_FIELDS = ("display_name", "organisation", "org_type", "region", "town")
DRAFT, EDITING, SHOWN = "m_draft", "m_edit", "m_shown"
DONE_WORDS = {"done", "finished", "that's all", "thats all", "that's it", "thats it", "next", "none", "no more",
              "nothing else", "skip", "carry on", "continue"}
#: In-form buttons: the form's own; from a finished form they get a short note (bot.mentoring.handlers).
IN_FORM = rf"^(mpn|mpt|mpr|mpw|mpk|mpd|mps|mpf|mpp|mpg|mpc|{P_USE})(:|$)"


# -- the draft ---------------------------------------------------------------------------------------
def _draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(DRAFT, {})


def _is_mentor(draft: dict[str, Any]) -> bool:
    return draft.get("role") == lists.MENTOR


def _answered(draft: dict[str, Any], state: int) -> bool:
    return {NAME: bool(draft.get("display_name")), ORG: bool(draft.get("organisation")),
            ORG_TYPE: bool(draft.get("org_type")), REGION: bool(draft.get("region")), TOWN: "town" in draft,
            TOPICS: bool(draft.get("topics_done")), STAGE: bool(draft.get("stages_done")),
            PARTNERS: bool(draft.get("partners_done")), STORY: bool(draft.get("story")),
            CAPACITY: not _is_mentor(draft) or bool(draft.get("capacity"))}[state]


def _steps(draft: dict[str, Any]) -> tuple[int, ...]:
    return ORDER if _is_mentor(draft) else ORDER[:-1]


def _missing(draft: dict[str, Any], after: int = -1) -> int | None:
    """The first unanswered question after ``after`` (None when there is nothing left to ask)."""
    return next((s for s in _steps(draft) if s > after and not _answered(draft, s)), None)


# -- asking ------------------------------------------------------------------------------------------
def _pairs(items: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    return [items[i:i + 2] for i in range(0, len(items), 2)]


def _markup(rows: list[list[tuple[str, str]]], *, back: bool = True) -> InlineKeyboardMarkup:
    buttons = [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    return InlineKeyboardMarkup([*buttons, nav_row(back=back)])


def _toggles(choices: tuple[lists.Choice, ...], chosen: list[str], action: str, done: str) -> InlineKeyboardMarkup:
    rows = [[(("✅ " if c.slug in chosen else "") + c.label, cb.make(action, c.slug))] for c in choices]
    return _markup([*rows, [("Done", done)]])


def _toggle_markup(draft: dict[str, Any], state: int) -> InlineKeyboardMarkup:
    if state == TOPICS:
        return _toggles(lists.TOPICS, draft.get("topics", []), P_TOPIC, P_TOPICS_DONE)
    if state == STAGE:
        return _toggles(lists.STAGES, draft.get("stages", []), P_STAGE, P_STAGES_DONE)
    return _toggles(lists.ORG_TYPES, draft.get("partner_types", []), P_PARTNER, P_PARTNERS_DONE)


def _question(update: Update, draft: dict[str, Any], state: int) -> tuple[str, InlineKeyboardMarkup]:
    mentor = _is_mentor(draft)
    _, _, first_name = user_of(update)
    first = state == NAME
    if state == NAME:
        default = (first_name or "me")[:40]
        return ("What name shall I show to " + ("mentees" if mentor else "mentors") + "? Tap the button to use "
                "your Telegram first name, or type another (up to 100 characters).",
                _markup([[(f"Use “{default}”", P_NAME)]], back=False))  # a label: shown as is
    if state == ORG:
        return ("What is your organisation called?\n<i>I use it so that nobody is matched with someone from "
                "their own organisation. Your buddy sees it only once you both agree.</i>", _markup([]))
    if state == ORG_TYPE:
        return ("What kind of organisation is it? Tap one or type it.",
                _markup([[(c.label, cb.make(P_TYPE, c.slug))] for c in lists.ORG_TYPES]))
    if state == REGION:
        return ("Where are you based? Tap your area, or type it (a county or city is fine).",
                _markup(_pairs([(c.label, cb.make(P_REGION, c.slug)) for c in lists.REGIONS])))
    if state == TOWN:
        return "Which town or city? Type it, or tap Skip.", _markup([[("Skip", P_TOWN)]])
    if state == TOPICS:
        return (("Which topics could you help with?" if mentor else "What would you like help with?")
                + " Tap or type all that apply, then Done.", _toggle_markup(draft, TOPICS))
    if state == STAGE:
        if mentor:
            return ("Which stages of a partnership have you been through? Tap or type all that apply, then Done.",
                    _toggle_markup(draft, STAGE))
        return ("Where is your partnership now?",
                _markup([[(f"{c.label}: {c.note}", cb.make(P_STAGE, c.slug))] for c in lists.STAGES]))
    if state == PARTNERS:
        return (("Which kinds of partner have you worked with?" if mentor else
                 "Which kinds of partner are you working with, or hoping to?")
                + " Tap or type all that apply, then Done.", _toggle_markup(draft, PARTNERS))
    if state == STORY:
        return (("In a few sentences: what have you been through that others could learn from?" if mentor else
                 "In a few sentences: what do you need help with?") + f" (up to {MAX_STORY_CHARS} characters)",
                _markup([]))
    assert state == CAPACITY and not first
    return ("How many mentees could you support at the same time? Tap or type 1 to 5.",
            _markup([[(str(n), cb.make(P_CAPACITY, n)) for n in range(1, 6)]]))


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, state: int, prefix: str = "") -> int:
    """Send the question for ``state`` and make it the form's state."""
    draft = _draft(context)
    draft["state"] = state
    text, markup = _question(update, draft, state)
    if context.user_data is not None and context.user_data.get(EDITING):
        markup = InlineKeyboardMarkup([*markup.inline_keyboard[:-1], nav_row(back=False)])
    await say(update, context, prefix + text, markup)
    return state


async def _next(update: Update, context: ContextTypes.DEFAULT_TYPE, after: int) -> int:
    """After an answer: the next question, or save (at the end, or straight away when editing one field)."""
    assert context.user_data is not None
    draft = _draft(context)
    state = None if context.user_data.get(EDITING) else _missing(draft, after)
    if state is None:
        state = _missing(draft) if not context.user_data.get(EDITING) else None
    if state is not None:
        return await ask(update, context, state)
    return await _save(update, context)


async def _again(update: Update, context: ContextTypes.DEFAULT_TYPE, note: str = "") -> int:
    """Ask the current step again (after an answered question, a typo, an old button)."""
    state = int(_draft(context).get("state", NAME))
    return await ask(update, context, state, note)


# -- starting ----------------------------------------------------------------------------------------
async def start_profile(update: Update, context: ContextTypes.DEFAULT_TYPE, role: str,
                        others: dict[str, MentoringProfile]) -> int:
    """Begin (or pick up) a profile in ``role``; details already given in the other role (``others``: the
    person's stored profiles, read by the command in its transaction) are reused."""
    assert context.user_data is not None
    draft = context.user_data.get(DRAFT) or {}
    editing = context.user_data.pop(EDITING, None)
    if draft.get("role") == role and not editing and _missing(draft) is None:
        # Every question was answered but saving failed ("your answers are kept"): save them now.
        await say(update, context, "Welcome back: I'll save the answers you gave.")
        return await _save(update, context)
    if draft.get("role") == role and not editing and _missing(draft) is not None:
        state = draft.get("state")
        state = state if isinstance(state, int) and state in _steps(draft) else _missing(draft)
        assert state is not None
        return await ask(update, context, state, "Welcome back: let's carry on where you left off.\n")
    draft = {"role": role, "topics": [], "stages": [], "partner_types": []}
    other = others.get(lists.MENTEE if role == lists.MENTOR else lists.MENTOR)
    if other is not None:
        known = drafts.draft_from_profile(other)
        draft.update({key: known[key] for key in SHARED_FIELDS})
    context.user_data[DRAFT] = draft
    if role == lists.MENTOR:
        intro = ("🤝 <b>Becoming a mentor buddy</b>\nYou'll be matched with people in partnerships who could "
                 "use the experience you have. A few quick questions (about two minutes); /cancel stops.")
    else:
        intro = ("🤝 <b>Finding a mentor buddy</b>\nA few quick questions so I can suggest people who have been "
                 "through something similar (about two minutes); /cancel stops.")
    if other is not None:
        intro += "\nI've used your name, organisation and area from your other profile (change them with /profile)."
    await say(update, context, intro)
    state = _missing(draft)
    assert state is not None
    return await ask(update, context, state)


async def start_edit(update: Update, context: ContextTypes.DEFAULT_TYPE, profile: Any, key: str) -> int:
    """A ✏️ button of /profile: ask just that question about the stored profile."""
    assert context.user_data is not None
    draft = drafts.draft_from_profile(profile)
    draft.update(topics_done=True, stages_done=True, partners_done=True)
    context.user_data[DRAFT] = draft
    context.user_data[EDITING] = key
    return await ask(update, context, FIELD_STATE[key])


# -- typed answers -----------------------------------------------------------------------------------
def _options(choices: tuple[lists.Choice, ...]) -> list[Option]:
    return [Option(c.slug, c.label, tuple(a for a in (c.short, c.brief) if a)) for c in choices]


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Text at any step: the answer to it, a question to answer first, or a friendly "didn't catch that"."""
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    draft = _draft(context)
    state = int(draft.get("state", NAME))
    if state == CONFIRM:
        decided = parse_yes_no(text)
        if decided is None:
            return await _ask_confirm(update, context, draft)
        return await _confirmed(update, context, decided)
    if state == TOWN and normalise(text) in {"skip", "none", "no", "n a", "-", "rather not say"}:
        return await _apply(update, context, TOWN, ("skip", ""))
    if state in TEXT_FIELDS:
        if reads_as_question(text):
            if await answered_as_question(update, context, text):
                return await _again(update, context, "Back to your profile: ")
            draft["pending"] = text
            return await _ask_confirm(update, context, draft)
        return await _store_text(update, context, state, text)
    reading = _read_button_answer(draft, state, text)
    if reading is not None:
        return await _apply(update, context, state, reading)
    if await answered_as_question(update, context, text):
        return await _again(update, context, "Back to your profile: ")
    hint = _did_you_mean(draft, state, text)
    return await _again(update, context, f"I didn't catch “{escape(cleaning.clean_line(text, 60))}” as one of the "
                                         f"choices{hint}: tap a button, or type one of them.\n")


def _did_you_mean(draft: dict[str, Any], state: int, text: str) -> str:
    """" (did you mean North East or North West?)" when a typed answer is close to more than one choice."""
    choices = {ORG_TYPE: lists.ORG_TYPES, REGION: lists.REGIONS, TOPICS: lists.TOPICS, STAGE: lists.STAGES,
               PARTNERS: lists.ORG_TYPES}.get(state)
    if choices is None:
        return ""
    labels = [escape(o.label) for o in choose(text, _options(choices)).candidates[:3]]
    if len(labels) < 2:
        return ""
    return f" (did you mean {', '.join(labels[:-1])} or {labels[-1]}?)"


async def _ask_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any]) -> int:
    field_state = int(draft.get("asked_for", draft.get("state", NAME)))
    if draft.get("state") != CONFIRM:
        draft["asked_for"] = field_state
    draft["state"] = CONFIRM
    label = TEXT_FIELDS[field_state][1]
    pending = escape(cleaning.clean_line(draft.get("pending", ""), 200))
    await say(update, context, f"“{pending}” reads like a question. Shall I save it as your {label}?",
              InlineKeyboardMarkup([[InlineKeyboardButton("Yes, save it", callback_data=cb.make(P_USE, 1)),
                                     InlineKeyboardButton("No, I'll type it again",
                                                          callback_data=cb.make(P_USE, 0))]]))
    return CONFIRM


async def _confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE, use: bool) -> int:
    draft = _draft(context)
    field_state = int(draft.pop("asked_for", NAME))
    pending = draft.pop("pending", "")
    draft["state"] = field_state
    if use and pending:
        return await _store_text(update, context, field_state, pending)
    return await ask(update, context, field_state)


async def on_confirm_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await drop_buttons(query)
    return await _confirmed(update, context, cb.parse(query.data).int_arg(0) == 1)


async def _store_text(update: Update, context: ContextTypes.DEFAULT_TYPE, state: int, text: str) -> int:
    draft = _draft(context)
    if state == STORY:
        story = cleaning.clean_story(text)
        if not story:
            return await _again(update, context, "Please type a few sentences.\n")
        if len(story) > MAX_STORY_CHARS:
            await say(update, context, f"That's {len(story)} characters; please shorten it to {MAX_STORY_CHARS}. "
                                       f"Here it is to copy and trim:\n<blockquote>{escape(story[:3000])}</blockquote>")
            return STORY
        draft["story"] = story
    else:
        value = cleaning.clean_line(text, 100_000)
        if not value:
            return await _again(update, context, "Please type a few words.\n")
        if len(value) > MAX_NAME_CHARS:
            return await _again(update, context, f"That's {len(value)} characters; please keep it to "
                                                 f"{MAX_NAME_CHARS}.\n")
        draft[TEXT_FIELDS[state][0]] = value
    return await _next(update, context, state)


def _read_button_answer(draft: dict[str, Any], state: int, text: str) -> tuple[str, str] | None:
    """A typed answer at a button step, as (action, value) like a tap; None when it is not one."""
    word = normalise(text)
    toggles = {TOPICS: lists.TOPICS, PARTNERS: lists.ORG_TYPES, STAGE: lists.STAGES}
    if state in toggles and (state != STAGE or _is_mentor(draft)) and word in DONE_WORDS:
        return ("done", "")
    if state == NAME:
        return ("default", "") if parse_yes_no(text) else None
    if state == TOWN:
        return None
    if state == CAPACITY:
        number = parse_number(text, drafts.MIN_CAPACITY, drafts.MAX_CAPACITY)
        return ("pick", str(number)) if number is not None else None
    if state == REGION:
        reading = read_region(text, _options(lists.REGIONS))
    else:
        choices = {ORG_TYPE: lists.ORG_TYPES, TOPICS: lists.TOPICS, STAGE: lists.STAGES, PARTNERS: lists.ORG_TYPES}
        reading = choose(text, _options(choices[state]))
    if reading.value is None:
        return None
    kind = "toggle" if state in (TOPICS, PARTNERS) or (state == STAGE and _is_mentor(draft)) else "pick"
    return (kind, reading.value)


async def _apply(update: Update, context: ContextTypes.DEFAULT_TYPE, state: int, answer: tuple[str, str]) -> int:
    """One answer (typed or tapped) to a button step."""
    kind, value = answer
    draft = _draft(context)
    if state == NAME:
        _, _, first_name = user_of(update)
        draft["display_name"] = cleaning.clean_line(first_name) or "Mentoring member"
        return await _next(update, context, state)
    if state == TOWN:
        draft["town"] = None
        return await _next(update, context, state)
    keys = {ORG_TYPE: "org_type", REGION: "region", TOPICS: "topics", STAGE: "stages", PARTNERS: "partner_types",
            CAPACITY: "capacity"}
    key = keys[state]
    choices = {ORG_TYPE: lists.ORG_TYPES, REGION: lists.REGIONS, TOPICS: lists.TOPICS, STAGE: lists.STAGES,
               PARTNERS: lists.ORG_TYPES}
    if kind == "done":
        if state == TOPICS and not draft.get("topics"):
            return await _again(update, context, "Please choose at least one topic.\n")
        draft[{TOPICS: "topics_done", STAGE: "stages_done", PARTNERS: "partners_done"}[state]] = True
        if update.callback_query is not None:
            await edit(update, f"✔️ {chip(choices[state], draft.get(key) or [])}")
        return await _next(update, context, state)
    if kind == "toggle":
        chosen: list[str] = list(draft.get(key) or [])
        chosen = [s for s in chosen if s != value] if value in chosen else [*chosen, value]
        draft[key] = chosen
        if update.callback_query is not None:
            with contextlib.suppress(BadRequest):
                await update.callback_query.edit_message_reply_markup(_toggle_markup(draft, state))
            return state
        label = lists.label(choices[state], value)
        verb = "Added" if value in chosen else "Taken off"
        await say(update, context, f"{verb}: {escape(label)}. Chosen so far: {chip(choices[state], chosen)}. "
                                   "Tap or type more, then Done.", _toggle_markup(draft, state))
        return state
    if state == CAPACITY:
        draft["capacity"] = int(value)
        shown = f"{value} at a time"
    elif state == STAGE:
        draft.update(stages=[value], stages_done=True)
        shown = lists.label(lists.STAGES, value)
    else:
        draft[key] = value
        shown = lists.label(choices[state], value)
    if update.callback_query is not None:
        await edit(update, f"✔️ {escape(shown)}")
    return await _next(update, context, state)


# -- tapped answers ----------------------------------------------------------------------------------
def _tap(state: int, kind: str) -> Any:
    async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None
        draft = _draft(context)
        if draft.get("state") != state:  # a button of another step of this form
            await query.answer("That question is done: please answer the one below.", show_alert=True)
            return int(draft.get("state", state))
        value = cb.parse(query.data).args[0] if cb.parse(query.data).args else ""
        if kind in ("pick", "toggle"):
            valid = {ORG_TYPE: lists.ORG_TYPE_BY_SLUG, REGION: lists.REGION_BY_SLUG, TOPICS: lists.TOPIC_BY_SLUG,
                     STAGE: lists.STAGE_BY_SLUG, PARTNERS: lists.ORG_TYPE_BY_SLUG}.get(state)
            if state == CAPACITY:
                number = parse_number(value, drafts.MIN_CAPACITY, drafts.MAX_CAPACITY)
                if number is None:
                    await query.answer("Please choose 1 to 5.")
                    return state
            elif valid is None or value not in valid:
                await query.answer("Please choose from the list.")
                return state
        await query.answer()
        effective = "toggle" if kind == "pick" and state == STAGE and _is_mentor(draft) else kind
        return await _apply(update, context, state, (effective, value))
    return on_tap


async def on_back(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """⬅️ Back: the previous question (its answer is kept until changed); when editing, stop editing."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    await query.answer()
    await drop_buttons(query)
    draft = _draft(context)
    if context.user_data.get(EDITING):
        context.user_data.pop(EDITING, None)
        context.user_data.pop(DRAFT, None)
        await say(update, context, "OK, your profile is unchanged. Send /profile to see it.")
        return END
    state = int(draft.get("asked_for", draft.get("state", NAME)))
    draft.pop("asked_for", None)
    draft.pop("pending", None)
    steps = _steps(draft)
    earlier = [s for s in steps if s < state]
    return await ask(update, context, earlier[-1] if earlier else steps[0])


async def on_cancelled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel or Cancel: forget the draft (the stored profile, if any, is unchanged)."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
        context.user_data.pop(EDITING, None)


# -- saving ------------------------------------------------------------------------------------------
async def _save(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Validate and store the draft. On a database failure the answers are kept for the next try."""
    assert context.user_data is not None
    svc = services(context)
    user_id, username, first_name = user_of(update)
    draft = _draft(context)
    home = None
    try:
        async with svc.database.transaction() as session:  # the profile and the mentee's place: one unit
            profile, created = await profiles.save_profile(
                session=session, telegram_id=user_id, username=username, first_name=first_name,
                draft=drafts.validate_draft(draft), now=svc.clock())
            if profile.role != lists.MENTOR:
                home = await mentee_status(session=session, telegram_id=user_id, now=svc.clock())
    except drafts.ProfileError as exc:
        context.user_data.pop(EDITING, None)
        state = _missing(draft)
        return await ask(update, context, state if state is not None else NAME, escape(str(exc)) + "\n")
    except SQLAlchemyError:
        # Not the storage guard: this reply is better, it says the answers so far are kept for the next try.
        if context.user_data.get(EDITING):
            await say(update, context, "Sorry, I couldn't save that change just now. Please try again in a minute "
                                       "from /profile.")
            return END
        command = "/mentor_offer" if _is_mentor(draft) else "/mentor"
        await say(update, context, "Sorry, I couldn't save your profile just now. Your answers are kept: send "
                                   f"{command} in a minute and I'll finish.")
        return END
    context.user_data.pop(DRAFT, None)
    context.user_data.pop(EDITING, None)
    if profile.role == lists.MENTOR:
        await say(update, context, ("✅ Thank you, you're now a mentor buddy! " if created else "✅ Saved. ")
                  + "I'll message you when someone asks for you. See or change your details with /profile; "
                    "you can pause new requests at any time.")
        await tell_waiting(context)
    else:
        await say(update, context, "✅ Saved." + (" Let's find you a buddy." if created else ""))
        assert home is not None
        await show_mentee_home(context, user_id, home)
    return END


def states() -> dict[object, list[Any]]:
    """Each step's handlers: its own buttons, Back, and typed text (private chats only)."""
    text = MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text)
    back = back_handler(on_back)
    own: dict[int, list[tuple[str, str]]] = {
        NAME: [(P_NAME, "default")], ORG: [], ORG_TYPE: [(P_TYPE, "pick")], REGION: [(P_REGION, "pick")],
        TOWN: [(P_TOWN, "skip")], TOPICS: [(P_TOPIC, "toggle"), (P_TOPICS_DONE, "done")],
        STAGE: [(P_STAGE, "pick"), (P_STAGES_DONE, "done")], PARTNERS: [(P_PARTNER, "toggle"),
                                                                         (P_PARTNERS_DONE, "done")],
        STORY: [], CAPACITY: [(P_CAPACITY, "pick")]}
    result: dict[object, list[Any]] = {
        state: [*(CallbackQueryHandler(_tap(state, kind), pattern=cb.pattern(action)) for action, kind in buttons),
                back, text]
        for state, buttons in own.items()}
    result[CONFIRM] = [CallbackQueryHandler(on_confirm_button, pattern=cb.pattern(P_USE)), back, text]
    return result


def in_form_stale_button() -> CallbackQueryHandler:  # type: ignore[type-arg]
    """Inside the form, a button of another step: a note, and the current step stays."""
    async def on_other_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer("That question is done: please answer the one below.",
                                               show_alert=True)
    return CallbackQueryHandler(on_other_step, pattern=IN_FORM)


def form(entry_points: list[Any]) -> Form:
    """The profile form; ``entry_points`` are /mentor, /mentor_offer and the ✏️ buttons of /profile."""
    return Form(name="mentoring-profile", title="profile questions", resume="/mentor or /mentor_offer",
                entry_points=entry_points, states=states(), fallbacks=[in_form_stale_button()],
                on_cancel=on_cancelled)
