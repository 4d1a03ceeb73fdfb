"""The console served in-process through httpx's ASGI transport, over a temporary copy of the knowledge base."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.console.auth import create_signin
from bot.console.web import Console, create_app
from bot.core.services import Services
from bot.core.startup import prepare
from db.engine import Database
from knowledge.loader import KNOWLEDGE_DIR
from tests.conftest import ADMIN_ID, make_settings

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def copy_knowledge(to: Path) -> Path:
    """A private copy of themes/ and templates/: tests write entries here, never into the repository."""
    shutil.copytree(KNOWLEDGE_DIR / "themes", to / "themes")
    shutil.copytree(KNOWLEDGE_DIR / "templates", to / "templates")
    return to


@dataclass
class ConsoleHarness:
    client: httpx.AsyncClient
    services: Services
    console: Console
    kb_dir: Path
    clock: list[datetime] = field(default_factory=lambda: [START])

    def move_to(self, instant: datetime) -> None:
        self.clock[0] = instant

    async def new_link(self, now: datetime | None = None) -> str:
        """A fresh one-time sign-in token for the admin, as /console makes one."""
        async with self.services.database.transaction() as session:
            return await create_signin(session=session, admin_id=ADMIN_ID, now=now or self.clock[0])

    async def sign_in(self) -> str:
        """Sign in with a fresh one-time link; returns the session's CSRF secret (from the home page)."""
        token = await self.new_link()
        shown = await self.client.get(f"/signin?t={token}")
        assert shown.status_code == 200 and "Sign in" in shown.text
        done = await self.client.post("/signin", data={"t": token})
        assert done.status_code == 303 and done.headers["location"] == "/"
        return csrf_of((await self.client.get("/")).text)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@asynccontextmanager
async def console_harness(db_url: str, tmp_path: Path) -> AsyncIterator[ConsoleHarness]:
    kb_dir = copy_knowledge(tmp_path / "kb")
    settings = make_settings(db_url, knowledge_dir=str(kb_dir), telegram_bot_token="")
    services = await prepare(settings)
    clock = [START]
    services.clock = lambda: clock[0]
    console = Console(services=services)
    transport = httpx.ASGITransport(app=create_app(console))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield ConsoleHarness(client, services, console, kb_dir, clock)
    finally:
        await services.database.dispose()


DEMO_CSV = ("role,name,telegram,organisation,org_type,region,topics,capacity,story\n"
            "mentor,Tom,1001,Age Concern,Charity,London,Data sharing;statutory,2,Shared data with the NHS.\n"
            "mentor,Priya,@priya_m,Bolton CVS,charity,North West,due diligence;MoU,2,We merged.\n"
            "mentee,Bea,2002,Third Space,social enterprise,London,gdpr,,Starting a data-sharing agreement.\n"
            "mentee,Ade,@ade_k,Small Steps,community group,North West,MoU,,Signing an MoU soon.\n")


async def seed_demo(database: Database, now: datetime) -> None:
    """A little of everything the console shows: gaps, a draft, votes, people, partnerships, usage."""
    import json
    from datetime import time, timedelta

    from bot.mentoring.csv_import import import_rows, parse_csv
    from bot.questions.asking import QuestionOutcome
    from bot.questions.usage import count_question
    from bot.reviews.checkins import close_expired_checkins
    from bot.reviews.partnerships import create_partnership, pause
    from bot.reviews.schedule import Schedule
    from db.models import AnswerVote, KnowledgeDraft, QuestionLog
    from db.review_models import ReviewAnswer, ReviewOccurrence

    async with database.session() as session:
        for days, text in ((1, "how do we share data with the council"), (2, "sharing data with the council?"),
                           (3, "can we hire a minibus together"), (1, "who pays the auditor in a consortium")):
            session.add(QuestionLog(text=text, outcome="decline", asked_at=now - timedelta(days=days)))
        session.add(KnowledgeDraft(question="Can a lead partner charge a management fee?",
                                   answer="Yes: most consortia agree a small fee to cover the lead's costs.",
                                   saved_at=now))
        for user, entry, helpful in ((1, "bot-mentor-offer", False), (2, "bot-mentor-offer", False),
                                     (3, "bot-what-can-you-do", True)):
            session.add(AnswerVote(user_id=user, entry_id=entry, helpful=helpful, voted_at=now))
        await session.commit()
    rows, _ = parse_csv(DEMO_CSV)
    async with database.transaction() as session:
        await import_rows(session=session, rows=rows, now=now)
    schedule = Schedule("monthly", time(9, 0), "Europe/London", now.date().replace(day=1), day=-1)
    async with database.transaction() as session:
        active, _ = await create_partnership(session=session, chat_id=-100555, created_by=7,
                                             name="Riverside Consortium", partners=["Age Concern", "Small Steps"],
                                             schedule=schedule, now=now)
        paused, _ = await create_partnership(session=session, chat_id=-100556, created_by=7, name="Hill Trust",
                                             partners=["Hill Trust", "Valley Foodbank"], schedule=schedule, now=now)
        await pause(session=session, partnership_id=paused.id or 0, chat_id=-100556, now=now,
                    reason="Telegram says the bot was removed from the group")
    async with database.session() as session:
        for back, answers in ((60, 4), (30, 2)):
            slot = now - timedelta(days=back)
            occurrence = ReviewOccurrence(partnership_id=active.id or 0, slot_date=slot.date(), slot_at=slot,
                                          due_at=slot, sent_at=slot, status="sent")
            session.add(occurrence)
            await session.flush()
            for person in range(answers):
                session.add(ReviewAnswer(occurrence_id=occurrence.id or 0, partnership_id=active.id or 0,
                                         user_id=100 + person, completed_at=slot,
                                         scores=json.dumps({"purpose": 3 + person % 2, "roles": 4})))
        await session.commit()
    async with database.transaction() as session:  # as the bot closes rounds, fixing their anonymous summaries
        await close_expired_checkins(session=session, now=now)
    for back in range(14):
        for outcome, count in ((QuestionOutcome.ANSWER, 3 + back % 4), (QuestionOutcome.SUGGEST, back % 3),
                               (QuestionOutcome.DECLINE, 1 + back % 2)):
            for _ in range(count):
                async with database.transaction() as session:
                    await count_question(session=session, outcome=outcome, now=now - timedelta(days=back))
