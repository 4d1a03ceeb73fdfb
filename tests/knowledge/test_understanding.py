"""Understanding people as they write: the question inside a long message, small talk, near-topic subjects,
and matching by meaning (with the words-only fallback when the model cannot load)."""

from __future__ import annotations

import pytest

from knowledge import embedding
from knowledge.engine import Matcher
from knowledge.loader import load_knowledge_base
from knowledge.scope import outside_subject
from knowledge.segments import asks, segments
from knowledge.smalltalk import reply, small_talk

LONG = ("Hi, hope you're well. I coordinate a small lunch club for older people in the town and we have "
        "been running for about twelve years with a handful of volunteers and one part-time worker. Last "
        "month the council's commissioning team got in touch and said they would like several local groups "
        "to work together on a new contract. We have been asked to join a consortium with five other "
        "organisations. How do we decide whether joining a partnership is right for our organisation? "
        "Our trustees meet next week and I'd like to give them something solid. The other groups are "
        "lovely but much bigger than us and I do worry about keeping our own way of doing things.")


def test_the_asking_sentence_is_found_inside_context() -> None:
    parts = segments(LONG)
    assert parts[0].text == LONG  # the whole message is matched too
    asking = [p.text for p in parts[1:] if p.asks]
    assert asking == ["How do we decide whether joining a partnership is right for our organisation?"]
    assert not asks("Our trustees meet next week and I'd like to give them something solid.")
    assert asks("honestly not sure where to even start")
    assert segments("what is an mou?") == segments("what is an mou?")[:1]  # short: one segment


@pytest.mark.parametrize(("text", "kind"), [
    ("hi", "greeting"), ("Hello there!", "greeting"), ("thanks", "thanks"), ("cheers mate 👍", "thanks"),
    ("ok", "ack"), ("👍", "ack"), ("are you a real person?", "identity"), ("What can you do?", "abilities"),
    ("thank you so much, that's really helpful", "thanks"), ("bye", "bye"),
])
def test_small_talk_is_recognised(text: str, kind: str) -> None:
    assert small_talk(text) == kind
    assert "partnership" in reply(small_talk(text)) or kind == "bye"  # says what the bot is for


@pytest.mark.parametrize("text", ["thanks, and how do we share data with partners?", "hi what is an mou",
                                  "ok so who leads the consortium", "?", "", "partnership"])
def test_a_question_with_small_talk_around_it_is_still_a_question(text: str) -> None:
    assert small_talk(text) is None


@pytest.fixture(scope="module")
def real() -> Matcher:
    return Matcher(load_knowledge_base())


def test_small_talk_is_never_matched_to_an_entry(real: Matcher) -> None:
    for text in ("hi", "thanks", "cheers mate 👍", "ok", "are you a real person?"):
        outcome = real.ask(text)
        assert outcome.kind == "smalltalk" and outcome.best is None and outcome.suggestions == ()


def test_long_message_with_the_question_in_the_middle_is_answered(real: Matcher) -> None:
    outcome = real.ask(LONG)
    assert outcome.kind == "answer" and outcome.best is not None
    assert outcome.best.entry.id in {"partnership-should-we-join", "partner-good-fit"}


@pytest.mark.parametrize(("text", "subject"), [
    ("how do I apply for universal credit", "welfare benefits"),
    ("do we charge VAT when we recharge a partner for staff time", "VAT and tax"),
    ("what insurance does our charity need to deliver part of a consortium contract", "insurance"),
    ("can we make our consortium coordinator redundant", "employment law and HR"),
    ("tips for a lottery bid with partners", "funding applications"),
])
def test_near_topic_questions_are_declined_with_their_subject(real: Matcher, text: str, subject: str) -> None:
    outcome = real.ask(text)
    assert outcome.kind == "decline" and outcome.outside == subject


def test_an_entry_that_covers_the_subject_still_answers(real: Matcher) -> None:
    entry = load_knowledge_base().get("policy-finance-act-2006")
    assert entry is not None and outside_subject("can charities gift aid to a partner", entry) is None


def test_meaning_finds_an_entry_that_shares_no_word(real: Matcher) -> None:
    if not real.by_meaning:
        pytest.skip("the embedding model is not installed here")
    words_only = Matcher(load_knowledge_base(), by_meaning=False)
    text = "who actually has the power in our partnership? the council seems to call all the shots"
    outcome = real.ask(text)
    assert outcome.kind == "answer" and outcome.best is not None and outcome.best.entry.id == "partnership-power"
    assert words_only.ask(text).kind != "answer"


def test_without_the_model_the_bot_runs_on_words_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "_model_file", lambda: (_ for _ in ()).throw(FileNotFoundError("no model")))
    embedding.reset_for_tests()
    try:
        matcher = Matcher(load_knowledge_base())
        assert not matcher.by_meaning
        assert "no model" in (embedding.model_problem() or "")
        outcome = matcher.ask("what is a memorandum of understanding")
        assert outcome.kind == "answer" and outcome.best is not None and outcome.best.entry.id == "mou-what-is"
    finally:
        embedding.reset_for_tests()
