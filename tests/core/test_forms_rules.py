"""The forms' plain rules: typed answers where buttons are offered, UK dates and times, time zones by
place, telling a question from an answer, and the words for a time moved by the clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.forms.places import read_region
from bot.core.forms.questions import reads_as_question
from bot.core.forms.typed import Option, choose, parse_number, parse_weekday, parse_yes_no
from bot.core.forms.when import NotUnderstood, clock_change_note, parse_date, parse_time
from bot.core.forms.zones import resolve_zone

ORG_TYPES = [Option("community", "Community group"), Option("charity", "Charity"),
             Option("social_enterprise", "Social enterprise"), Option("statutory", "Statutory body"),
             Option("other", "Other")]
REGIONS = [Option(slug, label) for slug, label in (
    ("north_east", "North East"), ("north_west", "North West"), ("yorkshire", "Yorkshire and the Humber"),
    ("east_midlands", "East Midlands"), ("west_midlands", "West Midlands"), ("east", "East of England"),
    ("london", "London"), ("south_east", "South East"), ("south_west", "South West"), ("scotland", "Scotland"),
    ("wales", "Wales"), ("northern_ireland", "Northern Ireland"))]
WEDNESDAY = date(2027, 2, 10)


@pytest.mark.parametrize(("typed", "number"), [("4", 4), ("four", 4), ("Four.", 4), ("4/5", 4), ("4 out of 5", 4),
                                               ("a 3", 3), ("fuor", 4), ("five", 5), ("1", 1)])
def test_scores_typed_as_numbers_or_words(typed: str, number: int) -> None:
    assert parse_number(typed, 1, 5) == number


@pytest.mark.parametrize("typed", ["6", "zero", "lots", "4 or 5", "", "what is four"])
def test_scores_out_of_range_or_unclear_are_not_guessed(typed: str) -> None:
    assert parse_number(typed, 1, 5) is None


@pytest.mark.parametrize(("typed", "value"), [("charity", "charity"), ("a charity", "charity"),
                                              ("Charity.", "charity"), ("chairty", "charity"),
                                              ("community", "community"), ("social enterprise", "social_enterprise"),
                                              ("enterprise", "social_enterprise"), ("statutory", "statutory"),
                                              ("we're a charity", "charity"), ("other", "other")])
def test_option_names_typed_instead_of_tapped(typed: str, value: str) -> None:
    assert choose(typed, ORG_TYPES).value == value


def test_a_typed_answer_close_to_two_options_returns_both_to_ask() -> None:
    reading = choose("north", REGIONS)
    assert reading.value is None
    assert {o.value for o in reading.candidates} >= {"north_east", "north_west"}


def test_text_that_names_no_option_is_not_matched() -> None:
    assert choose("what goes in an MoU?", ORG_TYPES).value is None


@pytest.mark.parametrize(("typed", "region"), [("Carmarthenshire", "wales"), ("carmarthenshire", "wales"),
                                               ("Wales", "wales"), ("north west", "north_west"),
                                               ("Bolton", "north_west"), ("kent", "south_east"),
                                               ("in Leeds", "yorkshire"), ("Glasgow", "scotland"),
                                               ("Belfast", "northern_ireland"), ("Camarthenshire", "wales"),
                                               ("london", "london"), ("yorkshire", "yorkshire")])
def test_regions_by_name_or_by_a_place_in_them(typed: str, region: str) -> None:
    assert read_region(typed, REGIONS).value == region


@pytest.mark.parametrize(("typed", "day"), [("Monday", 0), ("mon", 0), ("tues", 1), ("Wednesdays", 2),
                                            ("weds", 2), ("wendesday", 2), ("thurs", 3), ("on a Friday", 4),
                                            ("sun", 6)])
def test_weekdays_as_people_type_them(typed: str, day: int) -> None:
    assert parse_weekday(typed) == day


@pytest.mark.parametrize(("typed", "answer"), [("yes", True), ("Yep", True), ("yes please", True), ("ok", True),
                                               ("no", False), ("Nope", False), ("no thanks", False),
                                               ("maybe", None), ("what is an MoU?", None)])
def test_yes_and_no(typed: str, answer: bool | None) -> None:
    assert parse_yes_no(typed) is answer


@pytest.mark.parametrize(("typed", "expected"), [
    ("1/3/2027", date(2027, 3, 1)), ("01/03/2027", date(2027, 3, 1)), ("1 March", date(2027, 3, 1)),
    ("1st March 2027", date(2027, 3, 1)), ("tomorrow", date(2027, 2, 11)), ("next Monday", date(2027, 2, 15)),
    ("monday", date(2027, 2, 15)), ("2027-03-01", date(2027, 3, 1)), ("1/3", date(2027, 3, 1)),
    ("today", WEDNESDAY), ("1 Feb", date(2028, 2, 1)), ("31/12/2027", date(2027, 12, 31))])
def test_uk_dates_day_first(typed: str, expected: date) -> None:
    assert parse_date(typed, today=WEDNESDAY) == expected


@pytest.mark.parametrize("typed", ["31/2/2027", "banana", "", "2027-02-30"])
def test_dates_that_are_not_dates_say_how_to_type_one(typed: str) -> None:
    with pytest.raises(NotUnderstood):
        parse_date(typed, today=WEDNESDAY)


@pytest.mark.parametrize(("typed", "expected"), [("9.30am", time(9, 30)), ("9:30", time(9, 30)),
                                                 ("17:00", time(17)), ("5pm", time(17)), ("0930", time(9, 30)),
                                                 ("12pm", time(12)), ("12am", time(0)), ("noon", time(12)),
                                                 ("9", time(9)), ("9.30 a.m.", time(9, 30))])
def test_times_as_people_type_them(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize("typed", ["25:00", "13pm", "half past", "9.75"])
def test_times_that_are_not_times(typed: str) -> None:
    with pytest.raises(NotUnderstood):
        parse_time(typed)


@pytest.mark.parametrize(("typed", "zone"), [("London", "Europe/London"), ("london", "Europe/London"),
                                             ("UK", "Europe/London"), ("GMT", "Europe/London"),
                                             ("BST", "Europe/London"), ("Cardiff", "Europe/London"),
                                             ("Birmingham", "Europe/London"), ("Europe/Dublin", "Europe/Dublin"),
                                             ("europe/london", "Europe/London"), ("Ireland", "Europe/Dublin"),
                                             ("Sydney", "Australia/Sydney"), ("Spain", "Europe/Madrid"),
                                             ("Londn", "Europe/London"), ("UTC", "UTC")])
def test_time_zones_by_city_country_or_abbreviation(typed: str, zone: str) -> None:
    assert resolve_zone(typed).zone == zone


@pytest.mark.parametrize("typed", ["IST", "Australia", "CST"])
def test_an_unclear_time_zone_offers_choices(typed: str) -> None:
    reading = resolve_zone(typed)
    assert reading.zone is None and len(reading.choices) >= 2


def test_a_place_that_is_not_a_place_gives_nothing() -> None:
    reading = resolve_zone("what goes in an MoU")
    assert reading.zone is None and not reading.choices


@pytest.mark.parametrize("text", ["what goes in an MoU?", "how often should we review?",
                                  "how often should we review", "what goes in a memorandum of understanding",
                                  "can you help me find partners", "MoU?"])
def test_questions_read_as_questions(text: str) -> None:
    assert reads_as_question(text)


@pytest.mark.parametrize("text", ["Who Cares Trust", "Valleys Youth Trust", "Bolton CVS", "Riverside Consortium",
                                  "Age UK Bolton, Bolton Council", "What Next Community Group"])
def test_names_do_not_read_as_questions(text: str) -> None:
    assert not reads_as_question(text)


def test_a_time_moved_by_the_clocks_going_forward_is_explained() -> None:
    london = ZoneInfo("Europe/London")
    moved = datetime(2027, 3, 28, 1, 30, tzinfo=london).astimezone(UTC).astimezone(london)
    assert moved.time() == time(2, 30)
    note = clock_change_note(time(1, 30), moved)
    assert note is not None
    assert "clocks go forward" in note and "01:30" in note and "02:30" in note and "28 Mar 2027" in note


def test_an_ordinary_time_needs_no_note() -> None:
    assert clock_change_note(time(9), datetime(2027, 3, 28, 9, 0, tzinfo=ZoneInfo("Europe/London"))) is None


def test_several_names_for_one_value_are_not_a_tie() -> None:
    options = [Option("5", "Yes"), Option("3", "Partly"), Option("1", "No"), Option("5", "yes", ("yep",)),
               Option("3", "partly", ("sort of",))]
    assert choose("yes", options).value == "5" and choose("partly", options).value == "3"
    assert choose("sort of", options).value == "3" and choose("No", options).value == "1"
