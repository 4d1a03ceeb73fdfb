"""The text capture: a typed set-up answer or the "anything to raise?" comment, before the question
handlers see the text."""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core.messages import send_html
from bot.reviews.handlers.checkin import on_comment_text
from bot.reviews.handlers.common import COMMENT_KEY
from bot.reviews.handlers.drafts import (
    STEP_CADENCE,
    STEP_CONFIRM,
    STEP_DAY,
    STEP_NAME,
    STEP_PARTNERS,
    STEP_START,
    STEP_TIME,
    STEP_ZONE,
    clear_draft,
    has_review_flow,
    live_draft,
)
from bot.reviews.handlers.setup import advance


async def on_text_capture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before the question handlers (REVIEW_GROUP): a typed set-up answer or the "anything to raise?"
    comment is taken here and goes no further; any other text is left alone."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None or message.text is None:
        return
    if message.text.startswith("/"):
        if message.text.split()[0].split("@")[0].lower() == "/cancel" and has_review_flow(context, chat.id):
            clear_draft(context, chat.id)
            if context.user_data is not None:
                context.user_data.pop(COMMENT_KEY, None)
            await send_html(context, chat.id, "OK, cancelled: nothing was changed.")
        return
    if chat.type != ChatType.PRIVATE and not _replies_to_bot(message, context):
        return  # in a group only a reply to the bot's question is an answer; the rest is the group talking
    draft = live_draft(context, chat.id)
    if draft is not None and draft.get("step") in (STEP_NAME, STEP_PARTNERS, STEP_CADENCE, STEP_DAY, STEP_TIME,
                                                   STEP_ZONE, STEP_START, STEP_CONFIRM):
        await advance(update, context, draft, draft["step"], message.text)
        raise ApplicationHandlerStop
    await on_comment_text(update, context)


def _replies_to_bot(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id
