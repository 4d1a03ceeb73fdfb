"""After a match: the mentee's answers to "Have you connected?" and "Continue or close?", the 1-5
rating and its comment, and either buddy ending the match.

Why a module of its own: these buttons arrive days or months after the match, so each is checked
against the person pressing; ending a match frees the mentor's place for the waiting list.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.core import callbacks as cb
from bot.core.forms.conversation import END as FORM_END
from bot.core.forms.conversation import Form, answered_as_question
from bot.core.services import services
from bot.core.storage import storage_guard
from bot.mentoring.cleaning import clean_story
from bot.mentoring.followups import CONNECTED, NOT_YET, answer_checkin, answer_review, end_match, rate_match
from bot.mentoring.handlers.common import (
    COMMENT_FOR,
    RATE,
    SKIP_COMMENT,
    buttons,
    contact_line,
    edit,
    for_match,
    notify,
    record_relay,
)
from bot.mentoring.handlers.jobs import tell_waiting
from bot.mentoring.handlers.suggestions import show_mentee_home
from bot.mentoring.store import Parties
from bot.mentoring.suggestions import MenteeStatus, mentee_status
from db.mentoring_models import MAX_COMMENT_CHARS
from knowledge.render import escape

COMMENT = 0


@storage_guard
async def on_checkin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The mentee's answer to "Have you connected?" (also "I need a different buddy" from /mentor)."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    match_id, answer = data.int_arg(0), (data.args[1] if len(data.args) > 1 else "")

    async def checkin(session: AsyncSession, match_id: int) -> tuple[Parties, MenteeStatus | None]:
        """The answer, and after "a different buddy" the mentee's other suggestions: one unit of work."""
        parties = await answer_checkin(session=session, match_id=match_id, telegram_id=query.from_user.id,
                                       answer=answer, now=svc.clock())
        if answer in (CONNECTED, NOT_YET):
            return parties, None
        return parties, await mentee_status(session=session, telegram_id=query.from_user.id, now=svc.clock())

    answered = await for_match(context, query, match_id, "That buddy match isn't yours.", checkin)
    if answered is None:
        return
    parties, home = answered
    await query.answer()
    if answer == CONNECTED:
        await edit(update, "🎉 Great! I'll check in again at three months.")
    elif answer == NOT_YET:
        again = " I'll ask again in a week." if parties.match.checkin_due else ""
        await edit(update, f"No problem: these things take time. {contact_line(parties.mentor, parties.mentor_name)}"
                            f"{again}")
        if parties.mentor.username is None and query.message is not None and match_id is not None:
            await record_relay(context, query.from_user.id, query.message.message_id, match_id)
    else:
        await edit(update, f"OK, I've ended your match with {escape(parties.mentor_name)}.")
        await notify(context, parties.mentor.telegram_id,
                      f"Your buddy match with {escape(parties.mentee_name)} has ended. Thank you for the time you "
                      "gave; your place is free for someone new.")
        assert home is not None
        await show_mentee_home(context, query.from_user.id, home, intro="Here are other mentors who could help:")
        await tell_waiting(context)


@storage_guard
async def on_review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The mentee's answer to "Continue or close?", then a 1-5 rating."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    match_id, keep = data.int_arg(0), data.int_arg(1) == 1
    parties = await for_match(
        context, query, match_id, "That buddy match isn't yours.",
        lambda session, match_id: answer_review(session=session, match_id=match_id, telegram_id=query.from_user.id,
                                                keep=keep, now=svc.clock()))
    if parties is None:
        return
    await query.answer()
    await edit(update, "👍 Carrying on: I'll check in again in three months." if keep
                else f"Closed. Thank you both. Your match with {escape(parties.mentor_name)} has ended.")
    if not keep:
        await notify(context, parties.mentor.telegram_id,
                      f"Your buddy match with {escape(parties.mentee_name)} has been closed. Thank you for the time "
                      "you gave; your place is free for someone new.")
        await tell_waiting(context)
    await notify(context, query.from_user.id, f"How has being buddies with {escape(parties.mentor_name)} been? "
                  "1 = not helpful, 5 = very helpful.",
                  buttons([[(str(n), cb.make(RATE, match_id, n)) for n in range(1, 6)]]))


@storage_guard(returning=FORM_END)
async def on_rate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A 1-5 rating (tapping again changes it), then an optional comment: a form that waits 30 minutes at most."""
    query = update.callback_query
    if query is None or context.user_data is None:
        return FORM_END
    svc = services(context)
    data = cb.parse(query.data)
    match_id, rating = data.int_arg(0), data.int_arg(1)
    ok = False
    if match_id is not None and rating is not None:
        async with svc.database.transaction() as session:
            ok = await rate_match(session=session, match_id=match_id, telegram_id=query.from_user.id, rating=rating)
    if not ok:
        await query.answer("That buddy match isn't yours.", show_alert=True)
        return FORM_END
    await query.answer()
    context.user_data[COMMENT_FOR] = match_id
    await edit(update, f"Thank you: {rating} out of 5. Anything you'd like to add? Type a short comment "
                        f"(up to {MAX_COMMENT_CHARS} characters), or tap Skip.",
                buttons([[("Skip", cb.make(SKIP_COMMENT, match_id))]]))
    return COMMENT


async def on_skip_comment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if update.callback_query is None or context.user_data is None:
        return FORM_END
    context.user_data.pop(COMMENT_FOR, None)
    await update.callback_query.answer()
    await edit(update, "Thank you for the feedback.")
    return FORM_END


@storage_guard(returning=COMMENT)
async def on_comment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Text after a rating is its comment, unless it is a question the knowledge base can answer."""
    message = update.effective_message
    if context.user_data is None or message is None or not message.text or COMMENT_FOR not in context.user_data:
        return FORM_END
    if await answered_as_question(update, context, message.text):
        await message.reply_html("Back to your feedback: type a short comment, or tap Skip above.")
        return COMMENT
    svc = services(context)
    text = clean_story(message.text)
    if len(text) > MAX_COMMENT_CHARS:
        await message.reply_html(f"That's {len(text)} characters; please shorten it to {MAX_COMMENT_CHARS}.")
        return COMMENT
    async with svc.database.transaction() as session:
        await rate_match(session=session, match_id=int(context.user_data[COMMENT_FOR]),
                         telegram_id=message.from_user.id if message.from_user else 0, comment=text)
    context.user_data.pop(COMMENT_FOR, None)
    await message.reply_html("Thank you: your comment is saved.")
    return FORM_END


def rating_form() -> Form:
    """The rating's comment wait: ends after 30 minutes like every form, so a question sent a month later is
    a question again."""
    return Form(name="mentoring-rating", title="feedback", resume="", entry_points=[
        CallbackQueryHandler(on_rate, pattern=cb.pattern(RATE))], states={COMMENT: [
            CallbackQueryHandler(on_skip_comment, pattern=cb.pattern(SKIP_COMMENT)),
            MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_comment)]},
        on_cancel=_forget_comment, cancelled="OK, no comment. Your rating is saved: thank you.")


async def _forget_comment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(COMMENT_FOR, None)


@storage_guard
async def on_end(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    match_id = cb.parse(query.data).int_arg(0)
    parties = await for_match(
        context, query, match_id, "That buddy match isn't yours.",
        lambda session, match_id: end_match(session=session, match_id=match_id, telegram_id=query.from_user.id,
                                            now=svc.clock()))
    if parties is None:
        return
    await query.answer()
    by_mentee = parties.mentee.telegram_id == query.from_user.id
    other_chat = parties.mentor.telegram_id if by_mentee else parties.mentee.telegram_id
    other_name = parties.mentor_name if by_mentee else parties.mentee_name
    await edit(update, f"Your buddy match with {escape(other_name)} has ended. Thank you.")
    await notify(context, other_chat, f"Your buddy match with "
                  f"{escape(parties.mentee_name if by_mentee else parties.mentor_name)} has ended. Thank you for the "
                  "time you gave it." + ("" if by_mentee else " Send /mentor to find another buddy."))
    await tell_waiting(context)
