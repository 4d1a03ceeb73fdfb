"""Review nudges in chat: /partnership (set up or change a schedule), /partnerships (pause, resume,
stop), the nudge itself (answer, answer privately, snooze, skip), the check-in questions, the summary
with tips, /reviews (history and chart) and /reviews_csv. The rules are in :mod:`bot.reviews`.

In a group only the group's administrators (asked of Telegram with getChatMember, never assumed) may
set up, change, pause, stop, snooze or skip; every member answers for themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError
from telegram import (
    BotCommand,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import callbacks as cb
from bot import reviews
from bot.answers import short
from bot.messages import send_html
from bot.reviews import (
    COMMENT_STEP,
    QUESTIONS,
    Claimed,
    NotAllowed,
    NudgeClosed,
    Outcome,
    ReviewInputError,
    Schedule,
    Summary,
)
from bot.services import services
from knowledge.render import escape

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("partnership", "Set up regular review check-ins for a partnership"),
    BotCommand("partnerships", "Your partnerships' check-ins: change, pause, stop"),
    BotCommand("reviews", "Check-in history and chart"),
    BotCommand("reviews_csv", "Check-in history as a spreadsheet (CSV)"),
]

# Callback actions (all start with "r": see bot/callbacks.py for the others).
SETUP = "rs"      # rs:<field>[:<value>] inside the set-up conversation
CHANGE = "rc"     # rc:<partnership id>
MANAGE = "rp"     # rp:<partnership id>:<pause|resume|stop|stopok|keep>
NUDGE = "rn"      # rn:<occurrence id>:<go|dm|s1|s7|sk>
ANSWER = "ra"     # ra:<answer id>:<question index>:<value>
NOTHING = "rz"    # rz:<answer id>  ("nothing to raise")
HISTORY = "rh"    # rh:<partnership id>
CSV = "rv"        # rv:<partnership id>

#: The handler group of the text capture: after the rate limiter (-10) and the other features' early
#: handlers (-9 to -5), before the ordinary handlers (0) so a typed set-up answer is never a question.
REVIEW_GROUP = -3
SETUP_KEY = "review_setup"
COMMENT_KEY = "review_comment"
SETUP_TIMEOUT = timedelta(minutes=30)
COMMENT_TIMEOUT = timedelta(hours=6)  # after that, text is a question again
DISPATCH_JOB = "review-dispatch"
MAX_LISTED = 30
COMMON_TIMES = ("08:00", "09:00", "10:00", "12:00", "14:00", "16:00")

TRY_AGAIN = "Sorry, I couldn't do that just now. Please try again in a minute."
ADMINS_ONLY = "Only this group's admins can set up or change review check-ins."
NOT_HERE = "That button isn't for this chat, or the partnership no longer exists."
STAGE_HINTS = {
    "forming": "shared cause and early enthusiasm, commitments still unclear",
    "frustration": "“in a fog”, disputes over priorities, hidden agendas",
    "functioning": "clear roles, joint work, we say “we” not “you”",
    "flying": "goals being met, shared leadership, trust",
    "failing": "disengagement, recurring tensions",
}


# -- small helpers ----------------------------------------------------------------------------------
def _button(label: str, *data: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=cb.make(*data))  # type: ignore[arg-type]


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(rows)


async def is_admin(context: ContextTypes.DEFAULT_TYPE, chat: Chat, user_id: int,
                   message: Message | None = None) -> bool:
    """True in a private chat; in a group, only when Telegram says the person is an administrator."""
    if chat.type == ChatType.PRIVATE:
        return True
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous administrator posting as the group
    try:
        member = await context.bot.get_chat_member(chat.id, user_id)
    except TelegramError as exc:
        log.info("Could not check admin rights in a group: %s", type(exc).__name__)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def _alert(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text[:190], show_alert=True)


async def _drop_buttons(update: Update) -> None:
    """Remove the buttons of the message just tapped, so an old step is not tapped again."""
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)


# -- the set-up conversation ------------------------------------------------------------------------
# The steps are kept in ``context.user_data`` (persisted in the database, so a restart mid-way loses
# nothing) and each step is recorded *before* the bot awaits anything: updates are handled concurrently
# (bot.app), so a quick second tap or message must already see the new step, never the old one.
STEP_NAME, STEP_PARTNERS, STEP_CADENCE, STEP_DAY, STEP_TIME, STEP_ZONE, STEP_START, STEP_CONFIRM, STEP_SAVING = (
    "name", "partners", "cadence", "day", "time", "zone", "start", "confirm", "saving")
#: Which button (rs:<field>) belongs to which step; anything else is an old or forged button.
BUTTON_STEPS = {"p": STEP_PARTNERS, "c": STEP_CADENCE, "w": STEP_DAY, "d": STEP_DAY, "t": STEP_TIME,
                "z": STEP_ZONE, "s": STEP_START, "ok": STEP_CONFIRM}


@dataclass(frozen=True)
class Prompt:
    """The next set-up question: text, buttons, and whether a typed answer is expected."""

    text: str
    rows: list[list[InlineKeyboardButton]] = field(default_factory=list)
    typed: bool = False


def _draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> dict[str, Any] | None:
    if context.user_data is None:
        return None
    return context.user_data.get(SETUP_KEY, {}).get(str(chat_id))


def _new_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int, **values: Any) -> dict[str, Any]:
    assert context.user_data is not None
    draft = {"touched": services(context).clock().isoformat(), **values}
    context.user_data.setdefault(SETUP_KEY, {})[str(chat_id)] = draft
    return draft


def _clear_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    if context.user_data is not None:
        drafts = context.user_data.get(SETUP_KEY, {})
        drafts.pop(str(chat_id), None)
        if not drafts:
            context.user_data.pop(SETUP_KEY, None)


def _live_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> dict[str, Any] | None:
    """The person's set-up in this chat, unless it was abandoned (then it is forgotten)."""
    draft = _draft(context, chat_id)
    if draft is None:
        return None
    try:
        touched = datetime.fromisoformat(draft["touched"])
    except (KeyError, ValueError):
        touched = None
    if touched is None or services(context).clock() - touched > SETUP_TIMEOUT:
        _clear_draft(context, chat_id)
        return None
    return draft


async def _send_prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, prompt: Prompt) -> None:
    """Ask the next question. In a group a typed answer is asked for as a reply: a bot in privacy mode
    sees only replies (and commands) there."""
    chat = update.effective_chat
    assert chat is not None
    text = prompt.text
    if prompt.typed and chat.type != ChatType.PRIVATE:
        text += "\n<i>Reply to this message with your answer.</i>"
    await send_html(context, chat.id, text, _markup([*prompt.rows, [_button("✖️ Cancel", SETUP, "x")]]))


def _cadence_prompt() -> Prompt:
    return Prompt("<b>How often should I nudge you?</b>",
                  [[_button("Weekly", SETUP, "c", "weekly"), _button("Fortnightly", SETUP, "c", "fortnightly")],
                   [_button("Monthly", SETUP, "c", "monthly"), _button("Quarterly", SETUP, "c", "quarterly")]])


def _apply(context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], field_name: str, value: str) -> Prompt:
    """Take one answer (typed or tapped) and move the draft to its next step; synchronous on purpose.

    Raises ReviewInputError with the friendly reason when the answer cannot be used (the step stays).
    """
    svc = services(context)
    draft["touched"] = svc.clock().isoformat()
    if field_name == STEP_NAME:
        draft["name"] = reviews.parse_name(value)
        draft["step"] = STEP_PARTNERS
        return Prompt("<b>Which organisations are in the partnership?</b> Type their names separated by commas, "
                      "or tap Skip.", [[_button("Skip", SETUP, "p")]], typed=True)
    if field_name == STEP_PARTNERS:
        draft["partners"] = ", ".join(reviews.parse_partners(value))
        draft["step"] = STEP_CADENCE
        return _cadence_prompt()
    if field_name == STEP_CADENCE:
        cadence = reviews.parse_cadence(value)
        draft["cadence"], draft["step"] = cadence, STEP_DAY
        if cadence in ("weekly", "fortnightly"):
            days = [_button(name[:3], SETUP, "w", index) for index, name in enumerate(reviews.WEEKDAY_NAMES)]
            return Prompt("<b>On which day of the week?</b>", [days[:4], days[4:]], typed=True)
        return Prompt("<b>On which day of the month?</b> Tap one or type a day from 1 to 28.",
                      [[_button(str(d), SETUP, "d", d) for d in (1, 7, 14, 21, 28)],
                       [_button("Last day of the month", SETUP, "d", "last")]], typed=True)
    if field_name == STEP_DAY:
        if draft.get("cadence") in ("weekly", "fortnightly"):
            weekday = int(value) if value.isdigit() and int(value) < 7 else reviews.parse_weekday(value)
            draft["weekday"], draft["day"] = weekday, None
        else:
            draft["day"], draft["weekday"] = reviews.parse_day(value), None
        draft["step"] = STEP_TIME
        times = [_button(t, SETUP, "t", t.replace(":", "")) for t in COMMON_TIMES]
        return Prompt("<b>At what time?</b> Tap one or type a time like 09:30 (24-hour clock).",
                      [times[:3], times[3:]], typed=True)
    if field_name == STEP_TIME:
        if re.fullmatch(r"\d{4}", value):  # a button: 0930
            value = f"{value[:2]}:{value[2:]}"
        draft["time"], draft["step"] = f"{reviews.parse_time(value):%H:%M}", STEP_ZONE
        zone = draft.get("tz") or svc.settings.default_timezone
        return Prompt(f"<b>Which time zone?</b> Tap to keep <b>{escape(zone)}</b>, or type another (for example "
                      "Europe/Dublin or Australia/Sydney).", [[_button(f"✅ {zone}", SETUP, "z")]], typed=True)
    if field_name == STEP_ZONE:
        draft["tz"] = reviews.parse_timezone(value or draft.get("tz") or svc.settings.default_timezone)
        draft["step"] = STEP_START
        return Prompt("<b>When should the first check-in be?</b> Tap one or type a date as YYYY-MM-DD.",
                      [[_button("As soon as possible", SETUP, "s", "0")],
                       [_button("Next week", SETUP, "s", "7"), _button("Next month", SETUP, "s", "m")]], typed=True)
    if field_name == STEP_START:
        today = svc.clock().astimezone(reviews.ZoneInfo(draft["tz"])).date()
        if value in ("0", "7"):
            start = today + timedelta(days=int(value))
        elif value == "m":
            start = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            start = reviews.parse_date(value, not_before=today)
        draft["start"] = start.isoformat()
        schedule = _draft_schedule(draft)
        draft["step"] = STEP_CONFIRM
        upcoming = reviews.next_occurrences(schedule, svc.clock(), 3)
        when = "\n".join(f"• {reviews.format_local(o.local)}" for o in upcoming)
        partners = f"\nPartners: {escape(draft['partners'])}" if draft.get("partners") else ""
        return Prompt(f"<b>{escape(draft.get('name', ''))}</b>{partners}\n"
                      f"Check-ins {escape(reviews.describe_schedule(schedule))}.\nThe next ones:\n{when}\n\n"
                      "Shall I save this?", [[_button("✅ Save", SETUP, "ok")]])
    raise ReviewInputError("Please tap ✅ Save or ✖️ Cancel above.")


def _draft_schedule(draft: dict[str, Any]) -> Schedule:
    try:
        return Schedule(cadence=draft["cadence"], local_time=time.fromisoformat(draft["time"]), timezone=draft["tz"],
                        start=date.fromisoformat(draft["start"]), weekday=draft.get("weekday"),
                        day=draft.get("day"))
    except (KeyError, ValueError, TypeError):
        raise ReviewInputError("Something is missing from this set-up: please send /partnership again.") from None


async def _advance(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], field_name: str,
                   value: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    try:
        prompt = _apply(context, draft, field_name, value)
    except ReviewInputError as exc:
        await send_html(context, chat.id, escape(str(exc)))
        return
    await _send_prompt(update, context, prompt)


async def setup_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/partnership: in a group only for administrators (asked of Telegram)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if not await is_admin(context, chat, user.id, update.effective_message):
        await send_html(context, chat.id, ADMINS_ONLY + " Ask an admin to send /partnership.")
        return
    _new_draft(context, chat.id, mode="new", step=STEP_NAME, tz=services(context).settings.default_timezone)
    where = "this group" if chat.type != ChatType.PRIVATE else "this chat"
    await _send_prompt(update, context, Prompt(
        "Let's set up regular check-ins, so the partnership reviews itself often, not just at the end of the year. "
        f"I'll send the nudges to {where}.\n\n<b>What's the partnership called?</b>", typed=True))


async def change_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "Change" button of /partnerships: the schedule is asked again; the name and partners stay."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return
    partnership_id = cb.parse(query.data).int_arg(0)
    if not await is_admin(context, chat, user.id):
        await _alert(update, ADMINS_ONLY)
        return
    try:
        partnership = None if partnership_id is None else await reviews.get_partnership(
            services(context).database, partnership_id, chat_id=chat.id)
    except SQLAlchemyError:
        await _alert(update, TRY_AGAIN)
        return
    if partnership is None or partnership.status == "stopped":
        await _alert(update, NOT_HERE)
        return
    _new_draft(context, chat.id, mode="change", step=STEP_CADENCE, pid=partnership.id, name=partnership.name,
               partners=partnership.partners, tz=partnership.timezone)
    await query.answer()
    prompt = _cadence_prompt()
    intro = (f"Changing the schedule of <b>{escape(partnership.name)}</b> "
             f"(now {escape(reviews.describe_schedule(Schedule.of(partnership)))}).\n")
    await _send_prompt(update, context, Prompt(intro + prompt.text, prompt.rows))


async def on_setup_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    data = cb.parse(query.data)
    field_code = data.args[0] if data.args else ""
    value = data.args[1] if len(data.args) > 1 else ""
    draft = _live_draft(context, chat.id)
    if draft is not None and field_code == "x":
        _clear_draft(context, chat.id)
        await query.answer()
        await _drop_buttons(update)
        await send_html(context, chat.id, "OK, cancelled: nothing was changed.")
        return
    if draft is None or BUTTON_STEPS.get(field_code) != draft.get("step"):
        await _alert(update, "That step is finished, or the set-up belongs to someone else. "
                             "Send /partnership to start one.")
        return
    if field_code == "ok":
        await _save(update, context, draft)
        return
    step = draft["step"]
    await query.answer()
    await _drop_buttons(update)
    await _advance(update, context, draft, step, "" if field_code in ("p", "z") else value)


async def _save(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any]) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and user is not None
    draft["step"] = STEP_SAVING  # before any await: a double tap finds nothing to save
    svc = services(context)
    if not await is_admin(context, chat, user.id):
        draft["step"] = STEP_CONFIRM
        await _alert(update, ADMINS_ONLY)
        return
    try:
        schedule = _draft_schedule(draft)
        if draft.get("mode") == "change":
            partnership, first = await reviews.change_schedule(svc.database, int(draft["pid"]), chat_id=chat.id,
                                                               schedule=schedule, now=svc.clock())
        else:
            partnership, first = await reviews.create_partnership(
                svc.database, chat_id=chat.id, created_by=user.id, name=draft.get("name", ""),
                partners=[draft.get("partners", "")], schedule=schedule, now=svc.clock())
    except SQLAlchemyError:
        draft["step"] = STEP_CONFIRM
        await _alert(update, TRY_AGAIN + " Your answers are kept: tap Save again.")
        return
    except (ReviewInputError, NotAllowed, KeyError, ValueError):
        _clear_draft(context, chat.id)
        await query.answer()
        await send_html(context, chat.id, "Sorry, I lost track of that set-up. Please send /partnership again.")
        return
    _clear_draft(context, chat.id)
    await query.answer("Saved")
    await _drop_buttons(update)
    paused = " It is paused: resume it from /partnerships." if partnership.status == "paused" else ""
    await send_html(context, chat.id,
                    f"✅ Saved. <b>{escape(partnership.name)}</b>: check-ins "
                    f"{escape(reviews.describe_schedule(schedule))}.\nFirst one: "
                    f"<b>{reviews.format_local(first.local)}</b>.{paused}\n"
                    "Change, pause or stop it any time with /partnerships.")


async def on_text_capture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before the question handlers (REVIEW_GROUP): a typed set-up answer or the "anything to raise?"
    comment is taken here and goes no further; any other text is left alone."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None or message.text is None:
        return
    if message.text.startswith("/"):
        if message.text.split()[0].split("@")[0].lower() == "/cancel" and _has_review_flow(context, chat.id):
            _clear_draft(context, chat.id)
            if context.user_data is not None:
                context.user_data.pop(COMMENT_KEY, None)
            await send_html(context, chat.id, "OK, cancelled: nothing was changed.")
        return
    if chat.type != ChatType.PRIVATE and not _replies_to_bot(message, context):
        return  # in a group only a reply to the bot's question is an answer; the rest is the group talking
    draft = _live_draft(context, chat.id)
    if draft is not None and draft.get("step") in (STEP_NAME, STEP_PARTNERS, STEP_CADENCE, STEP_DAY, STEP_TIME,
                                                   STEP_ZONE, STEP_START, STEP_CONFIRM):
        await _advance(update, context, draft, draft["step"], message.text)
        raise ApplicationHandlerStop
    await on_comment_text(update, context)


def _replies_to_bot(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id


def _has_review_flow(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> bool:
    pending = context.user_data.get(COMMENT_KEY) if context.user_data is not None else None
    return _draft(context, chat_id) is not None or bool(pending and pending.get("chat") == chat_id)


# -- /partnerships: change, pause, resume, stop --------------------------------------------------------
def _partnership_line(number: int, view: reviews.PartnershipView) -> str:
    p = view.partnership
    line = f"{number}. <b>{escape(p.name)}</b>: {escape(reviews.describe_schedule(view.schedule))}."
    if p.partners:
        line += f"\n   Partners: {escape(short(p.partners, 200))}"
    if p.status == "paused":
        reason = f" ({escape(p.paused_reason)})" if p.paused_reason else ""
        line += f"\n   ⏸ Paused{reason}."
    elif view.next_local is not None:
        line += f"\n   Next: {reviews.format_local(view.next_local)}"
    return line


async def list_partnerships(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    try:
        views = await reviews.list_partnerships(services(context).database, chat_id=chat.id)
    except SQLAlchemyError:
        await send_html(context, chat.id, TRY_AGAIN)
        return
    if not views:
        await send_html(context, chat.id, "There are no partnership check-ins here yet. Send /partnership to "
                                          "set one up.")
        return
    more = len(views) - MAX_LISTED
    views = views[:MAX_LISTED]  # Telegram allows 100 buttons under a message: three per partnership
    rows: list[list[InlineKeyboardButton]] = []
    for number, view in enumerate(views, start=1):
        pid = view.partnership.id
        toggle = (_button(f"▶️ Resume {number}", MANAGE, pid, "resume") if view.partnership.status == "paused"
                  else _button(f"⏸ Pause {number}", MANAGE, pid, "pause"))
        rows.append([_button(f"✏️ Change {number}", CHANGE, pid), toggle,
                     _button(f"⏹ Stop {number}", MANAGE, pid, "stop")])
    text = "<b>Partnership check-ins here</b>\n" + "\n".join(_partnership_line(n, v) for n, v in
                                                             enumerate(views, start=1))
    if more > 0:
        text += f"\n<i>…and {more} more: stop the ones you no longer need, or see `partnerbot reviews list`.</i>"
    await send_html(context, chat.id, text, _markup(rows))


async def on_manage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return
    data = cb.parse(query.data)
    partnership_id, action = data.int_arg(0), data.args[1] if len(data.args) > 1 else ""
    if not await is_admin(context, chat, user.id):
        await _alert(update, ADMINS_ONLY)
        return
    svc = services(context)
    try:
        partnership = None if partnership_id is None else await reviews.get_partnership(
            svc.database, partnership_id, chat_id=chat.id)
        if partnership is None or partnership.status == "stopped":
            await _alert(update, NOT_HERE)
            return
        name = escape(partnership.name)
        if action == "stop":
            await query.answer()
            await send_html(context, chat.id, f"Stop the check-ins for <b>{name}</b>? The history stays in /reviews.",
                            _markup([[_button("Yes, stop them", MANAGE, partnership_id, "stopok"),
                                      _button("No, keep them", MANAGE, partnership_id, "keep")]]))
            return
        if action == "keep":
            await query.answer("Kept.")
            await _drop_buttons(update)
            return
        if action == "pause":
            await reviews.pause(svc.database, partnership.id or 0, chat_id=chat.id, now=svc.clock())
            text = f"⏸ Check-ins for <b>{name}</b> are paused. Resume them from /partnerships."
        elif action == "resume":
            _, upcoming = await reviews.resume(svc.database, partnership.id or 0, chat_id=chat.id, now=svc.clock())
            text = f"▶️ Check-ins for <b>{name}</b> are back on. Next: {reviews.format_local(upcoming.local)}."
        elif action == "stopok":
            await reviews.stop(svc.database, partnership.id or 0, chat_id=chat.id, now=svc.clock())
            text = f"⏹ Check-ins for <b>{name}</b> are stopped. The history stays in /reviews."
        else:
            await query.answer()
            return
    except SQLAlchemyError:
        await _alert(update, TRY_AGAIN)
        return
    except NotAllowed:
        await _alert(update, NOT_HERE)
        return
    await query.answer()
    await _drop_buttons(update)
    await send_html(context, chat.id, text)


# -- sending the nudges (the job) ------------------------------------------------------------------------
def nudge_text(item: Claimed) -> str:
    lines = [f"🗓 <b>Check-in time: {escape(item.name)}</b>"]
    if item.late:
        lines.append(f"<i>This was due {reviews.format_local(item.slot_local)}, while I was offline: "
                     "sorry it's late.</i>")
    elif item.snoozed:
        lines.append("<i>You snoozed this one: here it is again.</i>")
    lines.append("How is the partnership going? 7 quick questions, about two minutes. Regular reviews catch "
                 "problems early.")
    if item.partners:
        lines.append(f"Partners: {escape(item.partners)}")
    if reviews.is_group_chat(item.chat_id):
        lines.append("<i>Everyone answers for themselves; I'll post a summary when you're done.</i>")
    return "\n".join(lines)


def nudge_markup(item: Claimed) -> InlineKeyboardMarkup:
    oid = item.occurrence_id
    first = [_button("▶️ Answer here", NUDGE, oid, "go"), _button("🔒 Answer privately", NUDGE, oid, "dm")] \
        if reviews.is_group_chat(item.chat_id) else [_button("▶️ Start the check-in", NUDGE, oid, "go")]
    snooze = [_button("⏰ Snooze 1 day", NUDGE, oid, "s1"), _button("⏰ Snooze 1 week", NUDGE, oid, "s7")]
    return _markup([first, snooze, [_button("⏭ Skip this one", NUDGE, oid, "sk")]])


def _never_connected(exc: BaseException) -> bool:
    """True when the request provably never reached Telegram (so sending again cannot duplicate)."""
    return isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def make_sender(bot: Any, now: datetime) -> reviews.Sender:
    """The Telegram side of dispatch: send one nudge and say what happened, for the mark step."""

    async def send(item: Claimed) -> Outcome:
        try:
            message = await bot.send_message(item.chat_id, nudge_text(item), parse_mode=ParseMode.HTML,
                                             reply_markup=nudge_markup(item))
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
                warnings.simplefilter("ignore")
                raw = exc.retry_after
            wait = raw.total_seconds() if isinstance(raw, timedelta) else float(raw)
            return Outcome("retry", retry_at=now + timedelta(seconds=float(wait) + 1), reason="Telegram: too many "
                                                                                              "requests")
        except ChatMigrated as exc:
            return Outcome("migrated", new_chat_id=exc.new_chat_id, reason="the group became a supergroup")
        except Forbidden as exc:
            return Outcome("blocked", reason=f"Telegram refused: {exc.message}"[:200])
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                return Outcome("blocked", reason="Telegram refused: chat not found")
            return Outcome("failed", reason=f"Telegram refused: {exc.message}"[:200])
        except TimedOut as exc:
            if _never_connected(exc):
                return Outcome("retry", retry_at=now + timedelta(minutes=1), reason="could not reach Telegram")
            return Outcome("uncertain", reason="Telegram did not answer in time (the nudge may have arrived)")
        except NetworkError as exc:
            if _never_connected(exc):
                return Outcome("retry", retry_at=now + timedelta(minutes=1), reason="could not reach Telegram")
            return Outcome("uncertain", reason=f"network error after sending: {exc.message}"[:200])
        return Outcome("sent", message_id=message.message_id)

    return send


def _only_local_chat(application: Application) -> list[int] | None:  # type: ignore[type-arg]
    """In ``partnerbot chat`` (in-process fake API) only the terminal person's nudges are sent, so a
    terminal session never swallows the real bot's nudges from a shared database."""
    return application.bot_data.get("reviews_only_chats")


async def dispatch_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every minute: claim, send and mark due nudges; then close 48-hour-old check-ins with a summary."""
    svc = services(context)
    now = svc.clock()
    try:
        report = await reviews.dispatch_due(svc.database, now, make_sender(context.bot, now),
                                            only_chat_ids=_only_local_chat(context.application))
        summaries = await reviews.close_expired_checkins(svc.database, now)
    except SQLAlchemyError as exc:
        log.warning("Review nudges skipped this minute: database unavailable (%s)", type(exc).__name__)
        return
    if report.claimed:
        log.info("Review nudges: %d claimed, %d sent (%d late), %d to retry, %d failed, %d uncertain",
                 report.claimed, report.sent, report.late, report.retried, report.failed, report.uncertain)
    for partnership_id in report.paused:
        log.warning("Review partnership %s paused: Telegram refused its nudge", partnership_id)
    for summary in summaries:
        await post_summary(context, summary)


# -- the nudge's buttons ----------------------------------------------------------------------------------
async def on_nudge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return
    data = cb.parse(query.data)
    occurrence_id, action = data.int_arg(0), data.args[1] if len(data.args) > 1 else ""
    if occurrence_id is None:
        await _alert(update, NOT_HERE)
        return
    svc = services(context)
    try:
        if action in ("go", "dm"):
            progress = await reviews.start_answering(svc.database, occurrence_id, chat_id=chat.id, user_id=user.id,
                                                     now=svc.clock())
            target = user.id if action == "dm" else chat.id
            try:
                await _send_step(context, target, progress, user.first_name if target != user.id else None)
            except (Forbidden, BadRequest):
                await _alert(update, "I can't message you privately yet: open a chat with me and tap Start, "
                                     "then tap “Answer privately” again.")
                return
            await query.answer("Sent you the questions privately." if action == "dm" and target != chat.id else None)
            return
        if not await is_admin(context, chat, user.id):
            await _alert(update, "Only this group's admins can snooze or skip a check-in.")
            return
        if action in ("s1", "s7"):
            when = await reviews.snooze(svc.database, occurrence_id, chat_id=chat.id, days=1 if action == "s1" else 7,
                                        now=svc.clock())
            text = f"⏰ Snoozed: I'll nudge you again {reviews.format_local(when)}."
        elif action == "sk":
            following = await reviews.skip(svc.database, occurrence_id, chat_id=chat.id, now=svc.clock())
            text = "⏭ Skipped." + (f" The next check-in is {reviews.format_local(following)}." if following else "")
        else:
            await query.answer()
            return
    except NotAllowed:
        await _alert(update, NOT_HERE)
        return
    except NudgeClosed as exc:
        await _alert(update, str(exc))
        return
    except SQLAlchemyError:
        await _alert(update, TRY_AGAIN)
        return
    await query.answer()
    await _drop_buttons(update)
    await send_html(context, chat.id, text)


def _step_content(progress: reviews.Progress, name: str | None) -> tuple[str, InlineKeyboardMarkup]:
    """The next question (or the comment step); ``name`` is given when it is shown in a group."""
    who = f"For {escape(name)}: " if name else ""
    head = f"<b>{escape(progress.partnership_name)}</b> check-in ({progress.slot_local:%d %b %Y})"
    if progress.step == COMMENT_STEP:
        text = (f"{head}\n{who}<b>Anything to raise with the partners?</b> Type it now (up to "
                f"{reviews.MAX_COMMENT} characters), or tap Nothing to add.")
        if name:
            text += "\n<i>Reply to this message to type it.</i>"
        if reviews.is_group_chat(progress.partnership_chat_id):
            text += "\n<i>It goes in the group's summary without your name.</i>"
        return text, _markup([[_button("Nothing to add", NOTHING, progress.answer_id)]])
    question = QUESTIONS[progress.step]
    text = f"{head}\n{who}Question {progress.step + 1} of {len(QUESTIONS)}\n{question.text}"
    options = reviews.options_for(question)
    buttons = [_button(label, ANSWER, progress.answer_id, progress.step, value) for label, value in options]
    if question.kind == "scale":
        text += "\n<i>1 = not at all, 5 = fully</i>"
        rows = [buttons]
    elif question.kind == "stage":
        text += "\n" + "\n".join(f"• <b>{s.capitalize()}</b>: {escape(h)}" for s, h in STAGE_HINTS.items())
        rows = [buttons[:3], buttons[3:]]
    else:
        rows = [buttons]
    return text, _markup(rows)


async def _send_step(context: ContextTypes.DEFAULT_TYPE, chat_id: int, progress: reviews.Progress,
                     name: str | None) -> None:
    if progress.completed:
        await send_html(context, chat_id, "You've already answered this check-in: thank you!")
        return
    text, markup = _step_content(progress, name)
    if progress.step == COMMENT_STEP:
        _await_comment(context, chat_id, progress.answer_id)
    await send_html(context, chat_id, text, markup)


def _await_comment(context: ContextTypes.DEFAULT_TYPE, chat_id: int, answer_id: int) -> None:
    if context.user_data is not None:
        context.user_data[COMMENT_KEY] = {"answer": answer_id, "chat": chat_id,
                                          "at": services(context).clock().isoformat()}


async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    data = cb.parse(query.data)
    answer_id, step = data.int_arg(0), data.int_arg(1)
    value = data.args[2] if len(data.args) > 2 else ""
    svc = services(context)
    try:
        if answer_id is None or step is None:
            raise NotAllowed
        progress = await reviews.record_score(svc.database, answer_id, user_id=user.id, step=step, value=value)
    except NotAllowed:
        await _alert(update, "These buttons are for someone else's answers. Tap “Answer here” on the nudge to "
                             "answer for yourself.")
        return
    except NudgeClosed as exc:
        await _alert(update, str(exc))
        return
    except SQLAlchemyError:
        await _alert(update, TRY_AGAIN)
        return
    await query.answer()
    chat = update.effective_chat
    name = user.first_name if chat is not None and chat.type != ChatType.PRIVATE else None
    text, markup = _step_content(progress, name)
    if progress.step == COMMENT_STEP and chat is not None:
        _await_comment(context, chat.id, progress.answer_id)
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest:  # the same button twice, or a message too old to edit: send it afresh
        if chat is not None:
            await send_html(context, chat.id, text, markup)


async def _finish(update: Update, context: ContextTypes.DEFAULT_TYPE, answer_id: int, comment: str | None) -> bool:
    """Complete the person's check-in; False when the comment must be shortened first."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    svc = services(context)
    try:
        summary = await reviews.finish_answering(svc.database, answer_id, user_id=user.id, comment=comment,
                                                 now=svc.clock())
    except ReviewInputError as exc:
        await send_html(context, chat.id, f"{escape(str(exc))} Here is what you wrote, to shorten:\n"
                                          f"<blockquote>{escape((comment or '')[:1000])}</blockquote>")
        return False
    except NotAllowed:
        await _alert(update, "These buttons are for someone else's answers.")
        return True
    except NudgeClosed as exc:
        if update.callback_query:
            await _alert(update, str(exc))
        else:
            await send_html(context, chat.id, escape(str(exc)))
        return True
    except SQLAlchemyError:
        await send_html(context, chat.id, TRY_AGAIN + " Your answers so far are saved.")
        return False
    if context.user_data is not None:
        context.user_data.pop(COMMENT_KEY, None)
    if update.callback_query:
        await update.callback_query.answer()
        await _drop_buttons(update)
    if summary is None or summary.chat_id != chat.id:
        note = "" if summary is not None else (" I'll post the summary when everyone who started has answered, "
                                               "or in 48 hours.")
        await send_html(context, chat.id, f"✅ Thanks, your answers are saved.{note}")
    if summary is not None:
        await post_summary(context, summary)
    return True


async def on_nothing_to_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    answer_id = cb.parse(query.data).int_arg(0) if query else None
    if answer_id is None:
        await _alert(update, NOT_HERE)
        return
    await _finish(update, context, answer_id, None)


async def on_comment_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The next text after "anything to raise?" is the comment, and nothing else sees it."""
    chat, message = update.effective_chat, update.effective_message
    pending = context.user_data.get(COMMENT_KEY) if context.user_data is not None else None
    if not pending or chat is None or message is None or message.text is None or pending.get("chat") != chat.id:
        return
    try:
        asked = datetime.fromisoformat(pending["at"])
    except (KeyError, ValueError):
        asked = None
    if asked is None or services(context).clock() - asked > COMMENT_TIMEOUT:
        context.user_data.pop(COMMENT_KEY, None)  # type: ignore[union-attr]
        return
    await _finish(update, context, int(pending["answer"]), message.text)
    raise ApplicationHandlerStop


# -- summaries --------------------------------------------------------------------------------------------
def _score(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def summary_text(summary: Summary, kb: Any) -> tuple[str, list[tuple[str, str]]]:
    """The summary message and its tip buttons (label, entry id)."""
    when = f"{summary.slot_local:%d %b %Y}"
    title = "Updated check-in summary" if summary.updated else "Check-in summary"
    people = f"{summary.respondents} answered" + (f", {summary.partial} partly" if summary.partial else "")
    lines = [f"📋 <b>{title}: {escape(summary.name)}</b> ({when})", f"<i>{people}. Scores out of 5 "
             "(yes = 5, partly = 3, no = 1).</i>", ""]
    for question in QUESTIONS:
        if question.key in summary.averages:
            mark = " ⚠️" if summary.averages[question.key] <= reviews.LOW_SCORE else ""
            lines.append(f"• {question.label}: <b>{_score(summary.averages[question.key])}</b>{mark}")
    if summary.stage:
        lines.append(f"• Stage: <b>{summary.stage}</b>")
    lines.append("")
    if summary.previous_local is None:
        lines.append("<i>This is the first check-in: next time I'll show what changed.</i>")
    else:
        lines.append(f"<b>Since last time</b> ({summary.previous_local:%d %b %Y}):")
        lines.extend(f"• {c.label}: {_score(c.before)} → {_score(c.after)} {c.arrow}" for c in summary.changes)
        if summary.stage_before and summary.stage and summary.stage_before != summary.stage:
            lines.append(f"• Stage: {summary.stage_before} → {summary.stage}")
    if summary.comments:
        lines.extend(["", "<b>Raised</b>:"] + [f"• {escape(c)}" for c in summary.comments])
    buttons: list[tuple[str, str]] = []
    if summary.tips:
        lines.extend(["", "<b>💡 Worth a look</b> for the low scores:"])
        for tip in summary.tips:
            entries = [kb.get(entry_id) for entry_id in tip.entry_ids]
            found = [e for e in entries if e is not None]
            lines.append(f"• {escape(tip.label)}: " + "; ".join(escape(e.question) for e in found))
            buttons.extend((f"💡 {short(e.question, 50)}", e.id) for e in found)
    unique: dict[str, str] = {}
    for label, entry_id in buttons:
        unique.setdefault(entry_id, label)
    return "\n".join(lines), [(label, entry_id) for entry_id, label in unique.items()][:8]


async def post_summary(context: ContextTypes.DEFAULT_TYPE, summary: Summary) -> None:
    text, tips = summary_text(summary, services(context).kb)
    rows = [[InlineKeyboardButton(label, callback_data=cb.make(cb.OPEN_ENTRY, entry))] for label, entry in tips]
    rows.append([_button("📈 History and chart", HISTORY, summary.partnership_id)])
    try:
        await send_html(context, summary.chat_id, text, _markup(rows))
    except (Forbidden, BadRequest) as exc:
        log.warning("Could not post the summary of review %s: %s", summary.occurrence_id, type(exc).__name__)


# -- /reviews and /reviews_csv ---------------------------------------------------------------------------
async def _choose(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str) -> int | None:
    """The chat's only partnership, or None after offering a choice (or saying there is none)."""
    chat = update.effective_chat
    assert chat is not None
    views = await reviews.list_partnerships(services(context).database, chat_id=chat.id, include_stopped=True)
    if not views:
        await send_html(context, chat.id, "There are no partnership check-ins here yet. Send /partnership to "
                                          "set one up.")
        return None
    if len(views) == 1:
        return views[0].partnership.id
    rows = [[_button(short(v.partnership.name, 40), action, v.partnership.id)] for v in views[:20]]
    await send_html(context, chat.id, "Which partnership?", _markup(rows))
    return None


def _history_text(name: str, rows: list[reviews.HistoryRow], upcoming: datetime | None) -> str:
    lines = [f"📈 <b>Check-ins: {escape(name)}</b>"]
    if not rows:
        lines.append("No check-ins yet." + (f" The first is {reviews.format_local(upcoming)}." if upcoming else ""))
        return "\n".join(lines)
    for row in rows[-12:]:
        status = {"sent": "", "uncertain": " (delivery uncertain)", "skipped": " skipped", "failed": " not delivered"
                  }.get(row.status, f" {row.status}")
        late = " late" if row.late else ""
        scores = " · ".join(f"{reviews.QUESTION_BY_KEY[k].label} {_score(v)}" for k, v in row.averages.items())
        answered = f" · {row.respondents} answered" if row.respondents or row.partial else ""
        stage = f" · {row.stage}" if row.stage else ""
        detail = f"\n  {scores}{stage}" if scores else ""
        lines.append(f"• {row.slot_local:%d %b %Y}{status}{late}{answered}{detail}")
    if len(rows) > 12:
        lines.append(f"<i>…and {len(rows) - 12} earlier: /reviews_csv has them all.</i>")
    if upcoming:
        lines.append(f"Next: {reviews.format_local(upcoming)}")
    return "\n".join(lines)


async def _show_history(context: ContextTypes.DEFAULT_TYPE, chat_id: int, partnership_id: int) -> None:
    svc = services(context)
    partnership = await reviews.get_partnership(svc.database, partnership_id, chat_id=chat_id)
    if partnership is None:
        await send_html(context, chat_id, NOT_HERE)
        return
    rows = await reviews.history(svc.database, partnership_id)
    views = await reviews.list_partnerships(svc.database, chat_id=chat_id, include_stopped=True)
    upcoming = next((v.next_local for v in views if v.partnership.id == partnership_id), None)
    await send_html(context, chat_id, _history_text(partnership.name, rows, upcoming))
    points = [(row.slot_local.date(), row.averages) for row in rows if row.averages]
    if points:
        from bot.review_chart import render_chart

        labels = {k: reviews.QUESTION_BY_KEY[k].label for k in reviews.NUMERIC_KEYS}
        png = await asyncio.to_thread(render_chart, partnership.name, points, labels)
        caption = f"Average scores over time: {escape(short(partnership.name, 60))}"
        await context.bot.send_photo(chat_id, png, caption=caption, filename="reviews.png")


async def _send_csv(context: ContextTypes.DEFAULT_TYPE, chat_id: int, partnership_id: int) -> None:
    svc = services(context)
    partnership = await reviews.get_partnership(svc.database, partnership_id, chat_id=chat_id)
    if partnership is None:
        await send_html(context, chat_id, NOT_HERE)
        return
    rows = await reviews.history(svc.database, partnership_id)
    slug = re.sub(r"[^a-z0-9]+", "-", partnership.name.lower()).strip("-")[:40] or "partnership"
    await context.bot.send_document(chat_id, reviews.history_csv(rows), filename=f"reviews-{slug}.csv",
                                    caption=f"Check-ins of {escape(short(partnership.name, 60))}: averages only, "
                                            "no names.")


async def on_reviews(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    try:
        partnership_id = await _choose(update, context, HISTORY)
        if partnership_id is not None:
            await _show_history(context, chat.id, partnership_id)
    except SQLAlchemyError:
        await send_html(context, chat.id, TRY_AGAIN)


async def on_reviews_csv(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    try:
        partnership_id = await _choose(update, context, CSV)
        if partnership_id is not None:
            await _send_csv(context, chat.id, partnership_id)
    except SQLAlchemyError:
        await send_html(context, chat.id, TRY_AGAIN)


async def on_history_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    data = cb.parse(query.data)
    partnership_id = data.int_arg(0)
    try:
        partnership = None if partnership_id is None else await reviews.get_partnership(
            services(context).database, partnership_id, chat_id=chat.id)
        if partnership is None:
            await _alert(update, NOT_HERE)
            return
        await query.answer()
        if data.action == CSV:
            await _send_csv(context, chat.id, partnership_id or 0)
        else:
            await _show_history(context, chat.id, partnership_id or 0)
    except SQLAlchemyError:
        await _alert(update, TRY_AGAIN)


# -- wiring ---------------------------------------------------------------------------------------------
def register(application: Application) -> None:  # type: ignore[type-arg]
    from bot.local_request import LocalRequest

    svc = application.bot_data["services"]
    missing = reviews.missing_tip_entries(svc.kb.get)
    if missing:
        log.error("Review tips name knowledge-base entries that do not exist: %s", ", ".join(missing))
    if isinstance(application.bot.request, LocalRequest):
        from bot.terminal import LOCAL_USER_ID

        application.bot_data["reviews_only_chats"] = [LOCAL_USER_ID]
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
