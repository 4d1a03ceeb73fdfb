"""What curators see: grouped unanswered questions (`kb gaps`, /gaps) and panel drafts (`kb drafts`)."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.panel.store import add_reply, create_question, save_draft
from bot.questions.asking import QuestionOutcome, log_question
from bot.questions.gaps import group_questions
from bot.questions.retention import forget_old_identities
from db.engine import Database
from db.migrate import upgrade_database
from db.types import utcnow
from tests.conftest import ADMIN_ID, Harness
from tests.process_support import clean_env, partnerbot_command


def test_similar_questions_are_grouped_and_the_most_asked_comes_first() -> None:
    gaps = group_questions([
        ("how do we share data with the council", 20.0),
        ("what's the weather", 5.0),
        ("How do we share data with the council?", 25.0),
        ("sharing data with the council how do we", 30.0),
        ("", 0.0),
    ])
    assert [(g.count, g.example) for g in gaps] == [(3, "how do we share data with the council"),
                                                    (1, "what's the weather")]
    assert gaps[0].best_score == 30.0


async def _seed(url: str) -> None:
    database = Database(url)
    await upgrade_database(database)
    now = utcnow()
    async with database.transaction() as session:
        for text in ("how to knit a scarf", "how to knit a scarf?", "best pizza in town"):
            await log_question(session=session, user_id=5, text=text, outcome=QuestionOutcome.DECLINE,
                               best_score=10, best_entry_id=None, now=now)
        await log_question(session=session, user_id=5, text="old question", outcome=QuestionOutcome.DECLINE,
                           best_score=1, best_entry_id=None, now=now - timedelta(days=60))
    async with database.transaction() as session:
        question, _ = await create_question(session=session, source_log_id=1, asker_id=5, asker_name=None,
                                            text="how to knit a scarf", panel_chat_id=-1, now=now)
        reply = await add_reply(session=session, question_id=question.id or 0, text="Ask a **knitting** group.",
                                now=now)
        assert reply is not None
        await save_draft(session=session, reply_id=reply.id or 0, now=now)
    await database.dispose()


@pytest.mark.slow
async def test_kb_gaps_and_drafts_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gaps.db'}"
    await _seed(url)
    env = clean_env(tmp_path, DATABASE_URL=url)
    gaps = subprocess.run([*partnerbot_command(), "kb", "gaps", "--days", "30"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert gaps.returncode == 0, gaps.stderr
    lines = gaps.stdout.splitlines()
    assert "2x  how to knit a scarf" in lines[1] and "best pizza" in lines[2]
    assert "old question" not in gaps.stdout
    drafts = subprocess.run([*partnerbot_command(), "kb", "drafts", "--out", "drafts.yaml"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert drafts.returncode == 0, drafts.stderr
    data = yaml.safe_load((tmp_path / "drafts.yaml").read_text())
    [entry] = data["entries"]
    assert entry["question"] == "how to knit a scarf" and "knitting" in entry["answer"]


async def test_askers_are_forgotten_after_30_days(db_url: str) -> None:
    database = Database(db_url)
    await upgrade_database(database)
    now = utcnow()
    async with database.transaction() as session:
        await log_question(session=session, user_id=42, text="recent", outcome=QuestionOutcome.DECLINE,
                           best_score=0, best_entry_id=None, now=now - timedelta(days=29))
        await log_question(session=session, user_id=42, text="old", outcome=QuestionOutcome.DECLINE, best_score=0,
                           best_entry_id=None, now=now - timedelta(days=31))
    async with database.transaction() as session:
        assert await forget_old_identities(session=session, now=now) == 1
    from sqlmodel import select

    from db.models import QuestionLog

    async with database.session() as session:
        rows = {row.text: row.user_id for row in (await session.exec(select(QuestionLog))).all()}
    await database.dispose()
    assert rows == {"recent": 42, "old": None}


async def test_gaps_in_chat_are_for_admins_only(bot: Harness) -> None:
    person, admin = bot.fake.person(801), bot.fake.person(ADMIN_ID, "Admin")
    bot.fake.say(person, "how do I bake sourdough bread")
    await bot.fake.replies(801)
    mark = bot.fake.mark()
    bot.fake.say(person, "/gaps")
    [refused] = await bot.fake.replies(801, after=mark)
    assert "isn't available" in refused.text and "sourdough" not in refused.text
    bot.fake.say(admin, "/gaps")
    [listing] = await bot.fake.replies(ADMIN_ID)
    assert "sourdough" in listing.text


async def test_admins_reload_the_knowledge_base_and_a_broken_one_is_refused(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.core import startup
    from knowledge.loader import KnowledgeError

    person, admin = bot.fake.person(802), bot.fake.person(ADMIN_ID, "Admin")
    bot.fake.say(person, "/reload")
    [refused] = await bot.fake.replies(802)
    assert "isn't available" in refused.text
    old_matcher = bot.services.matcher
    mark = bot.fake.mark()
    bot.fake.say(admin, "/reload")
    [reloaded] = await bot.fake.replies(ADMIN_ID, after=mark)
    assert f"Reloaded: {len(bot.services.kb)} entries" in reloaded.text
    assert bot.services.matcher is not old_matcher

    def broken(*_folders: object) -> None:
        raise KnowledgeError("agreements-and-mous.yaml: entry 'mou-what-is': answer: Field required")

    monkeypatch.setattr(startup, "load_knowledge_base", broken)
    current = bot.services.kb
    mark = bot.fake.mark()
    bot.fake.say(admin, "/reload")
    [kept] = await bot.fake.replies(ADMIN_ID, after=mark)
    assert "kept the current knowledge base" in kept.text and "mou-what-is" in kept.text
    assert bot.services.kb is current


async def test_admins_get_the_drafts_as_a_file(bot: Harness) -> None:
    admin = bot.fake.person(ADMIN_ID, "Admin")
    bot.fake.say(admin, "/drafts")
    [none] = await bot.fake.replies(ADMIN_ID)
    assert "No drafts yet" in none.text
    async with bot.services.database.transaction() as session:
        question, _ = await create_question(session=session, source_log_id=99, asker_id=5, asker_name=None,
                                            text="how to run a raffle", panel_chat_id=-1, now=utcnow())
        reply = await add_reply(session=session, question_id=question.id or 0,
                                text="Check the Gambling Commission rules.", now=utcnow())
        assert reply is not None
        await save_draft(session=session, reply_id=reply.id or 0, now=utcnow())
    mark = bot.fake.mark()
    bot.fake.say(admin, "/drafts")
    [document] = await bot.fake.replies(ADMIN_ID, after=mark)
    assert document.file_name == "drafts.yaml"
    assert yaml.safe_load(document.file_bytes)["entries"][0]["question"] == "how to run a raffle"
