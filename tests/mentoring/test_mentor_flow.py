"""Mentor buddies end to end through the fake Telegram server: offering, asking, accepting, declining,
timeouts, cancelling, follow-ups and re-matching, relaying, consent before contact details, forged
buttons, a half-filled profile across a restart, and the privacy hooks."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core import callbacks as cb
from bot.mentoring.cohort import load_cohort, record_proposals
from bot.mentoring.lists import MENTEE, MENTOR, split_slugs
from bot.mentoring.privacy import export_user_data, forget_user
from bot.mentoring.profiles import profiles_of
from bot.mentoring.suggestions import mentee_status
from db.mentoring_models import MentoringProfile, MentorMatch
from tests.conftest import PANEL_CHAT_ID, Harness, make_settings, start_bot, stop_bot
from tests.fake_telegram import FakeTelegram
from tests.mentoring.mentor_support import MENTOR_BOT, button_data, in_transaction, run_job, say, seed, tap

pytestmark = MENTOR_BOT

DD_STORY = "We did due diligence on a partner charity before signing a memorandum of understanding."


async def _matches(bot: Harness) -> list[MentorMatch]:
    async with bot.services.database.session() as session:
        return list((await session.exec(select(MentorMatch).order_by(MentorMatch.id))).all())


def _shift(bot: Harness, **delta: float) -> None:
    real = bot.services.clock
    bot.services.clock = lambda: real() + timedelta(**delta)


async def _accept(bot: Harness, mentor: dict, mentee_id: int, *, after: int) -> None:
    """The mentor taps Accept on their request; returns once both have the other's contact."""
    request = await bot.fake.reply_with(mentor["id"], "would like you", after=after)
    mark = bot.fake.mark()
    bot.fake.press(mentor, request, "Accept")
    await bot.fake.reply_with(mentee_id, "has agreed to be your mentor buddy", after=mark)
    await bot.fake.reply_with(mentor["id"], "You're now mentor buddy", after=mark)


async def _ask_first(bot: Harness, mentee: dict, expect_mentor: str):  # type: ignore[no-untyped-def]
    """The mentee sends /mentor, sees suggestions and asks ``expect_mentor``; returns (suggestions, request)."""
    suggestions = await say(bot, mentee, "/mentor", "mentors who could help")
    mark = bot.fake.mark()
    bot.fake.press(mentee, suggestions, f"Ask {expect_mentor}")
    await bot.fake.reply_with(mentee["id"], "I've asked", after=mark)
    return suggestions, mark


async def test_offering_to_mentor_through_the_questions_tells_a_waiting_mentee(bot: Harness) -> None:
    waiting = bot.fake.person(1101, "Ade")
    await seed(bot, 1101, MENTEE, name="Ade", organisation="Small Steps", topics=["legal"])
    await say(bot, waiting, "/mentor", "waiting list")

    priya = bot.fake.person(1102, "Priya", username="priya_m")
    name_q = await say(bot, priya, "/mentor_offer", "What name shall I show")
    org_q = await tap(bot, priya, name_q, "Use", "organisation called")
    assert [label for label, _ in org_q.buttons()] == ["⬅️ Back", "✖️ Cancel"]  # a typed answer, Back or Cancel
    type_q = await say(bot, priya, "Bolton <CVS>", "What kind of organisation")
    region_q = await tap(bot, priya, type_q, "Charity", "Where are you based")
    town_q = await tap(bot, priya, region_q, "North West", "Which town")
    topics_q = await say(bot, priya, "Bolton", "Which topics could you help with")
    bot.fake.press(priya, topics_q, "Legal structures")
    bot.fake.press(priya, topics_q, "Due diligence")
    stages_q = await tap(bot, priya, topics_q, "Done", "Which stages")
    bot.fake.press(priya, stages_q, "Forming")
    partners_q = await tap(bot, priya, stages_q, "Done", "Which kinds of partner have you worked with")
    bot.fake.press(priya, partners_q, "Statutory body")
    story_q = await tap(bot, priya, partners_q, "Done", "what have you been through")
    assert town_q and story_q
    too_long = await say(bot, priya, "x" * 600, "please shorten it to 500")
    assert "x" * 100 in too_long.text  # handed back to copy and trim: nothing lost
    capacity_q = await say(bot, priya, "We merged two advice charities; I led the legal side.", "How many mentees")
    mark = bot.fake.mark()
    bot.fake.press(priya, capacity_q, "2")
    await bot.fake.reply_with(1102, "you're now a mentor buddy", after=mark)

    told = await bot.fake.reply_with(1101, "Good news", after=mark)
    assert "Priya" in told.text and "legal structures" in told.text
    assert "Bolton" not in told.text and "priya_m" not in told.text  # no organisation or contact yet
    assert button_data(told, "ms:")

    profile = (await in_transaction(bot.services.database, profiles_of, telegram_id=1102))[MENTOR]
    assert (profile.display_name, profile.organisation, profile.region, profile.town, profile.capacity) == (
        "Priya", "Bolton <CVS>", "north_west", "Bolton", 2)
    assert split_slugs(profile.topics) == ["diligence", "legal"]
    assert split_slugs(profile.partner_types) == ["statutory"]

    # Outside the questions, text is a question again: the conversation no longer claims it.
    mark = bot.fake.mark()
    bot.fake.say(priya, "what goes in a memorandum of understanding")
    [answer] = await bot.fake.replies(1102, after=mark)
    assert "memorandum" in answer.text.lower()


async def test_a_half_filled_profile_survives_a_restart(fake_telegram: FakeTelegram, db_url: str) -> None:
    settings = make_settings(db_url, telegram_api_base_url=fake_telegram.base_url, panel_chat_id=PANEL_CHAT_ID,
                             rate_limit_per_minute=1000)
    bot = await start_bot(fake_telegram, settings)
    nia = bot.fake.person(1201, "Nia")
    try:
        name_q = await say(bot, nia, "/mentor", "What name shall I show")
        await tap(bot, nia, name_q, "Use", "organisation called")
        type_q = await say(bot, nia, "Valleys Youth Trust", "What kind of organisation")
    finally:
        await stop_bot(bot)
    bot = await start_bot(fake_telegram, settings)
    try:
        region_q = await tap(bot, nia, type_q, "Community group", "Where are you based")
        town_q = await tap(bot, nia, region_q, "Wales", "Which town")
        topics_q = await tap(bot, nia, town_q, "Skip", "What would you like help with")
        bot.fake.press(nia, topics_q, "Working with statutory bodies")
        stage_q = await tap(bot, nia, topics_q, "Done", "Where is your partnership now")
        partners_q = await tap(bot, nia, stage_q, "Frustration", "Which kinds of partner are you working with")
        await tap(bot, nia, partners_q, "Done", "what do you need help with")
        await say(bot, nia, "The council wants us to deliver a service but the contract is unclear.", "waiting list")
        profile = (await in_transaction(bot.services.database, profiles_of, telegram_id=1201))[MENTEE]
        assert (profile.organisation, profile.org_type, profile.region) == ("Valleys Youth Trust", "community", "wales")
        assert split_slugs(profile.stages) == ["frustration"]
    finally:
        await stop_bot(bot)


async def test_request_and_accept_swap_contacts_only_after_both_agree(bot: Harness) -> None:
    await seed(bot, 1301, MENTOR, name="Priya", organisation="Bolton CVS", username="priya_m",
               topics=["diligence", "mou"], story=DD_STORY, partners=["statutory"])
    await seed(bot, 1302, MENTEE, name="Ade", organisation="Small Steps", username="ade_k",
               topics=["diligence", "mou"], partners=["statutory"],
               story="We need to do due diligence before signing a memorandum of understanding.")
    mentee, mentor = bot.fake.person(1302, "Ade", "ade_k"), bot.fake.person(1301, "Priya", "priya_m")

    suggestions, mark = await _ask_first(bot, mentee, "Priya")
    assert "Shares: due diligence, MoUs" in suggestions.text and "Same region" in suggestions.text
    assert "Has worked with a statutory body" in suggestions.text
    for secret in ("priya_m", "t.me", "Bolton CVS"):
        assert secret not in suggestions.text
    request = await bot.fake.reply_with(1301, "would like you as their mentor buddy", after=mark)
    for secret in ("ade_k", "t.me", "Small Steps"):
        assert secret not in request.text
    assert "due diligence" in request.text.lower() and "72 hours" in request.text
    assert [label for label, _ in request.buttons()] == ["✅ Accept", "❌ Decline", "⏸ Pause me"]

    mark = bot.fake.mark()
    bot.fake.press(mentor, request, "Accept")
    to_mentee = await bot.fake.reply_with(1302, "has agreed to be your mentor buddy", after=mark)
    to_mentor = await bot.fake.reply_with(1301, "You're now mentor buddy", after=mark)
    assert 'href="https://t.me/priya_m"' in to_mentee.text and "Bolton CVS" in to_mentee.text
    assert 'href="https://t.me/ade_k"' in to_mentor.text and "Small Steps" in to_mentor.text
    [match] = await _matches(bot)
    assert match.status == "accepted" and match.accepted_at is not None

    # A second tap on Accept does nothing new.
    tapped = bot.fake.mark()
    bot.fake.press(mentor, request, "Accept")
    await bot.fake.answered("already accepted", after=tapped)


async def test_decline_offers_the_next_suggestion_kindly(bot: Harness) -> None:
    await seed(bot, 1401, MENTOR, name="Priya", organisation="Bolton CVS", topics=["diligence", "mou"])
    await seed(bot, 1402, MENTOR, name="Tom", organisation="Age Concern", topics=["diligence"],
               region="london")
    await seed(bot, 1403, MENTEE, name="Ade", organisation="Small Steps", topics=["diligence", "mou"])
    mentee, priya = bot.fake.person(1403, "Ade"), bot.fake.person(1401, "Priya")
    suggestions, mark = await _ask_first(bot, mentee, "Priya")
    assert suggestions.text.index("Priya") < suggestions.text.index("Tom")  # best first
    request = await bot.fake.reply_with(1401, "would like you", after=mark)
    mark = bot.fake.mark()
    bot.fake.press(priya, request, "Decline")
    nxt = await bot.fake.reply_with(1403, "can't take on a new buddy just now", after=mark)
    assert "no reflection on you" in nxt.text
    asks = [label for label, _ in nxt.buttons()]
    assert asks == ["Ask Tom"]
    await bot.fake.reply_with(1401, "You declined", after=mark)
    assert [m.status for m in await _matches(bot)] == ["declined"]


async def test_pause_me_declines_and_stops_new_requests(bot: Harness) -> None:
    await seed(bot, 1451, MENTOR, name="Priya", organisation="Bolton CVS")
    await seed(bot, 1452, MENTEE, name="Ade", organisation="Small Steps")
    mentee, priya = bot.fake.person(1452, "Ade"), bot.fake.person(1451, "Priya")
    _, mark = await _ask_first(bot, mentee, "Priya")
    request = await bot.fake.reply_with(1451, "would like you", after=mark)
    mark = bot.fake.mark()
    bot.fake.press(priya, request, "Pause me")
    await bot.fake.reply_with(1451, "you're paused", after=mark)
    await bot.fake.reply_with(1452, "waiting list", after=mark)
    assert not (await in_transaction(bot.services.database, profiles_of, telegram_id=1451))[MENTOR].active


async def test_an_unanswered_request_times_out_and_the_next_is_offered(bot: Harness) -> None:
    await seed(bot, 1501, MENTOR, name="Priya", organisation="Bolton CVS", topics=["diligence", "mou"])
    await seed(bot, 1502, MENTOR, name="Tom", organisation="Age Concern", topics=["diligence"])
    await seed(bot, 1503, MENTEE, name="Ade", organisation="Small Steps", topics=["diligence", "mou"])
    mentee = bot.fake.person(1503, "Ade")
    _, mark = await _ask_first(bot, mentee, "Priya")
    request = await bot.fake.reply_with(1501, "would like you", after=mark)

    _shift(bot, hours=71)
    mark = bot.fake.mark()
    await run_job(bot, "mentor-timeouts")
    assert await bot.fake.quiet(1503, after=mark, by=bot.fake.person(1503)) == []
    _shift(bot, hours=2)
    await run_job(bot, "mentor-timeouts")
    nxt = await bot.fake.reply_with(1503, "hasn't been able to answer in time", after=mark)
    assert [label for label, _ in nxt.buttons()] == ["Ask Tom"]
    expired = await bot.fake.reply_with(1501, "has expired", after=mark)
    assert expired.message_id == request.message_id and not expired.buttons()
    await run_job(bot, "mentor-timeouts")  # told once only
    assert len([s for s in await bot.fake.quiet(1503, after=mark, by=bot.fake.person(1503))
                if "in time" in s.text]) == 1
    assert [m.status for m in await _matches(bot)] == ["timed_out"]


async def test_a_mentee_cancels_a_pending_request(bot: Harness) -> None:
    await seed(bot, 1601, MENTOR, name="Priya", organisation="Bolton CVS")
    await seed(bot, 1602, MENTEE, name="Ade", organisation="Small Steps")
    mentee, priya = bot.fake.person(1602, "Ade"), bot.fake.person(1601, "Priya")
    _, mark = await _ask_first(bot, mentee, "Priya")
    asked = await bot.fake.reply_with(1602, "I've asked", after=mark)
    request = await bot.fake.reply_with(1601, "would like you", after=mark)
    mark = bot.fake.mark()
    bot.fake.press(mentee, asked, "Cancel request")
    await bot.fake.reply_with(1602, "You withdrew your request", after=mark)
    withdrawn = await bot.fake.reply_with(1601, "has withdrawn their request", after=mark)
    assert withdrawn.message_id == request.message_id
    tapped = bot.fake.mark()
    bot.fake.press(priya, request, "Accept")  # the old button, tapped anyway
    await bot.fake.answered("withdrawn", after=tapped)
    assert [m.status for m in await _matches(bot)] == ["cancelled"]


async def test_forged_buttons_are_refused(bot: Harness) -> None:
    await seed(bot, 1701, MENTOR, name="Priya", organisation="Bolton CVS", username="priya_m")
    await seed(bot, 1702, MENTEE, name="Ade", organisation="Small Steps")
    mentee, stranger = bot.fake.person(1702, "Ade"), bot.fake.person(1799, "Eve", "eve")
    await seed(bot, 1799, MENTEE, name="Eve", organisation="Elsewhere")
    _, mark = await _ask_first(bot, mentee, "Priya")
    await bot.fake.reply_with(1701, "would like you", after=mark)
    [match] = await _matches(bot)
    mark = tapped = bot.fake.mark()
    for data in (cb.make("ma", match.id), cb.make("md", match.id), cb.make("mz", match.id),
                 cb.make("mc", match.id), cb.make("mf", match.id, "different"), cb.make("mv", match.id, 0),
                 cb.make("mr", match.id, 5), cb.make("me", match.id)):
        bot.fake.api.press(stranger, 1799, 1, data)
    assert await bot.fake.api_wait(lambda: len(bot.fake.api.callback_answers) >= tapped.answers + 8)
    texts = [str(a.get("text")) for a in bot.fake.api.callback_answers[tapped.answers:]]
    assert all("isn't yours" in text for text in texts), texts
    bot.fake.api.press(stranger, 1799, 1, cb.make("mpe", MENTOR, "story"))
    await bot.fake.answered("don't have that profile", after=tapped)
    bot.fake.api.press(stranger, 1799, 1, cb.make("ms", 999999))
    await bot.fake.answered("no longer available", after=tapped)
    assert [m.status for m in await _matches(bot)] == ["pending"]
    assert all("priya_m" not in s.text for s in await bot.fake.quiet(1799, after=mark, by=[stranger, mentee]))


async def test_the_14_day_follow_up_and_a_rematch_excluding_the_old_pair(bot: Harness) -> None:
    await seed(bot, 1801, MENTOR, name="Priya", organisation="Bolton CVS", topics=["diligence", "mou"])
    await seed(bot, 1802, MENTOR, name="Tom", organisation="Age Concern", topics=["diligence"])
    await seed(bot, 1803, MENTEE, name="Ade", organisation="Small Steps", topics=["diligence", "mou"])
    mentee, priya = bot.fake.person(1803, "Ade"), bot.fake.person(1801, "Priya")
    _, mark = await _ask_first(bot, mentee, "Priya")
    await _accept(bot, priya, 1803, after=mark)

    _shift(bot, days=13)
    mark = bot.fake.mark()
    await run_job(bot, "mentor-followups")
    assert await bot.fake.quiet(1803, after=mark, by=bot.fake.person(1803)) == []
    _shift(bot, days=1, minutes=1)
    await run_job(bot, "mentor-followups")
    checkin = await bot.fake.reply_with(1803, "Have you connected?", after=mark)
    assert [label for label, _ in checkin.buttons()] == ["✅ Yes", "⏳ Not yet", "🔄 I need a different buddy"]
    await run_job(bot, "mentor-followups")  # claimed once: not asked twice
    later = await bot.fake.quiet(1803, after=mark, by=bot.fake.person(1803))
    assert len([s for s in later if "connected" in s.text]) == 1

    mark = bot.fake.mark()
    bot.fake.press(mentee, checkin, "different buddy")
    others = await bot.fake.reply_with(1803, "other mentors who could help", after=mark)
    assert [label for label, _ in others.buttons()] == ["Ask Tom"]  # never Priya again
    await bot.fake.reply_with(1801, "has ended", after=mark)
    statuses = [(m.status, m.end_reason) for m in await _matches(bot)]
    assert statuses == [("closed", "rematch")]
    # Priya's place is free again, but the old pair stays apart.
    status = await in_transaction(bot.services.database, mentee_status, telegram_id=1803, now=bot.services.clock())
    assert [s.display_name for s in status.suggestions] == ["Tom"]


async def test_not_yet_asks_again_a_week_later(bot: Harness) -> None:
    await seed(bot, 1851, MENTOR, name="Priya", organisation="Bolton CVS")
    await seed(bot, 1852, MENTEE, name="Ade", organisation="Small Steps")
    mentee, priya = bot.fake.person(1852, "Ade"), bot.fake.person(1851, "Priya")
    _, mark = await _ask_first(bot, mentee, "Priya")
    await _accept(bot, priya, 1852, after=mark)
    _shift(bot, days=14, minutes=1)
    mark = bot.fake.mark()
    await run_job(bot, "mentor-followups")
    checkin = await bot.fake.reply_with(1852, "Have you connected?", after=mark)
    await tap(bot, mentee, checkin, "Not yet", "ask again in a week")
    _shift(bot, days=7, minutes=1)
    mark = bot.fake.mark()
    await run_job(bot, "mentor-followups")
    again = await bot.fake.reply_with(1852, "Have you connected?", after=mark)
    await tap(bot, mentee, again, "Yes", "Great!")


async def test_the_90_day_review_closes_with_a_rating_and_a_comment(bot: Harness) -> None:
    await seed(bot, 1901, MENTOR, name="Priya", organisation="Bolton CVS")
    await seed(bot, 1902, MENTEE, name="Ade", organisation="Small Steps")
    await seed(bot, 1903, MENTEE, name="Bea", organisation="Third Org")
    mentee, priya = bot.fake.person(1902, "Ade"), bot.fake.person(1901, "Priya")
    _, mark = await _ask_first(bot, mentee, "Priya")
    await _accept(bot, priya, 1902, after=mark)
    await say(bot, bot.fake.person(1903, "Bea"), "/mentor", "waiting list")  # Priya is full (capacity 1)

    _shift(bot, days=90, minutes=1)
    mark = bot.fake.mark()
    await run_job(bot, "mentor-followups")
    review = await bot.fake.reply_with(1902, "continue, or close", after=mark)
    mark = bot.fake.mark()
    bot.fake.press(mentee, review, "Close")
    rate = await bot.fake.reply_with(1902, "1 = not helpful", after=mark)
    await bot.fake.reply_with(1901, "has been closed", after=mark)
    await bot.fake.reply_with(1903, "Good news", after=mark)  # the freed place goes to the waiting mentee
    await tap(bot, mentee, rate, "4", "Anything you'd like to add")
    mark = bot.fake.mark()
    bot.fake.say(mentee, "Priya was brilliant <3")
    replies = await bot.fake.replies(1902, after=mark)
    assert [r.text for r in replies] == ["Thank you: your comment is saved."]  # not answered as a question
    [match, *_] = await _matches(bot)
    assert (match.status, match.rating, match.comment) == ("closed", 4, "Priya was brilliant <3")


async def test_buddies_without_usernames_talk_through_the_bot(bot: Harness) -> None:
    await seed(bot, 2001, MENTOR, name="Priya", organisation="Bolton CVS")
    await seed(bot, 2002, MENTEE, name="Ade", organisation="Small Steps")
    mentee, priya = bot.fake.person(2002, "Ade"), bot.fake.person(2001, "Priya")
    _, mark = await _ask_first(bot, mentee, "Priya")
    request = await bot.fake.reply_with(2001, "would like you", after=mark)
    mark = bot.fake.mark()
    bot.fake.press(priya, request, "Accept")
    intro = await bot.fake.reply_with(2001, "reply to this message", after=mark)
    await bot.fake.reply_with(2002, "reply to this message", after=mark)
    mark = bot.fake.mark()
    bot.fake.say(priya, "Hello Ade, free for a call on Tuesday?", reply_to=intro.message_id)
    relayed = await bot.fake.reply_with(2002, "free for a call", after=mark)
    assert "Priya" in relayed.text
    await bot.fake.reply_with(2001, "Passed on", after=mark)
    mark = bot.fake.mark()
    bot.fake.say(mentee, "Tuesday <b>works</b>", reply_to=relayed.message_id)
    back = await bot.fake.reply_with(2001, "Tuesday", after=mark)
    assert "&lt;b&gt;works&lt;/b&gt;" in back.text


async def test_the_whole_cohort_match_proposes_only_people_the_bot_can_reach(bot: Harness) -> None:
    from bot.mentoring.cohort import NOT_STARTED
    from bot.mentoring.csv_import import import_rows, parse_csv
    from bot.mentoring.matching import assign_cohort

    rows, problems = parse_csv("role,name,telegram,organisation,org_type,region,topics,capacity,story\n"
                               "mentor,Tom,2101,Age Concern,charity,London,data sharing,2,Shared data with the NHS\n"
                               "mentee,Ade,@ade_imported,Small Steps,community group,London,GDPR,,\n")
    assert problems == []
    await in_transaction(bot.services.database, import_rows, rows=rows, now=bot.services.clock())
    cohort = await in_transaction(bot.services.database, load_cohort)
    # Ade is known only by a username until he opens the bot: he is listed apart, with the reason.
    assert cohort.mentees == [] and list(cohort.left_out.values()) == [NOT_STARTED]
    assert [cohort.refs[pid] for pid in cohort.left_out] == ["@ade_imported"]

    mark = bot.fake.mark()
    ade = bot.fake.person(2102, "Ade", username="Ade_Imported")
    bot.fake.say(ade, "/start")
    await bot.fake.reply_with(2102, "", after=mark)
    cohort = await in_transaction(bot.services.database, load_cohort)
    assert cohort.left_out == {}
    result = assign_cohort(cohort.mentees, cohort.mentors, cohort.excluded_pairs)
    assert len(result.assignments) == 1
    await in_transaction(bot.services.database, record_proposals, pairs=[(a.mentee_id, a.mentor_id, a.score, a.why)
                                                                         for a in result.assignments],
                         now=bot.services.clock())
    mark = bot.fake.mark()
    await run_job(bot, "mentor-deliveries")
    proposal = await bot.fake.reply_with(2102, "organisers suggest", after=mark)
    assert "Tom" in proposal.text and "Age Concern" not in proposal.text
    await tap(bot, ade, proposal, "Ask Tom", "I've asked")
    await bot.fake.reply_with(2101, "would like you", after=mark)


async def test_privacy_export_and_forget(bot: Harness) -> None:
    await seed(bot, 2201, MENTOR, name="Priya", organisation="Bolton CVS", username="priya_m")
    await seed(bot, 2202, MENTEE, name="Ade", organisation="Small Steps", story="Need help with MoUs")
    mentee, priya = bot.fake.person(2202, "Ade"), bot.fake.person(2201, "Priya")
    _, mark = await _ask_first(bot, mentee, "Priya")
    await _accept(bot, priya, 2202, after=mark)

    async with bot.services.database.transaction() as session:
        exported = await export_user_data(session=session, user_id=2202)
    assert exported["profiles"][0]["organisation"] == "Small Steps"
    assert exported["profiles"][0]["story"] == "Need help with MoUs"
    assert exported["matches"][0]["buddy"] == "Priya" and exported["matches"][0]["status"] == "accepted"
    assert "priya_m" not in str(exported) and "Bolton" not in str(exported)  # the buddy's details are theirs
    async with bot.services.database.transaction() as session:
        assert await export_user_data(session=session, user_id=424242) == {}

    async with bot.services.database.transaction() as session:
        notices = await forget_user(session=session, user_id=2202)
    assert notices == [(2201, "Your buddy match with Ade has ended. Thank you for the time you gave it.")]
    async with bot.services.database.transaction() as session:
        assert await export_user_data(session=session, user_id=2202) == {}
    assert await _matches(bot) == []
    async with bot.services.database.session() as session:
        remaining = (await session.exec(select(MentoringProfile))).all()
    assert [p.display_name for p in remaining] == ["Priya"]
