"""The answers to the profile questions: typed text (a name, an organisation, a town, a story) and
the buttons (kind of organisation, area, topics, stages, partners, capacity), and /cancel.

Why a module of its own: each answer is checked, stored in the draft, and the next question asked; a
button from questions already finished gets a polite note instead of acting.
"""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.mentoring.cleaning import clean_line, clean_story
from bot.mentoring.drafts import MAX_CAPACITY, MIN_CAPACITY
from bot.mentoring.handlers.common import chip, edit, say
from bot.mentoring.handlers.profile_questions import (
    DRAFT,
    EDITING,
    NAME,
    ORG,
    STORY,
    TOWN,
    active_draft,
    advance,
    ask,
    current_state,
    partners_markup,
    stages_markup,
    topics_markup,
)
from bot.mentoring.lists import (
    MENTOR,
    ORG_TYPE_BY_SLUG,
    ORG_TYPES,
    REGION_BY_SLUG,
    STAGE_BY_SLUG,
    STAGES,
    TOPIC_BY_SLUG,
    TOPICS,
    Choice,
)
from db.mentoring_models import MAX_NAME_CHARS, MAX_STORY_CHARS
from knowledge.render import escape

TAP_A_BUTTON = "Please tap one of the buttons above, or send /cancel to stop."
NOT_NOW = "That question has finished. Send /profile to see or change your details."


async def _callback_draft(update: Update, context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
    """The draft a profile button acts on; a button of finished questions gets a polite note instead."""
    draft = active_draft(context)
    if draft is None and update.callback_query is not None:
        await update.callback_query.answer(NOT_NOW, show_alert=True)
    return draft


async def on_name_default(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    draft = await _callback_draft(update, context)
    if draft is None:
        return
    draft["display_name"] = clean_line(query.from_user.first_name) or "Mentoring member"
    await query.answer()
    await advance(update, context)


async def _text_answer(update: Update, limit: int) -> str | None:
    """The typed answer, cleaned; None (after saying why) when it is empty or too long."""
    message = update.effective_message
    assert message is not None
    text = clean_line(message.text or "", 100_000)
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
    draft = active_draft(context)
    state = current_state(context.user_data)
    if message is None or draft is None or state is None:
        return
    if state in (NAME, ORG, TOWN):
        text = await _text_answer(update, MAX_NAME_CHARS)
        if text is None:
            return
        draft[{NAME: "display_name", ORG: "organisation", TOWN: "town"}[state]] = text
    elif state == STORY:
        story = clean_story(message.text or "")
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
        await ask(update, context, state)
        return
    await advance(update, context)


async def on_town_skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    draft = await _callback_draft(update, context)
    if draft is None or update.callback_query is None:
        return
    draft["town"] = None
    await update.callback_query.answer()
    await edit(update, "✔️ No town given")
    await advance(update, context)


async def _choice(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str,
                  allowed: dict[str, Choice]) -> None:
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
    await edit(update, f"✔️ {escape(allowed[slug].label)}")
    await advance(update, context)


async def on_org_type(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _choice(update, context, "org_type", ORG_TYPE_BY_SLUG)


async def on_region(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _choice(update, context, "region", REGION_BY_SLUG)


async def _toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, allowed: dict[str, Choice],
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
    await _toggle(update, context, "topics", TOPIC_BY_SLUG, topics_markup)


async def on_partner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _toggle(update, context, "partner_types", ORG_TYPE_BY_SLUG, partners_markup)


async def on_stage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if ((context.user_data or {}).get(DRAFT) or {}).get("role") == MENTOR:
        await _toggle(update, context, "stages", STAGE_BY_SLUG, stages_markup)
        return
    query = update.callback_query
    assert query is not None
    draft = await _callback_draft(update, context)
    if draft is None:
        return
    slug = cb.parse(query.data).args[0] if cb.parse(query.data).args else ""
    if slug not in STAGE_BY_SLUG:
        await query.answer("Please choose from the list.")
        return
    draft.update(stages=[slug], stages_done=True)
    await query.answer()
    await edit(update, f"✔️ {escape(STAGE_BY_SLUG[slug].label)}")
    await advance(update, context)


async def _done(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, flag: str,
                choices: tuple[Choice, ...], required: bool) -> None:
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
    await edit(update, f"✔️ {chip(choices, draft.get(key) or [])}")
    await advance(update, context)


async def on_topics_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _done(update, context, "topics", "topics_done", TOPICS, True)


async def on_stages_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _done(update, context, "stages", "stages_done", STAGES, False)


async def on_partners_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _done(update, context, "partner_types", "partners_done", ORG_TYPES, False)


async def on_capacity(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    draft = await _callback_draft(update, context)
    if draft is None:
        return
    number = cb.parse(query.data).int_arg(0)
    if number is None or not MIN_CAPACITY <= number <= MAX_CAPACITY:
        await query.answer("Please choose 1 to 5.")
        return
    draft["capacity"] = number
    await query.answer()
    await edit(update, f"✔️ {number} at a time")
    await advance(update, context)


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel or the Cancel button while answering: forget the draft, change nothing."""
    assert context.user_data is not None
    had_draft = context.user_data.pop(DRAFT, None) is not None
    context.user_data.pop(EDITING, None)
    if update.callback_query:
        await update.callback_query.answer()
    if had_draft:
        await say(update, context, "OK, I've stopped. Nothing was changed. Send /mentor or /mentor_offer any time.")
    else:
        await edit(update, "OK, nothing changed.")
