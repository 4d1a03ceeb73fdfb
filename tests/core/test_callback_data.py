"""One parser for button data: ids bounded to the database's range, values checked against what the
buttons hold, every press answered (a short note when unknown or stale), and profile buttons refused in a
group, so a forged press can never turn a bot message there into the presser's profile card."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from bot.core import callbacks as cb
from bot.mentoring.profiles import profiles_of
from db.models import AnswerVote
from tests.conftest import Harness
from tests.mentoring.mentor_support import in_transaction, seed

HUGE = "9999999999999999999999999"
#: Every prefix whose id used to overflow (OverflowError on SQLite, a misleading "try again" on PostgreSQL).
HUGE_IDS = [f"{p}:{HUGE}" for p in ("ma", "pa", "pr", "px", "mc", "me", "rc", "rz", "rh", "rv")] + [
    f"pn:{HUGE}:1", f"mf:{HUGE}:yes", f"mv:{HUGE}:1", f"mr:{HUGE}:5", f"rp:{HUGE}:pause", f"rn:{HUGE}:go",
    f"ra:{HUGE}:0:3", "ra:2147483648:0:3"]


def test_the_parser_bounds_ids_and_checks_values() -> None:
    for data in HUGE_IDS:
        parsed = cb.parse(data)
        assert parsed.known and not parsed.valid, data
    assert not cb.parse("v:mou-what-goes-in:7").valid and cb.parse("v:mou-what-goes-in:1").valid
    assert cb.parse("ra:2147483647:6:flying").valid and not cb.parse("ra:12:0:flyingx").valid
    assert not cb.parse("mr:3:6").valid and cb.parse("mr:3:5").valid
    for data in ("zz:x", ":", "", None, "x" * 65):
        assert not cb.parse(data).known, data
    assert cb.parse(f"ma:{HUGE}").int_arg(0) is None  # never handed to the database
    assert cb.parse("mpe:mentor:card").private_only


async def _press_and_wait(bot: Harness, person: dict, chat_id: int, message_id: int, data: str) -> dict:  # type: ignore[type-arg]
    query_id = bot.fake.api.press(person, chat_id, message_id, data)
    assert await bot.fake.api_wait(lambda: any(a.get("callback_query_id") == query_id
                                               for a in bot.fake.api.callback_answers)), data
    [answer] = [a for a in bot.fake.api.callback_answers if a.get("callback_query_id") == query_id]
    return answer


async def test_every_forged_press_is_answered_and_nothing_breaks(bot: Harness,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    person = bot.fake.person(5501)
    mark = bot.fake.mark()
    bot.fake.say(person, "what goes in a memorandum of understanding")
    [answer] = await bot.fake.replies(5501, after=mark)
    vote = next(data for _, data in answer.buttons() if data.startswith("v:"))
    entry = vote.split(":")[1]
    for data in [*HUGE_IDS, "zz:x", ":", f"v:{entry}:7"]:
        reply = await _press_and_wait(bot, person, 5501, answer.message_id, data)
        assert "doesn't work any more" in reply.get("text", ""), (data, reply)
    async with bot.services.database.session() as session:
        assert (await session.exec(select(AnswerVote))).all() == []  # the forged 7 was not taken as a 👎
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    reply = await _press_and_wait(bot, person, 5501, answer.message_id, f"v:{entry}:1")  # a real vote still works
    async with bot.services.database.session() as session:
        [stored] = (await session.exec(select(AnswerVote))).all()
    assert stored.helpful is True


async def test_forged_profile_buttons_in_a_group_never_show_a_profile_card(bot: Harness) -> None:
    person = bot.fake.person(5502, "Priya")
    await seed(bot, 5502, "mentor", name="Priya", organisation="Bolton CVS", story="private story")
    group = bot.fake.group_chat(-100550, "Partners")
    mark = bot.fake.mark()
    bot.fake.say(person, "/ask what goes in a memorandum of understanding", chat=group)
    [posted] = await bot.fake.replies(-100550, after=mark)
    mark = bot.fake.mark()
    for data in ("mpe:mentor:card", "mph:mentor:0", "mph:mentor:1"):
        reply = await _press_and_wait(bot, person, -100550, posted.message_id, data)
        assert "private chat" in reply.get("text", "")
    assert [s for s in bot.fake.api.outbox[mark:] if s.chat_id == -100550] == []  # nothing posted or edited
    profile = (await in_transaction(bot.services.database, profiles_of, telegram_id=5502))["mentor"]
    assert profile.active  # and nothing changed
