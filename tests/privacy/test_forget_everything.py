"""/forget for a person who used every feature: afterwards every table is dumped and nothing linked to
them is left except what /privacy says is kept without a name (a closed check-in round's summary)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.mentoring.requests import request_mentor
from bot.reviews.checkins import finish_answering, record_score, start_answering
from bot.reviews.handlers.jobs import dispatch_due
from bot.reviews.history import history
from bot.reviews.partnerships import create_partnership, list_partnerships
from bot.reviews.questions import QUESTIONS
from bot.reviews.schedule import Schedule
from db.models import PersistedState
from tests.conftest import ADMIN_ID, PANEL_CHAT_ID, Harness
from tests.mentoring.mentor_support import in_transaction, seed
from tests.questions.question_support import send_to_panel
from tests.reviews.review_support import GOOD, Recorder, act

PERSON = 93017
NAME, USERNAME = "Zelda", "zelda_quill"
GROUP = -1009301
#: Words only this person typed: none of them may survive /forget (except in a closed round's summary).
PRIVATE_WORDS = ("tomatoes on my balcony", "my private partnership", "my own check-in worry", "my story of Zelda")
GROUP_COMMENT = "the group meeting clashes with school run"  # raised in a closed group round: kept, unnamed


async def dump_every_table(bot: Harness) -> dict[str, list[dict[str, object]]]:
    tables: dict[str, list[dict[str, object]]] = {}
    async with bot.services.database.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await connection.execute(text(f'SELECT * FROM "{table.name}"'))).mappings().all()
            tables[table.name] = [dict(row) for row in rows]
    return tables


async def use_every_feature(bot: Harness, person: dict) -> int:  # type: ignore[type-arg]
    """Leave a trace in every feature; returns the person's mentoring id (their rows' foreign key)."""
    database, now = bot.services.database, bot.services.clock()
    # Questions: one the bot cannot answer, sent to the panel with the first name, answered, rated, saved
    # as a knowledge-base draft by an admin; and a vote on an answer.
    posted = await send_to_panel(bot, person, "how do I grow tomatoes on my balcony", consent="first name")
    assert NAME in posted.text
    mark = bot.fake.mark()
    bot.fake.say(bot.fake.person(701), "Try a trough.", chat=bot.fake.group_chat(PANEL_CHAT_ID),
                 reply_to=posted.message_id)
    [thanks] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    tapped = bot.fake.mark()
    bot.fake.press(bot.fake.person(ADMIN_ID), thanks, "Save to knowledge base")
    await bot.fake.answered("Saved as draft", after=tapped)
    mark = bot.fake.mark()
    bot.fake.say(person, "what goes in a memorandum of understanding")
    [answer] = await bot.fake.replies(PERSON, after=mark)
    tapped = bot.fake.mark()
    bot.fake.press(person, answer, "👍 Helpful")
    await bot.fake.answered("Glad", after=tapped)
    # Mentoring: a mentee profile with a story, and a request to a mentor.
    mentor = await seed(bot, 93018, "mentor", name="Mo", organisation="Mentor Org", capacity=2)
    person_id = await seed(bot, PERSON, "mentee", name=NAME, organisation="Quill Trust", username=USERNAME,
               story="my story of Zelda")
    await in_transaction(database, request_mentor, telegram_id=PERSON, mentor_person_id=mentor, now=now)
    # Reviews: a private partnership with an answered check-in, and a group one that closes at k = 3.
    start = date(2027, 1, 1)
    await act(database, create_partnership, chat_id=PERSON, created_by=PERSON, name="my private partnership",
              partners=["A", "B"], schedule=Schedule("weekly", time(9), "Europe/London", start, weekday=0), now=now)
    await act(database, create_partnership, chat_id=GROUP, created_by=PERSON, name="Riverside group",
              partners=["A", "B"], schedule=Schedule("weekly", time(9), "Europe/London", start, weekday=0), now=now)
    sent_at = datetime(2027, 1, 4, 9, 1, tzinfo=UTC)
    await dispatch_due(database, sent_at, Recorder())
    from tests.reviews.review_support import occurrences
    views = (await act(database, list_partnerships, chat_id=PERSON)
             + await act(database, list_partnerships, chat_id=GROUP))
    for view in views:
        [occ] = [o for o in await occurrences(database, view.partnership.id or 0) if o.status == "sent"]
        people = [(PERSON, "my own check-in worry" if view.partnership.chat_id > 0 else GROUP_COMMENT)]
        if view.partnership.chat_id < 0:
            people += [(93019, "other one"), (93020, None)]
        for user, comment in people:
            progress = await act(database, start_answering, occurrence_id=occ.id or 0, chat_id=view.partnership.chat_id,
                                 user_id=user, now=sent_at)
            for step, question in enumerate(QUESTIONS):
                progress = await act(database, record_score, answer_id=progress.answer_id, user_id=user, step=step,
                                     value=GOOD[question.key])
            await act(database, finish_answering, answer_id=progress.answer_id, user_id=user, comment=comment,
                      now=sent_at)
    # A half-finished set-up left in the chat (conversation state and scratch data).
    mark = bot.fake.mark()
    bot.fake.say(person, "/partnership")
    [asked] = await bot.fake.replies(PERSON, after=mark)
    assert "What's the partnership called" in asked.text
    for _ in range(100):  # the handler marks the scratch data for saving once it returns
        await bot.application.update_persistence()
        async with bot.services.database.session() as session:
            if (await session.exec(select(PersistedState).where(PersistedState.key == str(PERSON)))).first():
                break
        await asyncio.sleep(0.05)
    return person_id


def traces(tables: dict[str, list[dict[str, object]]], person_id: int) -> list[tuple[str, str]]:
    """Every cell that names the person, carries their id or holds words only they typed."""
    found = []
    for name, rows in tables.items():
        for row in rows:
            for column, value in row.items():
                cell = str(value)
                linked = column in ("person_id", "mentee_id", "mentor_id") and value == person_id
                if (linked or value == PERSON or str(PERSON) in cell or NAME in cell or USERNAME in cell
                        or any(words in cell for words in PRIVATE_WORDS) or GROUP_COMMENT in cell):
                    found.append((name, column))
    return found


@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")
async def test_forget_leaves_nothing_but_the_anonymous_group_record(bot: Harness) -> None:
    bot.services.clock = lambda: datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    person = bot.fake.person(PERSON, NAME, USERNAME)
    person_id = await use_every_feature(bot, person)
    before = traces(await dump_every_table(bot), person_id)
    touched = {table for table, _ in before}
    assert {"question_log", "answer_vote", "panel_question", "kb_draft", "mentoring_person", "mentoring_profile",
            "mentor_match", "review_partnership", "review_answer", "persisted_state"} <= touched, touched

    # /mydata shows everything /forget is about to delete.
    mark = bot.fake.mark()
    bot.fake.say(person, "/mydata")
    [document] = await bot.fake.replies(PERSON, after=mark)
    exported = json.dumps(json.loads(document.file_bytes), ensure_ascii=False)
    for words in (*PRIVATE_WORDS, GROUP_COMMENT, "Quill Trust", "Riverside group"):
        assert words in exported, words
    assert "knowledge_base_drafts_from_your_questions" in exported and "saved_conversation_steps" in exported

    # /forget names what will go, and what stays with the group, before anything is deleted.
    mark = bot.fake.mark()
    bot.fake.say(person, "/forget")
    [confirm] = await bot.fake.replies(PERSON, after=mark)
    assert "my private partnership" in confirm.text and "stay with their group" in confirm.text
    assert "Riverside group" in confirm.text and "knowledge-base draft" in confirm.text
    assert "buddy profile" in confirm.text and "panel" in confirm.text
    mark = bot.fake.mark()
    bot.fake.press(person, confirm, "Yes, delete my data")
    done = [s for s in await bot.fake.replies(PERSON, after=mark) if "deleted everything" in s.text]
    assert done
    # The bot's own panel post no longer carries the name or the words.
    assert await bot.fake.api_wait(lambda: any(
        s.method == "editMessageText" and s.chat_id == PANEL_CHAT_ID and "withdrawn" in s.text
        for s in bot.fake.api.outbox[mark:]))
    [edit] = [s for s in bot.fake.api.outbox[mark:] if s.method == "editMessageText" and s.chat_id == PANEL_CHAT_ID]
    assert NAME not in edit.text and "tomatoes" not in edit.text

    tables = await dump_every_table(bot)
    left = traces(tables, person_id)
    # Only the closed group round's fixed summary keeps the comment, with no name or id (as /privacy says).
    assert left == [("review_round_summary", "comments")], left
    [group] = [p for p in tables["review_partnership"] if p["chat_id"] == GROUP]
    assert group["created_by"] is None  # the group's partnership stays with the group
    [draft] = tables["kb_draft"]
    assert draft["answer"] == "Try a trough." and draft["panel_reply_id"] is None
    [summary] = [s for s in tables["review_round_summary"] if s["partnership_id"] == group["id"]]
    assert summary["respondents"] == 3  # the closed summary did not change
    rows = await act(bot.services.database, history, partnership_id=group["id"])  # type: ignore[arg-type]
    assert rows[0].respondents == 3 and rows[0].averages and GROUP_COMMENT in rows[0].comments
