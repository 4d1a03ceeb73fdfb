"""Asking in chat, end to end through the fake Telegram server: answers with sources and follow-ups,
"did you mean", declines, the panel and its replies, groups, inline mode, feedback and long input."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import docx
import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.core import callbacks as cb
from db.engine import Database
from db.models import AnswerVote, KnowledgeDraft, QuestionLog
from tests.conftest import ADMIN_ID, PANEL_CHAT_ID, Harness
from tests.questions.question_support import send_to_panel

OFF_TOPIC = "what's the weather like in Cardiff tomorrow"


def first_suggest_question(bot: Harness) -> str:
    """A short, vague question the engine is unsure about (found, not assumed)."""
    for words in ("partners", "funding", "structure", "review", "conflict", "board", "change",
                  "group", "lead", "risk", "culture", "agreement", "values", "staff"):
        if bot.services.matcher.ask(words).kind == "suggest":
            return words
    raise AssertionError("no vague question leads to 'did you mean'")


async def test_a_question_is_answered_with_its_source_and_follow_ups(bot: Harness) -> None:
    person = bot.fake.person(601, "Ade")
    bot.fake.say(person, "what goes in a memorandum of understanding")
    [answer] = await bot.fake.replies(601)
    assert "memorandum" in answer.text.lower()
    assert "<i>From:" in answer.text and "hact" in answer.text
    labels = [label for label, _ in answer.buttons()]
    assert any(label.startswith("➡️") for label in labels), labels
    assert "👍 Helpful" in labels and "👎 Not helpful" in labels


async def test_pressing_a_follow_up_opens_that_entry(bot: Harness) -> None:
    person = bot.fake.person(602)
    bot.fake.say(person, "what goes in a memorandum of understanding")
    [answer] = await bot.fake.replies(602)
    data = next(d for lbl, d in answer.buttons() if lbl.startswith("➡️"))
    entry = bot.services.kb.get(cb.parse(data).args[0])
    assert entry is not None
    mark = bot.fake.mark()
    bot.fake.press(person, answer, data)
    [followed] = await bot.fake.replies(602, after=mark)
    assert entry.question.split()[0] in followed.text and "<i>From:" in followed.text


async def test_did_you_mean_is_resolved_by_a_tap(bot: Harness) -> None:
    person = bot.fake.person(603)
    bot.fake.say(person, first_suggest_question(bot))
    [unsure] = await bot.fake.replies(603)
    assert "Did you mean" in unsure.text
    choices = [(lbl, d) for lbl, d in unsure.buttons() if d.startswith("e:")]
    assert 1 <= len(choices) <= 3
    mark = bot.fake.mark()
    bot.fake.press(person, unsure, choices[0][1])
    [answer] = await bot.fake.replies(603, after=mark)
    assert "<i>From:" in answer.text


async def test_a_decline_is_honest_and_reaches_the_panel_with_consent(bot: Harness) -> None:
    person = bot.fake.person(604, "Nia")
    bot.fake.say(person, OFF_TOPIC)
    [decline] = await bot.fake.replies(604)
    assert "don't have an answer" in decline.text
    assert "Browse topics" in str(decline.buttons()) and "Ask the panel" in str(decline.buttons())
    mark = bot.fake.mark()
    bot.fake.press(person, decline, "Ask the panel")
    [consent] = await bot.fake.replies(604, after=mark)
    assert "first name" in consent.text
    mark = bot.fake.mark()
    bot.fake.press(person, consent, "anonymously")
    [posted] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    assert "Cardiff" in posted.text and "anonymous" in posted.text and "Nia" not in posted.text
    [sent] = await bot.fake.replies(604, after=mark)
    assert "Sent to the panel" in sent.text

    # A panel member replies to the question: the reply reaches the asker, who can rate it and resolve it.
    expert = bot.fake.person(700, "Expert")
    mark = bot.fake.mark()
    bot.fake.say(expert, "Try the Met Office <b>site</b>, but ask me about partnerships!",
                 chat=bot.fake.group_chat(PANEL_CHAT_ID, "Panel"), reply_to=posted.message_id)
    [relayed] = await bot.fake.replies(604, after=mark)
    assert "panel member answered" in relayed.text and "&lt;b&gt;site&lt;/b&gt;" in relayed.text
    [thanks] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    assert "Passed on" in thanks.text

    # Someone else cannot resolve it; the asker can.
    stranger = bot.fake.person(605)
    resolve = next(d for _, d in relayed.buttons() if d.startswith("px:"))
    tapped = bot.fake.mark()
    bot.fake.api.press(stranger, 604, relayed.message_id, resolve)
    await bot.fake.answered("someone else", after=tapped)
    mark = bot.fake.mark()
    bot.fake.press(person, relayed, "My question is answered")
    [closed] = await bot.fake.replies(604, after=mark)
    assert "marked as answered" in closed.text


async def test_the_name_goes_to_the_panel_only_when_the_asker_agrees(bot: Harness) -> None:
    person = bot.fake.person(606, "Rhiannon")
    bot.fake.say(person, "recommend me a film to watch tonight")
    [decline] = await bot.fake.replies(606)
    mark = bot.fake.mark()
    bot.fake.press(person, decline, "Ask the panel")
    [consent] = await bot.fake.replies(606, after=mark)
    mark = bot.fake.mark()
    bot.fake.press(person, consent, "include my first name")
    bot.fake.press(person, consent, "include my first name")  # a double tap sends it once
    [posted] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    assert "Rhiannon" in posted.text
    assert len(await bot.fake.quiet(PANEL_CHAT_ID, after=mark, by=person)) == 1


async def test_a_forged_panel_button_cannot_send_someone_elses_question(bot: Harness) -> None:
    victim, attacker = bot.fake.person(607), bot.fake.person(608)
    bot.fake.say(victim, "how do i fix my wifi router at home")
    [decline] = await bot.fake.replies(607)
    log_id = cb.parse(next(d for _, d in decline.buttons() if d.startswith("pa:"))).args[0]
    mark = tapped = bot.fake.mark()
    bot.fake.api.press(attacker, 608, 1, cb.make(cb.PANEL_CONSENT, log_id, 1))
    await bot.fake.answered("someone else", after=tapped)
    assert await bot.fake.quiet(PANEL_CHAT_ID, after=mark, by=attacker) == []


async def test_an_unanswered_panel_question_gets_an_apology_after_72_hours(bot: Harness) -> None:
    person = bot.fake.person(609)
    await send_to_panel(bot, person, "where can i buy cheap flights to spain")

    real_clock = bot.services.clock
    bot.services.clock = lambda: real_clock() + timedelta(hours=71)
    job = bot.application.job_queue.get_jobs_by_name("panel-timeouts")[0]
    mark = bot.fake.mark()
    await job.run(bot.application)
    assert await bot.fake.quiet(609, after=mark, by=bot.fake.person(609)) == []
    bot.services.clock = lambda: real_clock() + timedelta(hours=73)
    await job.run(bot.application)
    [sorry] = await bot.fake.replies(609, after=mark)
    assert "sorry" in sorry.text.lower() and "flights" in sorry.text
    await job.run(bot.application)  # told once only
    assert len(await bot.fake.quiet(609, after=mark, by=bot.fake.person(609))) == 1


async def test_an_admin_saves_a_panel_answer_as_a_draft(bot: Harness) -> None:
    person = bot.fake.person(610)
    posted = await send_to_panel(bot, person, "what is the square root of 144")
    mark = bot.fake.mark()
    bot.fake.say(bot.fake.person(701), "Twelve.", chat=bot.fake.group_chat(PANEL_CHAT_ID), reply_to=posted.message_id)
    [thanks] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    tapped = bot.fake.mark()
    bot.fake.press(bot.fake.person(702), thanks, "Save to knowledge base")  # not an admin
    await bot.fake.answered("only admins", after=tapped)
    tapped = bot.fake.mark()
    bot.fake.press(bot.fake.person(ADMIN_ID), thanks, "Save to knowledge base")
    await bot.fake.answered("Saved as draft", after=tapped)
    async with bot.services.database.session() as session:
        drafts = (await session.exec(select(KnowledgeDraft))).all()
    assert [(d.question, d.answer) for d in drafts] == [("what is the square root of 144", "Twelve.")]


async def test_in_a_group_only_ask_mentions_and_replies_are_answered(bot: Harness) -> None:
    group = bot.fake.group_chat(-100777, "Consortium partners")
    person = bot.fake.person(611)
    mark = bot.fake.mark()
    bot.fake.say(person, "what goes in a memorandum of understanding", chat=group)
    assert await bot.fake.quiet(-100777, after=mark, by=person) == []
    bot.fake.say(person, "/ask what goes in a memorandum of understanding", chat=group)
    [answer] = await bot.fake.replies(-100777, after=mark)
    assert "memorandum" in answer.text.lower()
    mark = bot.fake.mark()
    bot.fake.say(person, "@partnerbot_local what is due diligence", chat=group)
    [mentioned] = await bot.fake.replies(-100777, after=mark)
    assert "diligence" in mentioned.text.lower()


async def test_inline_mode_lists_matching_answers_and_popular_ones(bot: Harness) -> None:
    person = bot.fake.person(612)
    bot.fake.api.inline(person, "memorandum of understanding")
    assert await bot.fake.api_wait(lambda: len(bot.fake.api.inline_answers) == 1)
    results = bot.fake.api.inline_answers[0]["results"]
    assert results and "memorandum" in results[0]["title"].lower()
    assert "From:" in results[0]["input_message_content"]["message_text"]
    bot.fake.api.inline(person, "")
    assert await bot.fake.api_wait(lambda: len(bot.fake.api.inline_answers) == 2)
    assert len(bot.fake.api.inline_answers[1]["results"]) >= 5


async def test_inline_mode_still_lists_answers_while_the_database_is_down(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The popular entries need the votes; without them the first entry of each theme still fills the list."""

    @asynccontextmanager
    async def unavailable(_self: Database) -> AsyncIterator[Any]:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down (simulated)"))
        yield  # pragma: no cover

    monkeypatch.setattr(Database, "transaction", unavailable)
    query_id = bot.fake.api.inline(bot.fake.person(620), "")
    assert await bot.fake.api_wait(lambda: any(a["inline_query_id"] == query_id for a in bot.fake.api.inline_answers))
    [answer] = [a for a in bot.fake.api.inline_answers if a["inline_query_id"] == query_id]
    assert len(answer["results"]) >= 5


async def test_a_6000_character_message_is_handled(bot: Harness) -> None:
    person = bot.fake.person(613)
    long_text = "We are a small charity and we want to form a consortium to bid. " * 95
    assert len(long_text) > 6000
    bot.fake.say(person, long_text)
    replies = await bot.fake.replies(613)
    assert "first 1,000 characters" in replies[0].text


async def test_votes_are_recorded_once_per_person_and_entry(bot: Harness) -> None:
    person = bot.fake.person(614)
    bot.fake.say(person, "what goes in a memorandum of understanding")
    [answer] = await bot.fake.replies(614)
    tapped = bot.fake.mark()
    bot.fake.press(person, answer, "👍 Helpful")
    await bot.fake.answered("Glad it helped", after=tapped)
    tapped = bot.fake.mark()
    bot.fake.press(person, answer, "👎 Not helpful")
    await bot.fake.answered("updated your feedback", after=tapped)
    async with bot.services.database.session() as session:
        votes = (await session.exec(select(AnswerVote).where(AnswerVote.user_id == 614))).all()
    assert [v.helpful for v in votes] == [False]


async def test_the_template_comes_as_a_document(bot: Harness) -> None:
    entry = next(e for e in bot.services.kb.entries.values() if e.document)
    person = bot.fake.person(615)
    bot.fake.api.press(person, 615, 1, cb.make(cb.TEMPLATE, entry.id))
    word, markdown = await bot.fake.replies(615, count=2)
    assert markdown.method == "sendDocument" and markdown.file_name == entry.document
    assert len(markdown.file_bytes) > 200
    # The Word copy, made from the same Markdown: it opens in python-docx and holds the template's heading.
    assert word.method == "sendDocument" and word.file_name == entry.document.replace(".md", ".docx")
    document = docx.Document(io.BytesIO(word.file_bytes))
    first_heading = next(line for line in markdown.file_bytes.decode().splitlines() if line.startswith("#"))
    assert first_heading.lstrip("# ").strip() in [p.text for p in document.paragraphs]


async def test_a_button_for_an_entry_that_no_longer_exists_says_so_kindly(bot: Harness) -> None:
    person = bot.fake.person(616)
    bot.fake.api.press(person, 616, 1, cb.make(cb.OPEN_ENTRY, "an-entry-removed-last-month"))
    [reply] = await bot.fake.replies(616)
    assert "no longer" in reply.text and "/topics" in reply.text


async def test_topics_browse_by_theme_then_question(bot: Harness) -> None:
    person = bot.fake.person(617)
    bot.fake.say(person, "/topics")
    [themes] = await bot.fake.replies(617)
    first_theme = bot.services.kb.sorted_themes()[0]
    assert first_theme.title in themes.text or first_theme.title in str(themes.buttons())
    mark = bot.fake.mark()
    bot.fake.press(person, themes, first_theme.title)
    [page] = await bot.fake.replies(617, after=mark)
    assert page.method == "editMessageText" and first_theme.title in page.text
    first_entry = bot.services.kb.get(first_theme.entry_ids[0])
    assert first_entry is not None and any(d == cb.make(cb.OPEN_ENTRY, first_entry.id) for _, d in page.buttons())


async def test_declined_and_unsure_questions_are_logged_for_curators(bot: Harness) -> None:
    person = bot.fake.person(618)
    bot.fake.say(person, OFF_TOPIC)
    await bot.fake.replies(618)
    async with bot.services.database.session() as session:
        rows = (await session.exec(select(QuestionLog).where(QuestionLog.user_id == 618))).all()
    assert [(r.text, r.outcome) for r in rows] == [(OFF_TOPIC, "decline")]


async def test_when_the_panel_cannot_be_reached_the_asker_can_simply_tap_again(bot: Harness) -> None:
    from bot.core.local_api import BotApiError

    person = bot.fake.person(619)
    mark = bot.fake.mark()
    bot.fake.say(person, "how do I grow cucumbers")
    [decline] = await bot.fake.replies(619, after=mark)
    mark = bot.fake.mark()
    bot.fake.press(person, decline, "Ask the panel")
    [consent] = await bot.fake.replies(619, after=mark)
    bot.fake.api.fail_next["sendMessage"] = BotApiError(403, "Forbidden: bot was kicked from the supergroup chat")
    mark = tapped = bot.fake.mark()
    bot.fake.press(person, consent, "anonymously")
    await bot.fake.answered("couldn't reach the panel", after=tapped)
    assert await bot.fake.quiet(PANEL_CHAT_ID, after=mark, by=person) == []
    bot.fake.press(person, consent, "anonymously")
    [posted] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    assert "cucumbers" in posted.text
    tapped = bot.fake.mark()
    bot.fake.press(person, consent, "anonymously")  # a third tap: already there, nothing posted again
    await bot.fake.answered("Already sent", after=tapped)
    assert len(await bot.fake.quiet(PANEL_CHAT_ID, after=mark, by=person)) == 1
