"""The nudge's buttons (answer, answer privately, snooze, skip) and the check-in questions and comment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core import callbacks as cb
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import TRY_AGAIN, storage_guard
from bot.reviews.checkins import Progress, finish_answering, record_score, start_answering
from bot.reviews.errors import NotAllowed, NudgeClosed, ReviewInputError
from bot.reviews.handlers.common import (
    ANSWER,
    COMMENT_KEY,
    COMMENT_TIMEOUT,
    NOT_HERE,
    NOTHING,
    alert,
    button,
    drop_buttons,
    is_admin,
    markup,
)
from bot.reviews.handlers.summaries import post_summary
from bot.reviews.nudges import skip, snooze
from bot.reviews.partnerships import is_group_chat
from bot.reviews.questions import COMMENT_STEP, QUESTIONS, options_for
from bot.reviews.schedule import format_local
from db.review_models import MAX_COMMENT
from knowledge.render import escape

STAGE_HINTS = {
    "forming": "shared cause and early enthusiasm, commitments still unclear",
    "frustration": "“in a fog”, disputes over priorities, hidden agendas",
    "functioning": "clear roles, joint work, we say “we” not “you”",
    "flying": "goals being met, shared leadership, trust",
    "failing": "disengagement, recurring tensions",
}


# -- the nudge's buttons ----------------------------------------------------------------------------------
@storage_guard
async def on_nudge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return
    data = cb.parse(query.data)
    occurrence_id, action = data.int_arg(0), data.args[1] if len(data.args) > 1 else ""
    if occurrence_id is None:
        await alert(update, NOT_HERE)
        return
    svc = services(context)
    try:
        if action in ("go", "dm"):
            progress = await start_answering(svc.database, occurrence_id, chat_id=chat.id, user_id=user.id,
                                                     now=svc.clock())
            target = user.id if action == "dm" else chat.id
            try:
                await _send_step(context, target, progress, user.first_name if target != user.id else None)
            except (Forbidden, BadRequest):
                await alert(update, "I can't message you privately yet: open a chat with me and tap Start, "
                                     "then tap “Answer privately” again.")
                return
            await query.answer("Sent you the questions privately." if action == "dm" and target != chat.id else None)
            return
        if not await is_admin(context, chat, user.id):
            await alert(update, "Only this group's admins can snooze or skip a check-in.")
            return
        if action in ("s1", "s7"):
            when = await snooze(svc.database, occurrence_id, chat_id=chat.id, days=1 if action == "s1" else 7,
                                        now=svc.clock())
            text = f"⏰ Snoozed: I'll nudge you again {format_local(when)}."
        elif action == "sk":
            following = await skip(svc.database, occurrence_id, chat_id=chat.id, now=svc.clock())
            text = "⏭ Skipped." + (f" The next check-in is {format_local(following)}." if following else "")
        else:
            await query.answer()
            return
    except NotAllowed:
        await alert(update, NOT_HERE)
        return
    except NudgeClosed as exc:
        await alert(update, str(exc))
        return
    await query.answer()
    await drop_buttons(update)
    await send_html(context, chat.id, text)


def _step_content(progress: Progress, name: str | None) -> tuple[str, InlineKeyboardMarkup]:
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
    if question.kind == "scale":
        text += "\n<i>1 = not at all, 5 = fully</i>"
        rows = [buttons]
    elif question.kind == "stage":
        text += "\n" + "\n".join(f"• <b>{s.capitalize()}</b>: {escape(h)}" for s, h in STAGE_HINTS.items())
        rows = [buttons[:3], buttons[3:]]
    else:
        rows = [buttons]
    return text, markup(rows)


async def _send_step(context: ContextTypes.DEFAULT_TYPE, chat_id: int, progress: Progress,
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


@storage_guard
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
        progress = await record_score(svc.database, answer_id, user_id=user.id, step=step, value=value)
    except NotAllowed:
        await alert(update, "These buttons are for someone else's answers. Tap “Answer here” on the nudge to "
                             "answer for yourself.")
        return
    except NudgeClosed as exc:
        await alert(update, str(exc))
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
        summary = await finish_answering(svc.database, answer_id, user_id=user.id, comment=comment,
                                         now=svc.clock(), min_group=svc.settings.review_min_group)
    except ReviewInputError as exc:
        await send_html(context, chat.id, f"{escape(str(exc))} Here is what you wrote, to shorten:\n"
                                          f"<blockquote>{escape((comment or '')[:1000])}</blockquote>")
        return False
    except NotAllowed:
        await alert(update, "These buttons are for someone else's answers.")
        return True
    except NudgeClosed as exc:
        if update.callback_query:
            await alert(update, str(exc))
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
        await drop_buttons(update)
    if summary is None or summary.chat_id != chat.id:
        note = "" if summary is not None else (" I'll post one summary when enough people have answered, "
                                               "or in 48 hours.")
        await send_html(context, chat.id, f"✅ Thanks, your answers are saved.{note}")
    if summary is not None:
        await post_summary(context, summary)
    return True


async def on_nothing_to_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    answer_id = cb.parse(query.data).int_arg(0) if query else None
    if answer_id is None:
        await alert(update, NOT_HERE)
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
