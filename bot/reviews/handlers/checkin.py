"""The check-in as a form (python-telegram-bot's ConversationHandler, see bot/core/forms/conversation.py),
and the nudge's other buttons (snooze, skip).

Every answer is saved in the database as it is given, so a check-in left half-way is never lost: the
nudge's "Start the check-in" and /reviews' "Carry on" pick it up at the next question while its round
is open. Scores can be tapped or typed ("4", "four", "partly", "flying"); the form claims typed text only
while it is open (30 minutes at most without an answer), and a question typed into it is answered first.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.core import callbacks as cb
from bot.core.forms.conversation import END, Form, answered_as_question, drop_buttons, form_named
from bot.core.forms.typed import Option, choose, parse_number
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import TRY_AGAIN, storage_guard
from bot.reviews.checkins import Progress, finish_answering, progress_of, record_score, start_answering
from bot.reviews.errors import NotAllowed, NudgeClosed, ReviewInputError
from bot.reviews.handlers.common import (
    ANSWER,
    NOT_HERE,
    NOTHING,
    NUDGE,
    RESUME,
    NudgeAction,
    alert,
    button,
    is_admin,
    markup,
)
from bot.reviews.handlers.summaries import post_summary
from bot.reviews.nudges import skip, snooze
from bot.reviews.partnerships import is_group_chat
from bot.reviews.questions import COMMENT_STEP, QUESTIONS, QuestionKind, Stage, options_for
from bot.reviews.schedule import format_local
from db.review_models import MAX_COMMENT
from knowledge.render import escape

FORM_NAME = "reviews-checkin"
SCORING, COMMENT = "scoring", "comment"
CHECKIN_KEY = "review_checkin"  # user_data: {"answer": id} of the check-in being answered
#: A typed answer that meets a dead database: the answers given so far are in the database already, and the
#: form stays at its step, so saying so is better than the plain "try again".
SAVED_SO_FAR = TRY_AGAIN + " Your answers so far are saved."
STALE = "That check-in question is done. Tap “Start the check-in” on the nudge, or send /reviews, to carry on."
STAGE_HINTS = {
    Stage.FORMING: "shared cause and early enthusiasm, commitments still unclear",
    Stage.FRUSTRATION: "“in a fog”, disputes over priorities, hidden agendas",
    Stage.FUNCTIONING: "clear roles, joint work, we say “we” not “you”",
    Stage.FLYING: "goals being met, shared leadership, trust",
    Stage.FAILING: "disengagement, recurring tensions",
}


# -- showing a step ----------------------------------------------------------------------------------------
def step_content(progress: Progress, name: str | None) -> tuple[str, InlineKeyboardMarkup]:
    """The next question (or the comment step); ``name`` is given when it is shown in a group."""
    who = f"For {escape(name)}: " if name else ""
    head = f"<b>{escape(progress.partnership_name)}</b> check-in ({progress.slot_local:%d %b %Y})"
    if progress.step == COMMENT_STEP:
        text = (f"{head}\n{who}<b>Anything to raise with the partners?</b> Type it now (up to "
                f"{MAX_COMMENT} characters), or tap Nothing to add.")
        if name:
            text += "\n<i>Reply to this message to type it.</i>"
        if is_group_chat(progress.partnership_chat_id):
            text += "\n<i>It goes in the group's summary without your name.</i>"
        return text, markup([[button("Nothing to add", NOTHING, progress.answer_id)]])
    question = QUESTIONS[progress.step]
    text = f"{head}\n{who}Question {progress.step + 1} of {len(QUESTIONS)}\n{question.text}"
    options = options_for(question)
    buttons = [button(label, ANSWER, progress.answer_id, progress.step, value) for label, value in options]
    if question.kind == QuestionKind.SCALE:
        text += "\n<i>1 = not at all, 5 = fully. Tap or type a number.</i>"
        rows = [buttons]
    elif question.kind == QuestionKind.STAGE:
        text += "\n" + "\n".join(f"• <b>{s.capitalize()}</b>: {escape(h)}" for s, h in STAGE_HINTS.items())
        rows = [buttons[:3], buttons[3:]]
    else:
        rows = [buttons]
    if name and question.kind != QuestionKind.SCALE:
        text += "\n<i>Tap, or reply to this message with your answer.</i>"
    return text, markup(rows)


def _state_of(progress: Progress) -> str | int:
    if progress.completed:
        return END
    return COMMENT if progress.step == COMMENT_STEP else SCORING


def _remember(context: ContextTypes.DEFAULT_TYPE, progress: Progress) -> None:
    if context.user_data is not None:
        context.user_data[CHECKIN_KEY] = {"answer": progress.answer_id}


async def _send_step(context: ContextTypes.DEFAULT_TYPE, chat_id: int, progress: Progress, name: str | None,
                     prefix: str = "") -> None:
    if progress.completed:
        await send_html(context, chat_id, "You've already answered this check-in: thank you!")
        return
    text, step_markup = step_content(progress, name)
    await send_html(context, chat_id, prefix + text, step_markup)


def _name_in(update: Update) -> str | None:
    chat, user = update.effective_chat, update.effective_user
    return user.first_name if chat is not None and user is not None and chat.type != ChatType.PRIVATE else None


# -- starting and resuming ---------------------------------------------------------------------------------
@storage_guard(returning=END)
async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """The nudge's "Start the check-in" / "Answer here" / "Answer privately": begin, or carry on where left."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and user is not None
    data = cb.parse(query.data)
    occurrence_id, action = data.int_arg(0), data.args[1] if len(data.args) > 1 else ""
    if occurrence_id is None:
        await alert(update, NOT_HERE)
        return END
    svc = services(context)
    try:
        async with svc.database.transaction() as session:
            progress = await start_answering(session=session, occurrence_id=occurrence_id, chat_id=chat.id,
                                             user_id=user.id, now=svc.clock())
    except NotAllowed:
        await alert(update, NOT_HERE)
        return END
    except NudgeClosed as exc:
        await alert(update, str(exc))
        return END
    private = action == NudgeAction.ANSWER_PRIVATELY and chat.type != ChatType.PRIVATE
    target = user.id if private else chat.id
    try:
        await _send_step(context, target, progress, None if private else _name_in(update))
    except (Forbidden, BadRequest):
        await alert(update, "I can't message you privately yet: open a chat with me and tap Start, "
                            "then tap “Answer privately” again.")
        return END
    await query.answer("Sent you the questions privately." if private else None)
    _remember(context, progress)
    state = _state_of(progress)
    if private and state != END:  # the answers arrive in the private chat: the form is open there
        form_named(context.application, FORM_NAME).open_for(chat_id=user.id, user_id=user.id, state=state,
                                                            user_data=context.user_data, now=svc.clock())
        return END
    return state


@storage_guard(returning=END)
async def on_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """/reviews' "Carry on": the next question of the person's own half-done check-in."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and user is not None
    answer_id = cb.parse(query.data).int_arg(0)
    try:
        if answer_id is None:
            raise NotAllowed
        async with services(context).database.transaction() as session:
            progress = await progress_of(session=session, answer_id=answer_id, user_id=user.id)
    except NotAllowed:
        await alert(update, NOT_HERE)
        return END
    await query.answer()
    await drop_buttons(query)
    await _send_step(context, chat.id, progress, _name_in(update))
    _remember(context, progress)
    return _state_of(progress)


# -- answers -----------------------------------------------------------------------------------------------
@storage_guard(returning=END)
async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """A tapped score (ra:<answer>:<step>:<value>): saved, and the message becomes the next step."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    data = cb.parse(query.data)
    answer_id, step = data.int_arg(0), data.int_arg(1)
    value = data.args[2] if len(data.args) > 2 else ""
    svc = services(context)
    progress: Progress | None = None
    closed: NudgeClosed | None = None
    try:
        if answer_id is None or step is None:
            raise NotAllowed
        async with svc.database.transaction() as session:
            try:
                current = await progress_of(session=session, answer_id=answer_id, user_id=user.id)
                if current.step == step:  # else an old question's button, or a double tap: nothing changes
                    progress = await record_score(session=session, answer_id=answer_id, user_id=user.id,
                                                  step=step, value=value)
            except NudgeClosed as exc:  # inside the block: an answer to a closed round is deleted, and stays so
                closed = exc
    except NotAllowed:
        await alert(update, "These buttons are for someone else's answers. Tap “Answer here” on the nudge to "
                            "answer for yourself.")
        return END
    if closed is not None:
        await alert(update, str(closed))
        return END
    if progress is None:
        await alert(update, "That question is already answered. " + (
            "Your check-in is finished: thank you!" if current.completed else "Please answer the one below."))
        return _state_of(current)
    await query.answer()
    _remember(context, progress)
    text, step_markup = step_content(progress, _name_in(update))
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=step_markup)
    except BadRequest:  # a message too old to edit: send it afresh
        if update.effective_chat is not None:
            await send_html(context, update.effective_chat.id, text, step_markup)
    return _state_of(progress)


def _typed_value(step: int, text: str) -> str | None:
    """A typed answer to question ``step`` as the value its button would send ("four" → "4")."""
    question = QUESTIONS[step]
    if question.kind == QuestionKind.SCALE:
        number = parse_number(text, 1, 5)
        return str(number) if number is not None else None
    options = [Option(value, label) for label, value in options_for(question)]
    if question.kind == QuestionKind.YNP:
        options += [Option("5", "yes", ("yep", "yeah", "definitely")), Option("1", "no", ("nope", "not really")),
                    Option("3", "partly", ("sort of", "somewhat", "a bit", "kind of"))]
    return choose(text, options).value


@storage_guard(returning=None, text=SAVED_SO_FAR)  # None: the form stays at its step
async def on_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int | None:
    """Text while the check-in is open: a score, the comment, a question to answer first, or a nudge."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    assert message is not None and chat is not None and user is not None
    if chat.type != ChatType.PRIVATE and not _replies_to_bot(message, context):
        return None  # in a group only a reply to the bot is an answer; the rest is the group talking
    pending = (context.user_data or {}).get(CHECKIN_KEY) or {}
    svc = services(context)
    try:
        answer_id = int(pending.get("answer", 0))
        async with svc.database.transaction() as session:
            progress = await progress_of(session=session, answer_id=answer_id, user_id=user.id)
    except (NotAllowed, TypeError, ValueError):
        return END
    except NudgeClosed as exc:  # the round closed (and dropped this unfinished answer) since the last question
        await send_html(context, chat.id, escape(str(exc)))
        return END
    text = message.text or ""
    if progress.completed:
        return END
    if progress.step == COMMENT_STEP:
        if await answered_as_question(update, context, text):
            await _send_step(context, chat.id, progress, _name_in(update), "Back to your check-in: ")
            return COMMENT
        return await _finish(update, context, progress.answer_id, text)
    value = _typed_value(progress.step, text)
    if value is None:
        if await answered_as_question(update, context, text):
            await _send_step(context, chat.id, progress, _name_in(update), "Back to your check-in: ")
        else:
            await _send_step(context, chat.id, progress, _name_in(update),
                             f"I didn't catch “{escape(text[:40])}” as an answer: tap a button or type one.\n")
        return SCORING
    closed: NudgeClosed | None = None
    async with svc.database.transaction() as session:
        try:
            progress = await record_score(session=session, answer_id=progress.answer_id, user_id=user.id,
                                          step=progress.step, value=value)
        except NudgeClosed as exc:  # inside the block: an answer to a closed round is deleted, and stays so
            closed = exc
    if closed is not None:
        await send_html(context, chat.id, escape(str(closed)))
        return END
    await _send_step(context, chat.id, progress, _name_in(update))
    return _state_of(progress)


async def _finish(update: Update, context: ContextTypes.DEFAULT_TYPE, answer_id: int, comment: str | None
                  ) -> str | int:
    """Complete the person's check-in (with its comment); the comment step stays when it must be shortened."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    svc = services(context)
    closed: NudgeClosed | None = None
    try:
        async with svc.database.transaction() as session:
            try:
                summary = await finish_answering(session=session, answer_id=answer_id, user_id=user.id,
                                                 comment=comment, now=svc.clock(),
                                                 min_group=svc.settings.review_min_group)
            except NudgeClosed as exc:  # inside the block: an answer to a closed round is deleted, and stays so
                closed = exc
    except ReviewInputError as exc:
        await send_html(context, chat.id, f"{escape(str(exc))} Here is what you wrote, to shorten:\n"
                                          f"<blockquote>{escape((comment or '')[:1000])}</blockquote>")
        return COMMENT
    except NotAllowed:
        await alert(update, "These buttons are for someone else's answers.")
        return END
    if closed is not None:
        if update.callback_query:
            await alert(update, str(closed))
        else:
            await send_html(context, chat.id, escape(str(closed)))
        return END
    if context.user_data is not None:
        context.user_data.pop(CHECKIN_KEY, None)
    if update.callback_query:
        await update.callback_query.answer()
        await drop_buttons(update.callback_query)
    if summary is None or summary.chat_id != chat.id:
        note = "" if summary is not None else (" I'll post one summary when enough people have answered, "
                                               "or in 48 hours.")
        await send_html(context, chat.id, f"✅ Thanks, your answers are saved.{note}")
    if summary is not None:
        await post_summary(context, summary)
    return END


@storage_guard(returning=COMMENT, text=SAVED_SO_FAR)  # the comment step stays, to tap again
async def on_nothing_to_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    query = update.callback_query
    answer_id = cb.parse(query.data).int_arg(0) if query else None
    if answer_id is None:
        await alert(update, NOT_HERE)
        return END
    return await _finish(update, context, answer_id, None)


def _replies_to_bot(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id


async def _forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(CHECKIN_KEY, None)


#: The nudge's buttons that open the check-in (its snooze and skip are :func:`on_nudge`'s).
START_PATTERN = rf"^{NUDGE}:\d+:({NudgeAction.ANSWER_HERE}|{NudgeAction.ANSWER_PRIVATELY})$"


def checkin_form() -> Form:
    """The check-in: entered from the nudge, from /reviews' Carry on, or from any of its own buttons."""
    answers = [CallbackQueryHandler(on_answer, pattern=cb.pattern(ANSWER)),
               CallbackQueryHandler(on_nothing_to_add, pattern=cb.pattern(NOTHING))]
    typed = MessageHandler(filters.TEXT & ~filters.COMMAND, on_typed)
    states: dict[object, list[Any]] = {SCORING: [*answers, typed], COMMENT: [*answers, typed]}
    return Form(name=FORM_NAME, title="check-in", resume="/reviews", states=states, on_cancel=_forget,
                cancelled="OK, I've stopped the check-in. Your answers so far are kept: send /reviews, or tap "
                          "“Start the check-in” on the nudge, to carry on while it is open.",
                entry_points=[CallbackQueryHandler(on_start, pattern=START_PATTERN),
                              CallbackQueryHandler(on_resume, pattern=cb.pattern(RESUME)), *answers])


# -- the nudge's other buttons -----------------------------------------------------------------------------
@storage_guard
async def on_nudge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Snooze 1 day / 1 week, or skip this one: administrators only, in a group."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return
    data = cb.parse(query.data)
    occurrence_id, action = data.int_arg(0), data.args[1] if len(data.args) > 1 else ""
    if occurrence_id is None:
        await alert(update, NOT_HERE)
        return
    svc = services(context)
    if not await is_admin(context, chat, user.id):
        await alert(update, "Only this group's admins can snooze or skip a check-in.")
        return
    if action not in (NudgeAction.SNOOZE_DAY, NudgeAction.SNOOZE_WEEK, NudgeAction.SKIP):
        await query.answer()
        return
    try:
        async with svc.database.transaction() as session:
            if action == NudgeAction.SKIP:
                following = await skip(session=session, occurrence_id=occurrence_id, chat_id=chat.id,
                                       now=svc.clock())
                text = "⏭ Skipped." + (f" The next check-in is {format_local(following)}." if following else "")
            else:
                when = await snooze(session=session, occurrence_id=occurrence_id, chat_id=chat.id,
                                    days=1 if action == NudgeAction.SNOOZE_DAY else 7, now=svc.clock())
                text = f"⏰ Snoozed: I'll nudge you again {format_local(when)}."
    except NotAllowed:
        await alert(update, NOT_HERE)
        return
    except NudgeClosed as exc:
        await alert(update, str(exc))
        return
    await query.answer()
    await drop_buttons(query)
    await send_html(context, chat.id, text)
