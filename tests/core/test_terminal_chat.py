"""The terminal chat runs the same flows as Telegram: answers with buttons, did-you-mean, the panel
(with ::panel standing in for a panel member), groups (::group) and inline mode (::inline)."""

from __future__ import annotations

import io

from bot.core.startup import prepare
from bot.terminal import TerminalChat
from tests.conftest import PANEL_CHAT_ID, make_settings


async def _chat(db_url: str, lines: list[str]) -> str:
    services = await prepare(make_settings(db_url, panel_chat_id=PANEL_CHAT_ID, telegram_bot_token=None))
    out = io.StringIO()
    async with TerminalChat(services, out, name="Tess") as chat:
        for line in lines:
            await chat.handle_line(line)
    await services.database.dispose()
    return out.getvalue()


async def test_question_follow_up_and_template_in_the_terminal(db_url: str) -> None:
    text = await _chat(db_url, ["what goes in a memorandum of understanding", "1", "99"])
    assert "From:" in text and "[1] ➡️" in text and "👍 Helpful" in text
    assert "(you pressed: ➡️" in text
    assert "There is no button 99" in text


async def test_decline_panel_and_relayed_reply_in_the_terminal(db_url: str) -> None:
    text = await _chat(db_url, ["what's the weather like", "2", "2", "::panel Ask a meteorologist <b>please</b>"])
    assert "don't have an answer" in text
    assert f"bot → chat {PANEL_CHAT_ID}: ❓ Question #1 from someone (anonymous)" in text
    assert "A panel member answered your question #1" in text
    assert "Ask a meteorologist <b>please</b>" in text  # shown as typed: escaped for Telegram, unescaped here


async def test_groups_and_inline_mode_in_the_terminal(db_url: str) -> None:
    text = await _chat(db_url, ["::group what is due diligence", "::group /ask what is due diligence",
                                "::inline memorandum", "::help"])
    assert text.count("bot → group:") == 1
    assert "inline results:" in text and "memorandum" in text.split("inline results:")[1].lower()
    assert "::panel TEXT" in text


async def test_terminal_chat_sends_only_its_own_persons_nudges(db_url: str) -> None:
    """A terminal session on a shared database must not take the real bot's nudges for other chats."""
    from datetime import date, time, timedelta

    from bot.terminal import LOCAL_USER_ID
    from db.types import utcnow
    from tests.reviews.review_support import add_weekly, occurrences

    services = await prepare(make_settings(db_url, telegram_bot_token=None))
    now = utcnow()
    mine = await add_weekly(services.database, chat_id=LOCAL_USER_ID, now=now, weekday=now.weekday(), at=time(9),
                            start=date.today() - timedelta(days=14), zone="UTC")
    theirs = await add_weekly(services.database, chat_id=4242, now=now, weekday=now.weekday(), at=time(9),
                              start=date.today() - timedelta(days=14), zone="UTC", name="Elsewhere")
    services.clock = lambda: now + timedelta(days=8)
    out = io.StringIO()
    async with TerminalChat(services, out, name="Tess") as chat:
        [job] = chat.application.job_queue.get_jobs_by_name("review-dispatch")
        await job.run(chat.application)
        chat.flush()
    statuses = {o.partnership_id: o.status for o in await occurrences(services.database, theirs)}
    sent_mine = [o.status for o in await occurrences(services.database, mine)]
    await services.database.dispose()
    assert out.getvalue().count("Check-in time") == 1
    assert "sent" in sent_mine
    assert statuses == {theirs: "pending"}


async def test_the_mentor_walkthrough_plays_both_sides_to_the_accept(db_url: str) -> None:
    from pathlib import Path

    lines = (Path(__file__).resolve().parents[2] / "docs" / "walkthrough" / "mentor.txt").read_text().splitlines()
    text = await _chat(db_url, lines)
    assert "bot → Priya: 🤝 Becoming a mentor buddy" in text
    assert "Back to your profile: What is your organisation called?" in text  # the question typed mid-form
    assert "bot → Priya: 🤝 Tess would like you as their mentor buddy" in text
    assert "(Priya pressed: ✅ Accept)" in text and "Priya from Bolton CVS has agreed to be your mentor buddy" in text
    assert "Have you connected?" in text and "I'll check in again at three months" in text  # ::time +15d


async def test_the_group_walkthrough_gets_three_answers_and_one_summary(db_url: str) -> None:
    from pathlib import Path

    walkthrough = Path(__file__).resolve().parents[2] / "docs" / "walkthrough"
    lines = (walkthrough / "group-checkin.txt").read_text().splitlines()
    text = await _chat(db_url, lines)
    assert "(Dee is now an admin of the group)" in text and "bot → group: ✅ Saved. Riverside Consortium" in text
    assert text.count("bot → group: 🗓 Check-in time: Riverside Consortium") == 1  # the nudge, after ::time +8d
    assert text.count("📋 Check-in summary") == 1 and "3 people answered" in text
    assert "Back to your check-in" in text  # Fay's question mid check-in was answered first


async def test_help_lists_every_stand_in(db_url: str) -> None:
    text = await _chat(db_url, ["::help"])
    for trick in ("::as ID NAME", "::me", "::admin", "::time +3d", "::group TEXT", "::reply TEXT", "::tap LABEL"):
        assert trick in text
