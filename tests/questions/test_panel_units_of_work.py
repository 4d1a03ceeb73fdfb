"""The panel's actions are all or nothing: one tap or one reply is one transaction, so an action that fails
half-way (after some of its rows were written) leaves none of them behind, and doing it again works once.
Also the parts of the panel flow these transactions changed: replies to a closed question, ratings, a
double "Ask the panel" tap."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.core.storage import TRY_AGAIN
from bot.panel import store
from db.engine import Database
from db.models import KnowledgeDraft, PanelQuestion, PanelReply
from db.types import utcnow
from tests.conftest import ADMIN_ID, PANEL_CHAT_ID, Harness
from tests.questions.question_support import send_to_panel


def fails_after(rule: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``rule`` does all its writes, then the action fails (as a lost connection at commit would)."""

    async def half_way(**kwargs: Any) -> Any:
        await rule(**kwargs)
        raise OperationalError("COMMIT", {}, ConnectionResetError("connection lost (simulated)"))

    return half_way


async def rows(bot: Harness, table: type) -> list[Any]:
    async with bot.services.database.transaction() as session:
        return list((await session.exec(select(table))).all())


async def panel_reply(bot: Harness, posted: Any, text: str, expert_id: int = 720) -> int:
    """A panel member replies to the panel's post of a question; the outbox mark before it."""
    mark = bot.fake.mark()
    bot.fake.say(bot.fake.person(expert_id, "Expert"), text, chat=bot.fake.group_chat(PANEL_CHAT_ID, "Panel"),
                 reply_to=posted.message_id)
    return mark


async def test_a_draft_and_its_saved_mark_are_saved_together_or_not_at_all(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    posted = await send_to_panel(bot, bot.fake.person(721), "how do I repair a bicycle puncture")
    mark = await panel_reply(bot, posted, "Find a bike workshop.")
    [thanks] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    admin = bot.fake.person(ADMIN_ID, "Admin")

    with monkeypatch.context() as patch:
        patch.setattr(store, "save_draft", fails_after(store.save_draft))
        tapped = bot.fake.mark()
        bot.fake.press(admin, thanks, "Save to knowledge base")
        assert (await bot.fake.answered("try again in a minute", after=tapped))["text"] == TRY_AGAIN
    assert await rows(bot, KnowledgeDraft) == []
    [reply] = await rows(bot, PanelReply)
    assert reply.saved_as_draft is False  # the mark went with the draft

    tapped = bot.fake.mark()
    bot.fake.press(admin, thanks, "Save to knowledge base")
    await bot.fake.answered("Saved as draft", after=tapped)
    [draft] = await rows(bot, KnowledgeDraft)
    [reply] = await rows(bot, PanelReply)
    assert draft.answer == "Find a bike workshop." and draft.panel_reply_id == reply.id and reply.saved_as_draft


async def test_a_panel_reply_that_fails_half_way_is_neither_kept_nor_passed_on(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    asker, expert = bot.fake.person(722), bot.fake.person(720, "Expert")
    posted = await send_to_panel(bot, asker, "which paint is best for a garden fence")

    with monkeypatch.context() as patch:
        patch.setattr(store, "add_reply", fails_after(store.add_reply))
        mark = await panel_reply(bot, posted, "Use a water-based stain.")
        sorry = await bot.fake.reply_with(PANEL_CHAT_ID, "send it again", after=mark)
        assert "couldn't save or pass on" in sorry.text
        assert await bot.fake.quiet(722, after=mark, by=expert) == []
    assert await rows(bot, PanelReply) == []  # a stored reply the asker never got would count as an answer

    mark = await panel_reply(bot, posted, "Use a water-based stain.")
    [relayed] = await bot.fake.replies(722, after=mark)
    assert "water-based stain" in relayed.text
    assert [r.text for r in await rows(bot, PanelReply)] == ["Use a water-based stain."]


async def test_a_panel_question_that_fails_half_way_is_not_left_behind(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    person = bot.fake.person(723)
    mark = bot.fake.mark()
    bot.fake.say(person, "how do I grow tomatoes indoors")
    [decline] = await bot.fake.replies(723, after=mark)
    mark = bot.fake.mark()
    bot.fake.press(person, decline, "Ask the panel")
    [consent] = await bot.fake.replies(723, after=mark)

    with monkeypatch.context() as patch:
        patch.setattr(store, "create_question", fails_after(store.create_question))
        mark = tapped = bot.fake.mark()
        bot.fake.press(person, consent, "anonymously")
        assert (await bot.fake.answered("try again in a minute", after=tapped))["text"] == TRY_AGAIN
        assert await bot.fake.quiet(PANEL_CHAT_ID, after=mark, by=person) == []
    assert await rows(bot, PanelQuestion) == []

    bot.fake.press(person, consent, "anonymously")
    [posted] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    await bot.fake.reply_with(723, "Sent to the panel", after=mark)  # told after the post is recorded
    [question] = await rows(bot, PanelQuestion)
    assert f"#{question.id}" in posted.text and question.panel_message_id == posted.message_id


async def test_ratings_are_the_askers_and_a_resolved_question_takes_no_more_replies(bot: Harness) -> None:
    asker, stranger, expert = bot.fake.person(724), bot.fake.person(725), bot.fake.person(720, "Expert")
    posted = await send_to_panel(bot, asker, "what is the best recipe for flapjacks")
    mark = await panel_reply(bot, posted, "Oats, butter, golden syrup.")
    [relayed] = await bot.fake.replies(724, after=mark)

    rate = next(d for label, d in relayed.buttons() if "Helpful" in label and "Not" not in label)
    tapped = bot.fake.mark()
    bot.fake.api.press(stranger, 725, relayed.message_id, rate)
    await bot.fake.answered("someone else", after=tapped)
    tapped = bot.fake.mark()
    bot.fake.press(asker, relayed, "👍 Helpful")
    await bot.fake.answered("Thanks for rating", after=tapped)
    [reply] = await rows(bot, PanelReply)
    assert reply.helpful is True

    mark = bot.fake.mark()
    bot.fake.press(asker, relayed, "My question is answered")
    await bot.fake.reply_with(724, "marked as answered", after=mark)
    [question] = await rows(bot, PanelQuestion)
    assert question.status == store.PanelStatus.RESOLVED and question.closed_at is not None

    mark = await panel_reply(bot, posted, "Add raisins too.")
    closed = await bot.fake.reply_with(PANEL_CHAT_ID, "closed now", after=mark)
    assert "haven't passed the reply on" in closed.text
    assert await bot.fake.quiet(724, after=mark, by=expert) == []
    assert [r.text for r in await rows(bot, PanelReply)] == ["Oats, butter, golden syrup."]


async def test_the_same_logged_question_becomes_one_panel_question(db_url: str) -> None:
    """Two taps of "Ask the panel" that race each other: the second finds the first's question."""
    database = Database(db_url)
    now = utcnow()
    try:
        found = []
        for name in ("Ola", "Ben"):
            async with database.transaction() as session:
                found.append(await store.create_question(
                    session=session, source_log_id=7, asker_id=5, asker_name=name, text="how to knit",
                    panel_chat_id=PANEL_CHAT_ID, now=now))
        (first, first_new), (second, second_new) = found
        assert (first_new, second_new) == (True, False)
        assert second.id == first.id and second.asker_name == "Ola" and second.status == store.PanelStatus.OPEN
        async with database.transaction() as session:
            assert len((await session.exec(select(PanelQuestion))).all()) == 1
    finally:
        await database.dispose()
