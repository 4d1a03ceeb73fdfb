"""The web console through httpx's ASGI transport: sign-in, expiry, CSRF, refusal without a session, and
every page with the data an admin would look for."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from html import unescape
from pathlib import Path

import pytest

from bot.console import views
from bot.console.web import COOKIE, PAGES
from bot.questions.asking import QuestionOutcome
from bot.questions.usage import count_question
from bot.reviews.checkins import close_expired_checkins
from bot.reviews.partnerships import create_partnership
from bot.reviews.schedule import Schedule
from db.models import AnswerVote, KnowledgeDraft, QuestionLog
from db.review_models import Partnership, ReviewAnswer, ReviewOccurrence
from tests.conftest import ADMIN_ID
from tests.console.console_support import START, ConsoleHarness, console_harness, csrf_of

GET_PAGES = ["/", *(href for href, _ in PAGES), "/entries/new", "/entries/bot-mentor-offer", "/mentors/match",
             "/ask?q=what+is+an+mou"]
POSTS = {"/entries/new": {"id": "x-y-z"}, "/entries/bot-mentor-offer": {"question": "x"}, "/mentors/match": {},
         "/signout": {}}

NEW_ENTRY = {
    "id": "console-trial-entry",
    "theme": "getting-started",
    "question": "Can our allotment society share a polytunnel with the youth club?",
    "alternates": "sharing a polytunnel with another group\npolytunnel shared by two groups\n"
                  "can two groups use one polytunnel\nallotment society and youth club polytunnel",
    "keywords": "polytunnel, allotment",
    "answer": "Yes: agree in writing who pays for repairs, who holds the key and when each group uses it. "
              "A one-page memorandum of understanding is enough.",
    "source": "PartnerBot",
    "related": "bot-what-can-you-do",
}


@pytest.fixture
async def web(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    async with console_harness(db_url, tmp_path) as harness:
        yield harness


# -- refusal without a session -----------------------------------------------------------------------
async def test_every_page_refuses_without_a_session_and_shows_no_data(web: ConsoleHarness) -> None:
    async with web.services.database.session() as session:
        session.add(QuestionLog(text="where do we find a secret funder", outcome="decline", asked_at=START))
        await session.commit()
    for path in GET_PAGES:
        response = await web.client.get(path)
        assert response.status_code == 401, path
        assert "Please sign in" in response.text and "/console" in response.text
        assert "secret funder" not in response.text and "Sign out" not in response.text
        assert "memorandum" not in response.text.lower()  # no entry text either
    for path, data in POSTS.items():
        response = await web.client.post(path, data=data)
        assert response.status_code == 401, path
    # A made-up or malformed cookie is no session either.
    web.client.cookies.set(COOKIE, "x" * 43)
    assert (await web.client.get("/questions")).status_code == 401
    web.client.cookies.set(COOKIE, "\x00' OR 1=1 --")
    assert (await web.client.get("/questions")).status_code == 401


# -- sign-in -------------------------------------------------------------------------------------------
async def test_a_link_signs_in_once_and_looking_at_it_spends_nothing(web: ConsoleHarness) -> None:
    token = await web.new_link(START)
    for _ in range(2):  # a link preview or a mail scanner fetching the page does not use the link up
        page = await web.client.get(f"/signin?t={token}")
        assert page.status_code == 200 and 'action="/signin"' in page.text
    done = await web.client.post("/signin", data={"t": token})
    assert done.status_code == 303
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=28800" in cookie
    assert (await web.client.get("/questions")).status_code == 200

    other = web.client.__class__(transport=web.client._transport, base_url="http://testserver")
    async with other:
        again = await other.post("/signin", data={"t": token})
        assert again.status_code == 403 and "cannot be used" in again.text and COOKIE not in again.headers.get(
            "set-cookie", "")
        assert (await other.get(f"/signin?t={token}")).status_code == 403
        assert (await other.get("/questions")).status_code == 401
    for bad in ("", "nonsense", "a" * 500, "%00"):
        assert (await web.client.post("/signin", data={"t": bad})).status_code == 403


async def test_links_expire_after_ten_minutes_and_sessions_after_eight_hours(web: ConsoleHarness) -> None:
    token = await web.new_link(START)
    web.move_to(START + timedelta(minutes=10, seconds=1))
    assert (await web.client.get(f"/signin?t={token}")).status_code == 403
    assert (await web.client.post("/signin", data={"t": token})).status_code == 403
    assert (await web.client.get("/")).status_code == 401

    web.move_to(START + timedelta(hours=1))
    await web.sign_in()
    web.move_to(START + timedelta(hours=8, minutes=59))
    assert (await web.client.get("/usage")).status_code == 200
    web.move_to(START + timedelta(hours=9, seconds=1))
    expired = await web.client.get("/usage")
    assert expired.status_code == 401 and "Questions a day" not in expired.text


async def test_signing_out_ends_the_session_even_for_a_copied_cookie(web: ConsoleHarness) -> None:
    csrf = await web.sign_in()
    cookie = web.client.cookies.get(COOKIE)
    assert (await web.client.post("/signout", data={"csrf": csrf})).status_code == 200
    web.client.cookies.set(COOKIE, cookie or "")
    assert (await web.client.get("/")).status_code == 401


# -- CSRF ----------------------------------------------------------------------------------------------
async def test_every_form_needs_the_sessions_csrf_secret(web: ConsoleHarness) -> None:
    csrf = await web.sign_in()
    theme_file = web.kb_dir / "themes" / "getting-started.yaml"
    before = theme_file.read_bytes()
    for given in (None, "", "forged", csrf[:-1] + ("A" if csrf[-1] != "A" else "B")):
        data = dict(NEW_ENTRY) | ({"csrf": given} if given is not None else {})
        refused = await web.client.post("/entries/new", data=data)
        assert refused.status_code == 403 and "did not come from the console" in refused.text
    assert theme_file.read_bytes() == before
    refused = await web.client.post("/mentors/import", files={"file": ("p.csv", b"role,name\n")})
    assert refused.status_code == 403
    assert (await web.client.post("/signout", data={"csrf": "nope"})).status_code == 403
    assert (await web.client.get("/")).status_code == 200  # still signed in

    # Another session's secret does not work in this one.
    token = await web.new_link(START)
    other = web.client.__class__(transport=web.client._transport, base_url="http://testserver")
    async with other:
        await other.post("/signin", data={"t": token})
        other_csrf = csrf_of((await other.get("/")).text)
    assert other_csrf != csrf
    assert (await web.client.post("/entries/new", data=NEW_ENTRY | {"csrf": other_csrf})).status_code == 403


# -- pages -----------------------------------------------------------------------------------------------
async def test_the_home_page_links_to_every_page_and_each_answers(web: ConsoleHarness) -> None:
    await web.sign_in()
    home = await web.client.get("/")
    for href, name in PAGES:
        assert f'href="{href}"' in home.text, name
        page = await web.client.get(href)
        assert page.status_code == 200, href
        assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
        assert 'name="viewport"' in page.text  # readable on a phone
    assert (await web.client.get("/nowhere")).status_code == 404


async def test_questions_show_grouped_gaps_and_drafts_each_with_write_an_entry(web: ConsoleHarness) -> None:
    async with web.services.database.session() as session:
        for text in ("how do we share data with the council", "sharing data with the council?",
                     "How do we share data with the council", "can we hire a minibus together"):
            session.add(QuestionLog(text=text, outcome="decline", asked_at=START - timedelta(days=1)))
        session.add(QuestionLog(text="an old question from last year", outcome="decline",
                                asked_at=START - timedelta(days=200)))
        session.add(KnowledgeDraft(question="Can a lead partner charge a management fee?",
                                   answer="Yes, most consortia agree a fee of a few per cent to cover "
                                          "the lead's costs."))
        await session.commit()
    await web.sign_in()
    page = (await web.client.get("/questions")).text
    assert page.index("how do we share data with the council") < page.index("can we hire a minibus together")
    assert "asked 3×" in page and "asked 1×" in page
    assert "an old question from last year" not in page
    assert "/entries/new?question=how%20do%20we%20share%20data%20with%20the%20council" in page
    assert "Can a lead partner charge a management fee?" in page and "/entries/new?draft=1" in page
    assert "an old question from last year" in (await web.client.get("/questions?days=365")).text

    prefilled = (await web.client.get("/entries/new?question=can%20we%20hire%20a%20minibus%20together")).text
    assert 'value="can we hire a minibus together"' in prefilled
    from_draft = (await web.client.get("/entries/new?draft=1")).text
    assert "management fee?" in from_draft and "few per cent" in from_draft


async def test_a_new_entry_is_checked_written_reloaded_and_answered(web: ConsoleHarness) -> None:
    csrf = await web.sign_in()
    question = "can two groups share one polytunnel"
    assert web.services.matcher.ask(question).kind != "answer"
    theme_file = web.kb_dir / "themes" / "getting-started.yaml"
    before = theme_file.read_text(encoding="utf-8")

    saved = await web.client.post("/entries/new", data=NEW_ENTRY | {"csrf": csrf})
    assert saved.status_code == 303 and saved.headers["location"].startswith("/entries/console-trial-entry?saved=added")
    after = theme_file.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")) and "- id: console-trial-entry" in after  # the rest untouched
    assert web.services.kb.get("console-trial-entry") is not None  # reloaded in the running services
    shown = await web.client.get(saved.headers["location"])
    assert "Added." in shown.text and "The bot now answers from" in shown.text

    answered = await web.client.get("/ask", params={"q": question})
    assert "answers</strong> with" in answered.text and "console-trial-entry" in answered.text
    found = await web.client.get("/entries", params={"q": "polytunnel"})
    assert "/entries/console-trial-entry" in found.text and "1 of" in found.text

    # Edited: only that entry's block changes.
    edit = NEW_ENTRY | {"csrf": csrf, "answer": NEW_ENTRY["answer"] + " Review it each spring."}
    assert (await web.client.post("/entries/console-trial-entry", data=edit)).status_code == 303
    edited = theme_file.read_text(encoding="utf-8")
    assert edited.startswith(before.rstrip("\n")) and "Review it each spring." in edited
    assert web.services.kb.get("console-trial-entry").answer.endswith("Review it each spring.")  # type: ignore[union-attr]


async def test_a_bad_entry_is_refused_with_reasons_and_nothing_is_written(web: ConsoleHarness) -> None:
    csrf = await web.sign_in()
    themes = web.kb_dir / "themes"
    before = {path.name: path.read_bytes() for path in themes.glob("*.yaml")}
    kb_before = web.services.kb
    cases = {
        "alternates": (NEW_ENTRY | {"alternates": "only one way"}, "alternates"),
        "related": (NEW_ENTRY | {"related": "no-such-entry"}, "related 'no-such-entry' does not exist"),
        "duplicate id": (NEW_ENTRY | {"id": "bot-mentor-offer"}, "already used"),
        "near duplicate": (NEW_ENTRY | {"question": "How do I offer to be a mentor, or change my mentor profile?"},
                           "nearly the same question"),
        "source": (NEW_ENTRY | {"source": "made-up.txt: Nowhere"}, "not a seed file"),
        "theme": (NEW_ENTRY | {"theme": "../../etc"}, "choose one of the themes"),
        "bad id": (NEW_ENTRY | {"id": "Not An Id!"}, "id"),
        "nul byte": (NEW_ENTRY | {"question": "\x00\x00"}, "question"),
        "template outside the folder": (NEW_ENTRY | {"document": "../../../etc/passwd"}, "only the file name"),
        "missing template": (NEW_ENTRY | {"document": "no-such-template.docx"}, "not found in templates/"),
    }
    for name, (data, reason) in cases.items():
        refused = await web.client.post("/entries/new", data=data | {"csrf": csrf})
        assert refused.status_code == 422, name
        assert "Nothing was saved" in refused.text and reason in unescape(refused.text), (name, refused.text[-800:])
        assert 'value="Can our allotment society' in refused.text or name in ("near duplicate", "nul byte")
    assert {path.name: path.read_bytes() for path in themes.glob("*.yaml")} == before
    assert web.services.kb is kb_before
    long_answer = NEW_ENTRY | {"answer": "x" * 5000, "csrf": csrf}
    assert (await web.client.post("/entries/new", data=long_answer)).status_code == 422


async def test_ask_runs_the_real_matcher(web: ConsoleHarness) -> None:
    await web.sign_in()
    mou = await web.client.get("/ask", params={"q": "what goes in a memorandum of understanding"})
    expected = web.services.matcher.ask("what goes in a memorandum of understanding")
    assert expected.kind == "answer" and expected.best is not None
    assert f"/entries/{expected.best.entry.id}" in mou.text and "answers</strong>" in mou.text
    off = await web.client.get("/ask", params={"q": "how do I change a car tyre"})
    assert "declines" in off.text and "Write an entry" in off.text
    hostile = await web.client.get("/ask", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in hostile.text and "&lt;script&gt;" in hostile.text


async def test_feedback_lists_votes_worst_first(web: ConsoleHarness) -> None:
    async with web.services.database.session() as session:
        for user, entry, helpful in ((1, "bot-mentor-offer", False), (2, "bot-mentor-offer", False),
                                     (3, "bot-mentor-offer", True), (1, "bot-what-can-you-do", True),
                                     (2, "bot-what-can-you-do", True), (4, "gone-entry", False)):
            session.add(AnswerVote(user_id=user, entry_id=entry, helpful=helpful, voted_at=START))
        await session.commit()
    await web.sign_in()
    page = (await web.client.get("/feedback")).text
    assert page.index("bot-mentor-offer") < page.index("gone-entry") < page.index("bot-what-can-you-do")
    assert "(entry since removed)" in page


CSV = ("role,name,telegram,organisation,org_type,region,topics,capacity,story\n"
       "mentor,Tom,1001,Age Concern,Charity,London,Data sharing;statutory,2,Shared data with the NHS.\n"
       "mentor,Priya,@priya_m,Bolton CVS,charity,London,data sharing,2,We merged.\n"
       "mentee,Bea,2002,Third Space,social enterprise,London,gdpr,,\n"
       "mentee,Ade,@ade_k,Small Steps,community group,London,data sharing,,\n"
       "mentee,Cy,@cy_p,X Org,charity,Atlantis,due diligence,,\n")


async def test_mentors_import_report_people_and_a_reachable_cohort_match(web: ConsoleHarness) -> None:
    csrf = await web.sign_in()
    report = await web.client.post("/mentors/import", data={"csrf": csrf},
                                   files={"file": ("people.csv", CSV.encode(), "text/csv")})
    assert report.status_code == 200
    assert "Imported: 4 new, 0 updated, 0 unchanged." in report.text and "line 6: unknown region" in report.text

    people = (await web.client.get("/mentors")).text
    assert "Working with statutory bodies" in people and "Data sharing and protection" in people  # whole topics
    assert "0 of 2" in people and "has not opened the bot yet" in people

    preview = await web.client.get("/mentors/match")
    text = preview.text
    assert "1 of 1 waiting mentees can be matched" in text
    assert "<td>2002</td><td>1001</td>" in text
    assert "Not included" in text and "@ade_k: has not opened the bot yet" in text
    assert "@priya_m: has not opened the bot yet" in text
    fingerprint = text.split('name="fingerprint" value="')[1].split('"')[0]

    applied = await web.client.post("/mentors/match", data={"csrf": csrf, "fingerprint": fingerprint})
    assert applied.status_code == 200 and "Sent 1 suggestion(s)" in applied.text
    matches = (await web.client.get("/mentors")).text
    assert "<td>2002</td><td>1001</td><td>proposed</td>" in matches
    # Applying a stale preview sends nothing and shows what changed.
    stale = await web.client.post("/mentors/match", data={"csrf": csrf, "fingerprint": fingerprint})
    assert stale.status_code == 409 and "Nothing was sent" in stale.text

    empty = await web.client.post("/mentors/import", data={"csrf": csrf},
                                  files={"file": ("x.csv", b"\xff\xfe\x00garbage", "text/csv")})
    assert empty.status_code == 400 and "Cannot import x.csv" in empty.text  # one clear line, never a crash


async def _checkin(web: ConsoleHarness, partnership_id: int, when: date, answers: int) -> None:
    async with web.services.database.session() as session:
        occurrence = ReviewOccurrence(partnership_id=partnership_id, slot_date=when,
                                      slot_at=START - timedelta(days=(START.date() - when).days),
                                      due_at=START - timedelta(days=(START.date() - when).days), status="sent",
                                      sent_at=START - timedelta(days=(START.date() - when).days))
        session.add(occurrence)
        await session.flush()
        for person in range(answers):
            session.add(ReviewAnswer(occurrence_id=occurrence.id or 0, partnership_id=partnership_id,
                                     user_id=100 + person, scores=json.dumps({"purpose": 2 + person % 2}),
                                     completed_at=START))
        await session.commit()
    # The round closes as the bot closes it (48 hours on), which fixes its anonymous summary.
    async with web.services.database.transaction() as session:
        await close_expired_checkins(session=session, now=START + timedelta(days=60))


async def test_partnerships_show_schedules_nudges_pauses_and_no_small_group_figures(web: ConsoleHarness) -> None:
    schedule = Schedule("monthly", time(9, 0), "Europe/London", date(2027, 3, 1), day=-1)
    async with web.services.database.transaction() as session:
        active, _ = await create_partnership(session=session, chat_id=-100555, created_by=7,
                                             name="Riverside Consortium", partners=["Age Concern", "Small Steps"],
                                             schedule=schedule, now=START)
        paused, _ = await create_partnership(session=session, chat_id=-100556, created_by=7, name="Hill Trust",
                                             partners=[], schedule=schedule, now=START)
    async with web.services.database.session() as session:
        row = await session.get(Partnership, paused.id)
        assert row is not None
        row.status, row.paused_reason = "paused", "Telegram says the bot was removed from the group"
        session.add(row)
        await session.commit()
    await _checkin(web, active.id or 0, date(2027, 1, 31), answers=3)
    await _checkin(web, active.id or 0, date(2027, 2, 28), answers=2)
    await web.sign_in()
    page = (await web.client.get("/partnerships")).text
    assert "Riverside Consortium" in page and "monthly on the last day of the month at 09:00 (Europe/London)" in page
    assert "Next nudge: Wed 31 Mar 2027, 09:00" in page
    assert "Paused: Telegram says the bot was removed from the group" in page
    february = page[page.index("Sun 28 Feb 2027"):page.index("Sun 31 Jan 2027")]
    assert "2 answered" in february and "no figures shown" in february and "Purpose" not in february
    january = page[page.index("Sun 31 Jan 2027"):]
    assert "3 answered" in january and "Purpose 2.33" in january


async def test_usage_charts_questions_a_day_by_outcome(web: ConsoleHarness) -> None:
    for outcome, times, day in ((QuestionOutcome.ANSWER, 3, 0), (QuestionOutcome.DECLINE, 1, 0),
                                (QuestionOutcome.SUGGEST, 2, 1), (QuestionOutcome.ANSWER, 1, 40)):
        for _ in range(times):
            async with web.services.database.transaction() as session:
                await count_question(session=session, outcome=outcome, now=START - timedelta(days=day))
    await web.sign_in()
    page = (await web.client.get("/usage")).text
    assert "3 answered, 2 offered “did you mean”, 1 declined." in page
    assert "<svg" in page and "01 Mar: 3 answered" in page and "28 Feb: 2 did you mean" in page
    assert "4 answered" in (await web.client.get("/usage?days=60")).text


async def test_forget_signs_an_admin_out_and_mydata_lists_their_console_use(web: ConsoleHarness) -> None:
    from bot.privacy.gather import export_everything, forget_everything

    await web.sign_in()
    async with web.services.database.transaction() as session:
        exported = await export_everything(session=session, user_id=ADMIN_ID, conversation={})
    assert len(exported["console"]["sessions"]) == 1 and exported["console"]["sign_in_links"][0]["used"] is True
    assert "token" not in json.dumps(exported["console"])
    async with web.services.database.transaction() as session:
        await forget_everything(session=session, user_id=ADMIN_ID)
    assert (await web.client.get("/")).status_code == 401
    async with web.services.database.transaction() as session:
        exported = await export_everything(session=session, user_id=ADMIN_ID, conversation={})
    assert exported["console"] == {"sign_in_links": [], "sessions": []}


async def test_the_webhook_may_not_take_a_console_path(db_url: str) -> None:
    from bot.console.server import ConsoleSetupError, run_bot_with_console
    from bot.core.startup import prepare
    from tests.conftest import make_settings

    for url in ("https://bot.example.org/", "https://bot.example.org/questions", "https://bot.example.org/static/x"):
        settings = make_settings(db_url, webhook_url=url, webhook_secret="s3cret", web_port="8099")
        services = await prepare(settings)
        try:
            with pytest.raises(ConsoleSetupError, match=r"Setting WEBHOOK_URL: .* such as /telegram"):
                await run_bot_with_console(object(), services, [])
        finally:
            await services.database.dispose()


async def test_ask_shows_the_answer_as_the_bot_formats_it(web: ConsoleHarness) -> None:
    await web.sign_in()
    outcome = web.services.matcher.ask("what goes in a memorandum of understanding")
    assert outcome.best is not None and "**" in outcome.best.entry.answer
    page = await web.client.get("/ask", params={"q": "what goes in a memorandum of understanding"})
    assert "<b>" in page.text and "**" not in page.text.split('class="answer"')[1]


async def test_the_bot_counts_every_question_for_the_usage_chart(bot, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """Answered, "did you mean" and declined questions are tallied in memory and saved by a job: counts only."""
    from sqlmodel import select

    from db.models import QuestionDay

    person = bot.fake.person(4100, "Kim")
    for number, text in enumerate(("what goes in a memorandum of understanding", "how do I change a car tyre",
                                   "what goes in a memorandum of understanding"), start=1):
        bot.fake.say(person, text)
        await bot.fake.replies(4100, count=number, timeout=20)
    [job] = bot.application.job_queue.get_jobs_by_name("question-tally")
    await job.run(bot.application)
    async with bot.services.database.session() as session:
        rows = {(r.outcome, r.count) for r in (await session.exec(select(QuestionDay))).all()}
    assert rows == {("answer", 2), ("decline", 1)}
    await job.run(bot.application)  # nothing new: nothing added twice
    async with bot.services.database.session() as session:
        assert sum(r.count for r in (await session.exec(select(QuestionDay))).all()) == 3


async def test_a_tally_that_cannot_be_saved_is_kept_for_the_next_save(web: ConsoleHarness,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    from bot.questions import usage
    from bot.questions.handlers import jobs

    tally = usage.QuestionTally()
    for outcome in ("answer", "answer", "suggest", "not-an-outcome"):
        tally.add(outcome, START)

    async def database_down(**_kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database is down"))

    real = jobs.add_counts
    monkeypatch.setattr(jobs, "add_counts", database_down)
    assert await jobs.flush_tally(tally, web.services.database) == 0 and tally.pending == 3
    monkeypatch.setattr(jobs, "add_counts", real)
    assert await jobs.flush_tally(tally, web.services.database) == 3 and tally.pending == 0
    async with web.services.database.transaction() as session:
        days = await views.usage(session=session, today=START.date(), days=7)
    assert days[-1].counts == {"answer": 2, "suggest": 1, "decline": 0}
