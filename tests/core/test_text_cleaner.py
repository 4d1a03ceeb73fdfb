"""One text cleaner for every way in (chat, CSV, command line): NUL and control characters removed, bidi
overrides and zero-width characters stripped, emoji kept, and Telegram's UTF-16 length counted right."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.core.text import clean_line, clean_text, fit_utf16, utf16_len
from bot.mentoring.csv_import import parse_csv
from bot.reviews.errors import ReviewInputError
from bot.reviews.inputs import parse_cadence, parse_timezone
from bot.reviews.partnerships import create_partnership, get_partnership, list_partnerships
from bot.reviews.schedule import Schedule
from db.models import QuestionLog
from tests.conftest import PANEL_CHAT_ID, Harness
from tests.mentoring.mentor_support import HEADER
from tests.reviews.review_support import REVIEW_BOT, migrated, set_clock, step

pytestmark = REVIEW_BOT

DIRTY = "Riv\x00er\x1b\u202eside\u200b \u2066Trust\u2069\ufeff\x85"


def test_the_cleaner_removes_what_hides_or_breaks_text_and_keeps_the_rest() -> None:
    assert clean_line(DIRTY) == "Riverside Trust"
    assert clean_text("line one\r\n\x00line\u2028two\n\n\n\nend") == "line one\nline\ntwo\n\nend"
    assert clean_line("👩\u200d💻 coder 🤝") == "👩\u200d💻 coder 🤝"  # an emoji sequence keeps its joiner
    assert clean_line("a\u200db") == "ab"  # a joiner elsewhere is invisible: removed
    assert clean_line("Café") == "Café"  # decomposed accents become one character (NFC)
    assert utf16_len("😀" * 3) == 6 and utf16_len("abc") == 3
    assert fit_utf16("😀😀😀", 5) == "😀😀"  # never half an emoji


async def test_a_partnership_name_with_nul_saves_on_every_database(db_url: str) -> None:
    async with migrated(db_url) as database:
        async with database.transaction() as session:
            partnership, _ = await create_partnership(
                session=session, chat_id=42, created_by=42, name=DIRTY,
                partners=["Age\x00 UK\u202e", "Food\u200bBank"],
                schedule=Schedule("weekly", time(9), "Europe/London", date(2027, 1, 1), weekday=0),
                now=datetime(2026, 12, 1, tzinfo=UTC))
        async with database.transaction() as session:
            stored = await get_partnership(session=session, partnership_id=partnership.id or 0)
        assert stored is not None and stored.name == "Riverside Trust" and stored.partners == "Age UK, FoodBank"
    for parse in (parse_cadence, parse_timezone):
        with pytest.raises(ReviewInputError) as caught:
            parse("mon\u202ethly\x00zz")
        assert "\u202e" not in str(caught.value) and "\x00" not in str(caught.value)


async def test_a_set_up_with_nul_in_the_name_saves_in_the_chat(bot: Harness) -> None:
    set_clock(bot, datetime(2027, 1, 10, 12, 0, tzinfo=UTC))
    person = bot.fake.person(4401)
    asked = await step(bot, 4401, lambda: bot.fake.say(person, "/partnership"))
    asked = await step(bot, 4401, lambda: bot.fake.say(person, DIRTY))
    assert "Which organisations" in asked.text
    for typed in ("Age UK\x00", None, None, "9:30", "europe/london", "2027-01-20"):
        if typed is None:
            label = "Monthly" if "How often" in asked.text else "Last day"
            asked = await step(bot, 4401, lambda label=label, sent=asked: bot.fake.press(person, sent, label))
        else:
            asked = await step(bot, 4401, lambda typed=typed: bot.fake.say(person, typed))
    assert "<b>Riverside Trust</b>" in asked.text
    saved = await step(bot, 4401, lambda: bot.fake.press(person, asked, "Save"))
    assert "Saved" in saved.text
    async with bot.services.database.transaction() as session:
        [view] = await list_partnerships(session=session, chat_id=4401)
    assert view.partnership.name == "Riverside Trust" and view.partnership.partners == "Age UK"


async def test_a_question_with_nul_is_logged_and_can_go_to_the_panel(bot: Harness) -> None:
    bot.services.settings.panel_chat_id = PANEL_CHAT_ID
    person = bot.fake.person(4402)
    decline = await step(bot, 4402, lambda: bot.fake.say(person, "how do I grow toma\x00toes \u202eon a balcony"))
    assert "Ask the panel" in str(decline.buttons())
    async with bot.services.database.session() as session:
        [logged] = (await session.exec(select(QuestionLog).where(QuestionLog.user_id == 4402))).all()
    assert logged.text == "how do I grow tomatoes on a balcony"
    asked = await step(bot, 4402, lambda: bot.fake.press(person, decline, "Ask the panel"))
    mark = bot.fake.mark()
    bot.fake.press(person, asked, "anonymously")
    [posted] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    assert "how do I grow tomatoes on a balcony" in posted.text


def test_the_command_line_and_csv_clean_the_same_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    cli = CliRunner()
    added = cli.invoke(app, ["reviews", "add", "--chat-id", "-1001", "--name", "Riv\u202eer\u200bside\x1b",
                             "--cadence", "monthly", "--day", "last", "--time", "09:00", "--tz", "Europe/London",
                             "--start", "2027-01-01"])
    assert added.exit_code == 0, added.output
    [listed] = json.loads(cli.invoke(app, ["reviews", "list", "--json"]).output)
    assert listed["name"] == "Riverside"
    rows, problems = parse_csv(HEADER + "mentor,Ma\x00x\u200b,@max_m,M\u202e Org\x1b,charity,London,conflict,1,"
                               "a\x00 story\u2066\n")
    assert problems == [] and (rows[0].draft.display_name, rows[0].draft.organisation, rows[0].draft.story) == (
        "Max", "M Org", "a story")
