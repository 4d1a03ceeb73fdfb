"""Forms that forgive, end to end through the fake Telegram server: each test is one thing a person did
that went wrong before (issue 13, "Why"): a question typed into a form, a typed answer where buttons are
offered, a form left alone, an old button, UK dates and place names, a time the clocks moved, the
partnership buttons, and messages over the rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core import callbacks as cb
from bot.core.local_api import Sent
from bot.mentoring.followups import answer_review
from bot.mentoring.handlers.common import RATE, buttons
from bot.mentoring.lists import MENTEE, MENTOR, split_slugs
from bot.mentoring.profiles import profiles_of
from bot.mentoring.requests import ACCEPT, request_mentor, respond
from bot.reviews.partnerships import create_partnership, list_partnerships
from bot.reviews.schedule import Schedule
from db.mentoring_models import MentorMatch
from tests.conftest import PANEL_CHAT_ID, Harness, make_settings, start_bot, stop_bot
from tests.fake_telegram import FakeTelegram
from tests.mentoring.mentor_support import MENTOR_BOT, in_transaction, seed
from tests.reviews.review_support import nudges_to, run_dispatch, set_clock

pytestmark = MENTOR_BOT

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)  # Sunday 10 January 2027, midday in London
MOU_QUESTION = "what goes in an MoU?"


def settings_for(fake: FakeTelegram, db_url: str, **extra: Any) -> Any:
    return make_settings(db_url, telegram_api_base_url=fake.base_url, panel_chat_id=PANEL_CHAT_ID,
                         rate_limit_per_minute=extra.pop("rate_limit_per_minute", 1000), **extra)


async def shown(bot: Harness, chat_id: int, action: Any, *, count: int = 1) -> list[Sent]:
    """Do something as a person; the next ``count`` messages the bot shows in that chat (not button removals)."""
    mark = bot.fake.mark()
    action()

    def visible() -> list[Sent]:
        return [s for s in bot.fake.api.outbox[mark:] if s.chat_id == chat_id and s.method != "editMessageReplyMarkup"]

    assert await bot.fake.api_wait(lambda: len(visible()) >= count), (
        f"wanted {count} message(s) in chat {chat_id}, got {[s.text[:60] for s in visible()]}")
    return visible()


async def until(bot: Harness, chat_id: int, action: Any, phrase: str) -> Sent:
    """Do something as a person; the bot's message in that chat containing ``phrase``."""
    mark = bot.fake.mark()
    action()
    return await bot.fake.reply_with(chat_id, phrase, after=mark)


def typed(bot: Harness, person: dict[str, Any], text: str) -> Any:
    return lambda: bot.fake.say(person, text)


def tapped(bot: Harness, person: dict[str, Any], sent: Sent, label: str) -> Any:
    return lambda: bot.fake.press(person, sent, label)


def shift(bot: Harness, **delta: float) -> None:
    real = bot.services.clock
    bot.services.clock = lambda: real() + timedelta(**delta)


async def profile_of(bot: Harness, user_id: int, role: str = MENTEE) -> Any:
    return (await in_transaction(bot.services.database, profiles_of, telegram_id=user_id)).get(role)


# -- questions typed into a form ----------------------------------------------------------------------
async def test_a_question_typed_at_the_organisation_step_is_answered_not_saved(bot: Harness) -> None:
    nia = bot.fake.person(3101, "Nia")
    name_q = await until(bot, 3101, typed(bot, nia, "/mentor"), "What name shall I show")
    await until(bot, 3101, tapped(bot, nia, name_q, "Use"), "organisation called")
    answer, again = await shown(bot, 3101, typed(bot, nia, MOU_QUESTION), count=2)
    assert "memorandum" in answer.text.lower()
    assert "Back to your profile" in again.text and "organisation called" in again.text
    type_q = await until(bot, 3101, typed(bot, nia, "Valleys Youth Trust"), "What kind of organisation")
    region_q = await until(bot, 3101, tapped(bot, nia, type_q, "Charity"), "Where are you based")
    town_q = await until(bot, 3101, tapped(bot, nia, region_q, "Wales"), "Which town")
    topics_q = await until(bot, 3101, tapped(bot, nia, town_q, "Skip"), "What would you like help with")
    bot.fake.press(nia, topics_q, "Due diligence")
    stage_q = await until(bot, 3101, tapped(bot, nia, topics_q, "Done"), "Where is your partnership now")
    partners_q = await until(bot, 3101, tapped(bot, nia, stage_q, "Forming"), "Which kinds of partner")
    await until(bot, 3101, tapped(bot, nia, partners_q, "Done"), "what do you need help with")
    await until(bot, 3101, typed(bot, nia, "Checking a new partner's finances before we bid."), "Saved")
    profile = await profile_of(bot, 3101)
    assert profile.organisation == "Valleys Youth Trust"


async def test_a_question_typed_at_the_story_step_is_not_saved_as_the_story(bot: Harness) -> None:
    cai = bot.fake.person(3102, "Cai")
    await _to_story_step(bot, cai)
    # A question the knowledge base knows: answered, and the step is asked again.
    answer, again = await shown(bot, 3102, typed(bot, cai, "how do we find a partner who will collaborate with "
                                                           "us?"), count=2)
    assert "partner" in answer.text.lower()
    assert "Back to your profile" in again.text and "what do you need help with" in again.text
    # A question it does not know: not stored without the person saying so.
    check = await until(bot, 3102, typed(bot, cai, "is it ok if my story is about our youth club?"),
                        "reads like a question")
    await until(bot, 3102, tapped(bot, cai, check, "No"), "what do you need help with")
    await until(bot, 3102, typed(bot, cai, "Our youth club wants to bid jointly with the council."), "Saved")
    assert (await profile_of(bot, 3102)).story == "Our youth club wants to bid jointly with the council."


async def _to_story_step(bot: Harness, person: dict[str, Any]) -> None:
    uid = person["id"]
    name_q = await until(bot, uid, typed(bot, person, "/mentor"), "What name shall I show")
    await until(bot, uid, tapped(bot, person, name_q, "Use"), "organisation called")
    type_q = await until(bot, uid, typed(bot, person, "Cwm Youth Club"), "What kind of organisation")
    region_q = await until(bot, uid, tapped(bot, person, type_q, "Community group"), "Where are you based")
    town_q = await until(bot, uid, tapped(bot, person, region_q, "Wales"), "Which town")
    topics_q = await until(bot, uid, tapped(bot, person, town_q, "Skip"), "What would you like help with")
    bot.fake.press(person, topics_q, "Finding partners")
    stage_q = await until(bot, uid, tapped(bot, person, topics_q, "Done"), "Where is your partnership now")
    partners_q = await until(bot, uid, tapped(bot, person, stage_q, "Forming"), "Which kinds of partner")
    await until(bot, uid, tapped(bot, person, partners_q, "Done"), "what do you need help with")


async def test_typed_answers_where_buttons_are_offered_are_accepted(bot: Harness) -> None:
    ffion = bot.fake.person(3103, "Ffion")
    name_q = await until(bot, 3103, typed(bot, ffion, "/mentor_offer"), "What name shall I show")
    await until(bot, 3103, tapped(bot, ffion, name_q, "Use"), "organisation called")
    await until(bot, 3103, typed(bot, ffion, "Tywi Trust"), "What kind of organisation")
    await until(bot, 3103, typed(bot, ffion, "charity"), "Where are you based")
    await until(bot, 3103, typed(bot, ffion, "Carmarthenshire"), "Which town")
    await until(bot, 3103, typed(bot, ffion, "Llandeilo"), "Which topics")
    await until(bot, 3103, typed(bot, ffion, "due diligence"), "Due diligence")
    await until(bot, 3103, typed(bot, ffion, "done"), "Which stages")
    await until(bot, 3103, typed(bot, ffion, "forming"), "Forming")
    await until(bot, 3103, typed(bot, ffion, "done"), "Which kinds of partner")
    await until(bot, 3103, typed(bot, ffion, "done"), "what have you been through")
    await until(bot, 3103, typed(bot, ffion, "We merged two village halls into one trust."), "How many mentees")
    await until(bot, 3103, typed(bot, ffion, "four"), "mentor buddy")
    profile = await profile_of(bot, 3103, MENTOR)
    assert (profile.org_type, profile.region, profile.capacity) == ("charity", "wales", 4)
    assert split_slugs(profile.topics) == ["diligence"]


# -- forms left alone ---------------------------------------------------------------------------------
async def test_a_form_left_alone_for_half_an_hour_lets_questions_through(bot: Harness) -> None:
    gwen = bot.fake.person(3104, "Gwen")
    name_q = await until(bot, 3104, typed(bot, gwen, "/mentor"), "What name shall I show")
    await until(bot, 3104, tapped(bot, gwen, name_q, "Use"), "organisation called")
    await until(bot, 3104, typed(bot, gwen, "Gwen's Garden Project"), "What kind of organisation")
    shift(bot, minutes=31)
    note, answer = await shown(bot, 3104, typed(bot, gwen, "what goes in a memorandum of understanding"), count=2)
    assert "stopped" in note.text and "/mentor" in note.text
    assert "memorandum" in answer.text.lower()
    for question in ("who should sign the agreement?", "what is due diligence?"):
        [reply] = await shown(bot, 3104, typed(bot, gwen, question))
        assert "tap one of the buttons" not in reply.text.lower() and "stopped" not in reply.text
    # The answers so far are kept: /mentor carries on where she left off.
    back = await until(bot, 3104, typed(bot, gwen, "/mentor"), "What kind of organisation")
    assert back.buttons()


async def test_after_a_restart_a_form_left_for_hours_does_not_claim_questions(fake_telegram: FakeTelegram,
                                                                            db_url: str) -> None:
    settings = settings_for(fake_telegram, db_url)
    bot = await start_bot(fake_telegram, settings)
    hywel = bot.fake.person(3105, "Hywel")
    try:
        name_q = await until(bot, 3105, typed(bot, hywel, "/mentor"), "What name shall I show")
        await until(bot, 3105, tapped(bot, hywel, name_q, "Use"), "organisation called")
        await until(bot, 3105, typed(bot, hywel, "Hywel's Hall"), "What kind of organisation")
    finally:
        await stop_bot(bot)
    bot = await start_bot(fake_telegram, settings)
    try:
        shift(bot, hours=2)
        replies = await shown(bot, 3105, typed(bot, hywel, "what goes in a memorandum of understanding"), count=2)
        assert "memorandum" in replies[-1].text.lower()
        for question in ("what is due diligence?", "who should sign the agreement?", "how often should we review?"):
            [reply] = await shown(bot, 3105, typed(bot, hywel, question))
            assert "tap one of the buttons" not in reply.text.lower()
    finally:
        await stop_bot(bot)


async def test_a_question_sent_a_month_after_a_buddy_rating_is_not_stored_as_its_comment(bot: Harness) -> None:
    mentor_id = await seed(bot, 3106, MENTOR, name="Priya", organisation="Bolton CVS")
    await seed(bot, 3107, MENTEE, name="Ade", organisation="Small Steps")
    ade = bot.fake.person(3107, "Ade")
    database, now = bot.services.database, bot.services.clock()
    match = await in_transaction(database, request_mentor, telegram_id=3107, mentor_person_id=mentor_id, now=now)
    await in_transaction(database, respond, match_id=match.match.id or 0, telegram_id=3106, decision=ACCEPT, now=now)
    parties = await in_transaction(database, answer_review, match_id=match.match.id or 0, telegram_id=3107,
                                   keep=False, now=now)
    # The rating question as the review sends it (the buttons are the bot's own).
    await bot.application.bot.send_message(3107, "How has it been?", reply_markup=buttons(
        [[(str(n), cb.make(RATE, parties.match.id, n)) for n in range(1, 6)]]))
    [rating_msg] = [s for s in bot.fake.api.outbox if s.chat_id == 3107 and "How has it been" in s.text]
    await until(bot, 3107, tapped(bot, ade, rating_msg, "4"), "Anything you'd like to add")
    shift(bot, days=30)
    note, reply = await shown(bot, 3107, typed(bot, ade, "what goes in a memorandum of understanding"), count=2)
    assert "stopped" in note.text
    assert "memorandum" in reply.text.lower() and "comment is saved" not in reply.text
    async with bot.services.database.session() as session:
        stored = await session.get(MentorMatch, parties.match.id)
    assert stored is not None and stored.rating == 4 and not stored.comment


# -- old buttons ---------------------------------------------------------------------------------------
async def test_an_old_other_toggle_tapped_after_done_does_not_change_the_saved_profile(bot: Harness) -> None:
    iolo = bot.fake.person(3108, "Iolo")
    await _to_story_step(bot, iolo)
    partners_q = next(s for s in reversed(bot.fake.api.outbox)
                      if s.chat_id == 3108 and "Which kinds of partner" in s.text)
    # Done was tapped; now the old "Other" toggle on the same message, while the story is being asked.
    mark = bot.fake.mark()
    bot.fake.press(iolo, partners_q, "Other")
    await bot.fake.answered("done", after=mark)
    await until(bot, 3108, typed(bot, iolo, "We want to find partners for a summer scheme."), "Saved")
    saved = await profile_of(bot, 3108)
    assert "other" not in split_slugs(saved.partner_types)
    # And after the profile is saved, the same old toggle still changes nothing.
    mark = bot.fake.mark()
    bot.fake.press(iolo, partners_q, "Other")
    await bot.fake.answered("finished", after=mark)
    assert (await profile_of(bot, 3108)).partner_types == saved.partner_types


async def test_a_typed_yes_or_no_answers_delete_your_profile_as_the_buttons_do(bot: Harness) -> None:
    jac, kit = bot.fake.person(3119, "Jac"), bot.fake.person(3120, "Kit")
    await seed(bot, 3119, MENTEE, name="Jac", organisation="Jac's Hub")
    await seed(bot, 3120, MENTEE, name="Kit", organisation="Kit's Club")
    for person, chat in ((jac, 3119), (kit, 3120)):
        card = await until(bot, chat, typed(bot, person, "/profile"), "Your buddy-seeker profile")
        await until(bot, chat, tapped(bot, person, card, "Delete"), "Delete your")
    await until(bot, 3119, typed(bot, jac, "maybe later"), "type yes or no")  # neither: asked again
    await until(bot, 3119, typed(bot, jac, "Yes"), "Deleted")
    await until(bot, 3120, typed(bot, kit, "no thanks"), "kept")
    assert await profile_of(bot, 3119) is None
    assert (await profile_of(bot, 3120)).organisation == "Kit's Club"


async def test_a_stale_no_keep_it_after_deleting_the_profile_does_not_say_nothing_changed(bot: Harness) -> None:
    jac = bot.fake.person(3109, "Jac")
    await seed(bot, 3109, MENTEE, name="Jac", organisation="Jac's Hub")
    card = await until(bot, 3109, typed(bot, jac, "/profile"), "Your buddy-seeker profile")
    confirm = await until(bot, 3109, tapped(bot, jac, card, "Delete"), "Delete your")
    await until(bot, 3109, tapped(bot, jac, confirm, "Yes, delete"), "Deleted")
    mark = bot.fake.mark()
    bot.fake.press(jac, confirm, "No, keep it")
    note = await bot.fake.answered("already", after=mark)
    texts = [s.text for s in bot.fake.api.outbox[mark:] if s.chat_id == 3109] + [str(note.get("text", ""))]
    assert not any("nothing changed" in t.lower() for t in texts)


async def test_a_stale_no_keep_it_after_forget_does_not_say_nothing_was_deleted(bot: Harness) -> None:
    kat = bot.fake.person(3110, "Kat")
    first = await until(bot, 3110, typed(bot, kat, "/forget"), "Delete your data?")
    second = await until(bot, 3110, typed(bot, kat, "/forget"), "Delete your data?")
    await until(bot, 3110, tapped(bot, kat, second, "Yes, delete"), "deleted everything")
    mark = bot.fake.mark()
    bot.fake.press(kat, first, "No, keep it")
    note = await bot.fake.answered("already", after=mark)
    texts = [s.text for s in bot.fake.api.outbox[mark:] if s.chat_id == 3110] + [str(note.get("text", ""))]
    assert not any("nothing has been deleted" in t.lower() or "nothing changed" in t.lower() for t in texts)


# -- the partnership set-up ------------------------------------------------------------------------------
@pytest.fixture
async def rbot(fake_telegram: FakeTelegram, db_url: str) -> AsyncIterator[Harness]:
    harness = await start_bot(fake_telegram, settings_for(fake_telegram, db_url))
    set_clock(harness, NOW)
    try:
        yield harness
    finally:
        await stop_bot(harness)


async def test_questions_typed_as_the_partnership_name_and_partners_are_not_saved(rbot: Harness) -> None:
    bot, lois = rbot, rbot.fake.person(3111, "Lois")
    await until(bot, 3111, typed(bot, lois, "/partnership"), "What's the partnership called?")
    answer, again = await shown(bot, 3111, typed(bot, lois, MOU_QUESTION), count=2)
    assert "memorandum" in answer.text.lower() and "What's the partnership called?" in again.text
    await until(bot, 3111, typed(bot, lois, "Riverside Consortium"), "Which organisations")
    # Answered when the knowledge base is sure of it; otherwise the person is asked. Never saved silently.
    reply = (await shown(bot, 3111, typed(bot, lois, "how often should we review?")))[0]
    if "reads like a question" in reply.text:
        await until(bot, 3111, tapped(bot, lois, reply, "No"), "Which organisations")
    else:
        await bot.fake.reply_with(3111, "Back to the set-up: <b>Which organisations", after=0)
    await until(bot, 3111, typed(bot, lois, "Age UK Riverside, Riverside Food Bank"), "How often")
    draft = bot.application.user_data[3111]["review_setup"]["3111"]
    assert (draft["name"], draft["partners"]) == ("Riverside Consortium", "Age UK Riverside, Riverside Food Bank")


async def test_uk_dates_and_place_names_are_understood_in_the_set_up(rbot: Harness) -> None:
    bot, meg = rbot, rbot.fake.person(3112, "Meg")
    await until(bot, 3112, typed(bot, meg, "/partnership"), "What's the partnership called?")
    await until(bot, 3112, typed(bot, meg, "Riverside"), "Which organisations")
    await until(bot, 3112, typed(bot, meg, "A, B"), "How often")
    await until(bot, 3112, typed(bot, meg, "monthly"), "day of the month")
    await until(bot, 3112, typed(bot, meg, "1"), "what time")
    await until(bot, 3112, typed(bot, meg, "9.30am"), "time zone")
    await until(bot, 3112, typed(bot, meg, "london"), "first check-in")
    confirm = await until(bot, 3112, typed(bot, meg, "01/03/2027"), "Shall I save")
    assert "Mon 1 Mar 2027, 09:30" in confirm.text
    # Going back to the time zone step, "UK" is understood too.
    zone_q = await until(bot, 3112, tapped(bot, meg, confirm, "Back"), "When should the first check-in be")
    zone_q = await until(bot, 3112, tapped(bot, meg, zone_q, "Back"), "time zone")
    await until(bot, 3112, typed(bot, meg, "UK"), "first check-in")


async def test_a_check_in_time_the_clocks_skip_is_explained_in_plain_words(rbot: Harness) -> None:
    bot, nye = rbot, rbot.fake.person(3113, "Nye")
    set_clock(bot, datetime(2027, 3, 20, 12, 0, tzinfo=UTC))
    await until(bot, 3113, typed(bot, nye, "/partnership"), "What's the partnership called?")
    await until(bot, 3113, typed(bot, nye, "Night Shelter Partners"), "Which organisations")
    await until(bot, 3113, typed(bot, nye, "A, B"), "How often")
    await until(bot, 3113, typed(bot, nye, "weekly"), "day of the week")
    await until(bot, 3113, typed(bot, nye, "Sunday"), "what time")
    await until(bot, 3113, typed(bot, nye, "01:30"), "time zone")
    # Answers the old set-up accepted too, so that what is tested here is the explanation alone.
    await until(bot, 3113, typed(bot, nye, "Europe/London"), "first check-in")
    confirm = await until(bot, 3113, typed(bot, nye, "2027-03-28"), "Shall I save")
    assert "02:30" in confirm.text and "clocks go forward" in confirm.text


async def test_partnership_buttons_name_the_partnership_which_can_be_renamed(rbot: Harness) -> None:
    bot, ola = rbot, rbot.fake.person(3114, "Ola")
    for name in ("Riverside", "Hillside"):
        async with bot.services.database.transaction() as session:
            await create_partnership(session=session, chat_id=3114, created_by=3114, name=name,
                                     partners=["A", "B"], schedule=Schedule(
                                         "monthly", datetime(2027, 1, 1, 9).time(), "Europe/London",
                                         NOW.date(), day=1), now=NOW)
    listing = await until(bot, 3114, typed(bot, ola, "/partnerships"), "Partnership check-ins")
    labels = [label for label, _ in listing.buttons()]
    assert not any(label.rstrip().endswith((" 1", " 2")) for label in labels)
    assert any("Riverside" in label for label in labels) and any("Hillside" in label for label in labels)
    menu = await until(bot, 3114, tapped(bot, ola, listing, "Hillside"), "Hillside")
    asked = await until(bot, 3114, tapped(bot, ola, menu, "Rename"), "new name")
    await until(bot, 3114, typed(bot, ola, "Hillside Food Partnership"), "Renamed")
    menu = await until(bot, 3114, tapped(bot, ola, menu, "Partners"), "Which organisations")
    await until(bot, 3114, typed(bot, ola, "Hillside Food Bank, Hillside Council"), "Saved")
    async with bot.services.database.transaction() as session:
        names = {v.partnership.name: v.partnership.partners for v in
                 await list_partnerships(session=session, chat_id=3114)}
    assert names["Hillside Food Partnership"] == "Hillside Food Bank, Hillside Council"
    assert asked


# -- the check-in ------------------------------------------------------------------------------------
async def test_a_score_typed_as_a_word_is_taken_and_a_half_done_check_in_can_be_resumed(rbot: Harness) -> None:
    bot, pat = rbot, rbot.fake.person(3115, "Pat")
    async with bot.services.database.transaction() as session:
        await create_partnership(session=session, chat_id=3115, created_by=3115, name="Riverside",
                                 partners=["A", "B"], schedule=Schedule(
                                     "monthly", datetime(2027, 1, 1, 9).time(), "Europe/London",
                                     NOW.date(), day=28), now=NOW)
    set_clock(bot, datetime(2027, 1, 28, 9, 1, tzinfo=UTC))
    await run_dispatch(bot)
    [nudge] = nudges_to(bot, 3115)
    await until(bot, 3115, tapped(bot, pat, nudge, "Start the check-in"), "Question 1 of 7")
    await until(bot, 3115, typed(bot, pat, "four"), "Question 2 of 7")
    # She leaves it; later she sends /reviews, which offers to carry on.
    shift(bot, hours=3)
    listing = await until(bot, 3115, typed(bot, pat, "/reviews"), "Tap Carry on")
    await until(bot, 3115, tapped(bot, pat, listing, "Carry on"), "Question 2 of 7")
    await until(bot, 3115, typed(bot, pat, "3"), "Question 3 of 7")
    # And from the nudge's own button.
    await until(bot, 3115, tapped(bot, pat, nudge, "Start the check-in"), "Question 3 of 7")


# -- the rate limit --------------------------------------------------------------------------------------
async def test_messages_over_the_rate_limit_are_answered_once_the_person_slows_down(fake_telegram: FakeTelegram,
                                                                                  db_url: str) -> None:
    from bot.core.ratelimit import SlidingWindowLimiter
    from bot.core.throttle import LIMITER_KEY

    bot = await start_bot(fake_telegram, settings_for(fake_telegram, db_url, rate_limit_per_minute=3))
    try:
        bot.application.bot_data[LIMITER_KEY] = SlidingWindowLimiter(3, 2.0)  # "a minute", made short
        quinn = bot.fake.person(3116, "Quinn")
        questions = ["what is due diligence?", "what goes in a memorandum of understanding",
                     "how often should we review?", "what is a consortium?", "who should sign the agreement?"]
        for question in questions:
            bot.fake.say(quinn, question)
        replies = await bot.fake.replies(3116, count=len(questions) + 1, timeout=20)
        notes = [r for r in replies if "quickly" in r.text]
        assert len(notes) == 1 and "nothing is lost" not in notes[0].text
        answers = [r for r in replies if "quickly" not in r.text]
        assert len(answers) >= len(questions)
    finally:
        await stop_bot(bot)


async def test_messages_waiting_for_the_rate_limit_at_a_stop_are_answered_once_after_the_restart(
        fake_telegram: FakeTelegram, db_url: str) -> None:
    """Stopping the bot does not wait a minute for the queue, and loses nothing in it: the waiting messages
    stay unhandled in the inbox and the restarted bot answers each of them, once."""
    settings = settings_for(fake_telegram, db_url, rate_limit_per_minute=3)
    questions = ["what is due diligence?", "what goes in a memorandum of understanding",
                 "how often should we review?", "what is a consortium?", "who should sign the agreement?",
                 "what is a lead partner?"]
    sol = fake_telegram.person(3118, "Sol")
    first = await start_bot(fake_telegram, settings)
    try:
        for question in questions:
            first.fake.say(sol, question)
        before = await first.fake.replies(3118, count=4, timeout=20)  # three answers and the note
    finally:
        await stop_bot(first)  # three questions are still waiting for the minute to pass
    assert sum("quickly" in r.text for r in before) == 1
    second = await start_bot(fake_telegram, settings)
    try:
        await second.fake.replies(3118, count=len(questions) + 1, timeout=20)
        answers = [r for r in await second.fake.quiet(3118, after=0, by=sol) if "quickly" not in r.text]
        assert len(answers) == len(questions)
    finally:
        await stop_bot(second)


async def test_messages_beyond_the_waiting_queue_are_named_as_not_answered(fake_telegram: FakeTelegram,
                                                                          db_url: str) -> None:
    from bot.core.ratelimit import SlidingWindowLimiter
    from bot.core.throttle import LIMITER_KEY, QUEUE_LIMIT

    bot = await start_bot(fake_telegram, settings_for(fake_telegram, db_url, rate_limit_per_minute=1))
    try:
        bot.application.bot_data[LIMITER_KEY] = SlidingWindowLimiter(1, 0.3)
        rhys = bot.fake.person(3117, "Rhys")
        total = 1 + QUEUE_LIMIT + 2
        for n in range(total):
            bot.fake.say(rhys, f"/start {n}")
        told = await bot.fake.reply_with(3117, "haven't answered these", after=0, timeout=30)
        assert "“/start 11”" in told.text and "“/start 12”" in told.text and "“/start 10”" not in told.text
        welcomes = [s for s in bot.fake.api.outbox if s.chat_id == 3117 and "Hello" in s.text]
        assert len(welcomes) == 1 + QUEUE_LIMIT
    finally:
        await stop_bot(bot)
