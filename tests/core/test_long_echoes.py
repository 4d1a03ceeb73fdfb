"""Every message that echoes what someone typed fits Telegram's 4,096 UTF-16 units (an emoji counts two):
split into several messages, or trimmed with a note where a message cannot be split (an edit)."""

from __future__ import annotations

from bot.core.text import MESSAGE_LIMIT, TRIMMED_NOTE, message_parts, trimmed, utf16_len
from knowledge.render import visible_length
from tests.conftest import PANEL_CHAT_ID, Harness
from tests.mentoring.mentor_support import MENTOR_BOT, say, tap
from tests.questions.question_support import send_to_panel

pytestmark = MENTOR_BOT

EMOJI_STORY = "🤝" * 3000  # 3,000 characters, 6,000 UTF-16 units


def test_parts_fit_in_utf16_units_and_lose_nothing() -> None:
    plain = message_parts(EMOJI_STORY, html=False)
    assert len(plain) == 2 and all(utf16_len(p) <= MESSAGE_LIMIT for p in plain) and "".join(plain) == EMOJI_STORY
    html = message_parts(f"<b>Story</b>:\n<blockquote>{EMOJI_STORY}</blockquote>", html=True)
    assert len(html) == 2 and all(visible_length(p) <= MESSAGE_LIMIT for p in html)
    assert all(p.count("<blockquote>") == p.count("</blockquote>") for p in html)
    short = trimmed(EMOJI_STORY, html=False, limit=MESSAGE_LIMIT)
    assert short.endswith(TRIMMED_NOTE) and utf16_len(short) <= MESSAGE_LIMIT


async def test_a_story_of_3000_emoji_is_handed_back_whole_in_parts(bot: Harness) -> None:
    priya = bot.fake.person(1202, "Priya")
    name_q = await say(bot, priya, "/mentor_offer", "What name shall I show")
    await tap(bot, priya, name_q, "Use", "organisation called")
    type_q = await say(bot, priya, "Bolton CVS", "What kind of organisation")
    region_q = await tap(bot, priya, type_q, "Charity", "Where are you based")
    await tap(bot, priya, region_q, "North West", "Which town")
    topics_q = await say(bot, priya, "Bolton", "Which topics could you help with")
    bot.fake.press(priya, topics_q, "Due diligence")
    stages_q = await tap(bot, priya, topics_q, "Done", "Which stages")
    partners_q = await tap(bot, priya, stages_q, "Done", "Which kinds of partner have you worked with")
    await tap(bot, priya, partners_q, "Done", "what have you been through")
    mark = bot.fake.mark()
    bot.fake.say(priya, EMOJI_STORY)
    await bot.fake.reply_with(1202, "please shorten it to 500", after=mark)
    [first, second] = await bot.fake.replies(1202, 2, after=mark)
    echoed = first.text + second.text
    assert echoed.count("🤝") == 3000  # nothing lost
    assert "Sorry" not in echoed and "too long" not in echoed
    assert all(visible_length(s.text) <= MESSAGE_LIMIT for s in (first, second))
    # And the question stays: a shorter story is taken.
    await say(bot, priya, "We merged two advice charities.", "How many mentees")


async def test_a_long_panel_reply_reaches_the_asker_whole(bot: Harness) -> None:
    bot.services.settings.panel_chat_id = PANEL_CHAT_ID
    asker = bot.fake.person(1203)
    posted = await send_to_panel(bot, asker, "how do I grow tomatoes on a balcony")
    reply = "🌱" * 2040  # as long as Telegram lets a panel member type (4,080 units)
    mark = bot.fake.mark()
    bot.fake.say(bot.fake.person(701), reply, chat=bot.fake.group_chat(PANEL_CHAT_ID), reply_to=posted.message_id)
    relayed = await bot.fake.replies(1203, 2, after=mark)
    assert "".join(s.text for s in relayed).count("🌱") == 2040
    assert all(visible_length(s.text) <= MESSAGE_LIMIT for s in relayed)
