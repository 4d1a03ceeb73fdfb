"""Importing mentors and mentees from CSV, and the admins' commands: bad rows reported by line and
reason and skipped, the rest imported, a second import changes nothing, no input crashes it; and
``partnerbot mentors list / match --json [--apply]`` with the ids from the CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.mentoring.cohort import list_profiles
from bot.mentoring.csv_import import ImportFileError, import_rows, parse_csv
from bot.mentoring.drafts import validate_draft
from bot.mentoring.lists import MENTEE
from bot.mentoring.profiles import link_person, profiles_of, save_profile
from db.engine import Database
from db.mentoring_models import MentoringPerson, MentoringProfile, MentorMatch
from db.migrate import upgrade_database
from db.types import utcnow
from tests.mentoring.mentor_support import HEADER, in_transaction

GOOD = (HEADER
        + "mentor,Priya,@priya_m,Bolton CVS,charity,North West,due diligence;MoU,2,\"We merged, and learnt a lot.\"\n"
        + "mentor,Tom,1001,Age Concern,Charity,London,Data sharing;statutory,1,Shared data with the NHS.\n"
        + "mentee,Ade,@ade_k,Small Steps,community group,north-west,Due dilligence; MoUs,,Signing an MoU soon.\n"
        + "mentee,Bea,2002,Third Space,social enterprise,London,gdpr,,\n")
BAD = (GOOD
       + "mentee,Cy,@cy_p,X Org,charity,Atlantis,due diligence,,\n"                     # line 6: region
       + "mentor,Di,@di_q,Y Org,charity,London,conflict,9,\n"                           # line 7: capacity
       + "mentee,Ed,not a username!,Z Org,charity,London,conflict,,\n"                  # line 8: telegram
       + "mentee,Flo,@flo_r,W Org,charity,London,knitting;conflict,,\n"                 # line 9: topic
       + "boss,Gus,@gus_s,V Org,charity,London,conflict,,\n"                            # line 10: role
       + f"mentee,{'H' * 101},@h_h,U Org,charity,London,conflict,,\n"                   # line 11: name
       + "mentee,Ade again,@Ade_K,Small Steps,community group,London,MoU,,\n"           # line 12: duplicate
       + "mentee,Ivy,@ivy_i,T Org,charity,London,,,\n"                                  # line 13: no topics
       + f"mentee,Jo,@jo_j,S Org,charity,London,conflict,,{'s' * 501}\n")                # line 14: story


def test_bad_rows_are_reported_by_line_and_reason_and_the_rest_kept() -> None:
    rows, problems = parse_csv(BAD)
    assert [r.draft.display_name for r in rows] == ["Priya", "Tom", "Ade", "Bea"]
    assert [(p.line, p.reason.split(" ")[0] + " " + p.reason.split(" ")[1]) for p in problems] == [
        (6, "unknown region"), (7, "capacity must"), (8, "telegram must"), (9, "unknown topic"), (10, "role must"),
        (11, "name is"), (12, "the same"), (13, "topics is"), (14, "story is")]
    assert "'knitting'" in problems[3].reason and "line 4" in problems[6].reason


def test_names_from_the_fixed_lists_are_matched_forgivingly() -> None:
    rows, _ = parse_csv(GOOD)
    priya, tom, ade, bea = rows
    assert (priya.username, priya.telegram_id, priya.draft.topics, priya.draft.capacity) == (
        "priya_m", None, ["diligence", "mou"], 2)
    assert (tom.telegram_id, tom.draft.topics, tom.draft.partner_types) == (1001, ["data", "statutory"], ["statutory"])
    assert (ade.draft.org_type, ade.draft.region, ade.draft.topics) == ("community", "north_west", ["diligence", "mou"])
    assert (bea.draft.org_type, bea.draft.topics) == ("social_enterprise", ["data"])


def test_a_quoted_story_over_several_lines_keeps_the_line_numbers_right() -> None:
    text = HEADER + 'mentor,Kim,@kim_k,K Org,charity,Wales,conflict,1,"first\nsecond\nthird"\n' \
                    "mentor,Lu,@lu_l,L Org,charity,Mars,conflict,1,\n"
    rows, problems = parse_csv(text)
    assert rows[0].draft.story == "first\nsecond\nthird"
    assert [(p.line, p.reason.split(" ")[0]) for p in problems] == [(5, "unknown")]


def test_an_unusable_file_is_one_clear_error() -> None:
    with pytest.raises(ImportFileError, match="missing column"):
        parse_csv("name,telegram\nAde,@ade\n")
    with pytest.raises(ImportFileError, match="empty"):
        parse_csv("")


def test_very_long_fields_nuls_and_control_characters_never_crash() -> None:
    text = (HEADER + "mentor,Ma\x00x,@max_m,M\x1b[31m Org,charity,London,conflict,1," + "z" * 200_000 + "\n"
            + "mentor,Ned,@ned_n,N Org,charity,London,conflict,1,\u202eevil\u202c story 🤝\n")
    rows, problems = parse_csv(text)
    assert [p.line for p in problems] == [2]
    assert problems[0].reason == "story is 200000 characters; at most 500"
    huge = HEADER + "mentor,Oz,@oz_o,O Org,charity,London,conflict,1," + "q" * 1_200_000 + "\n" \
        + "mentor,Pat,@pat_p,P Org,charity,London,conflict,1,ok\n"
    rows_huge, problems_huge = parse_csv(huge)
    assert [p.line for p in problems_huge] == [2] and "could not read" in problems_huge[0].reason
    assert [r.draft.display_name for r in rows_huge] == ["Pat"]
    assert rows[0].draft.story == "evil story 🤝"  # direction overrides removed, emoji kept


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.text(max_size=60), min_size=0, max_size=11), max_size=6))
def test_any_text_at_all_gives_a_report_not_a_crash(cells: list[list[str]]) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER.strip().split(","))
    for row in cells:
        writer.writerow(row)
    rows, problems = parse_csv(buffer.getvalue())
    for row in rows:
        assert len(row.draft.display_name) <= 100 and len(row.draft.story) <= 500 and row.draft.topics
    assert all(problem.line >= 2 for problem in problems)


@pytest.fixture
async def database(db_url: str):  # type: ignore[no-untyped-def]
    db = Database(db_url)
    await upgrade_database(db)
    yield db
    await db.dispose()


async def _snapshot(database: Database) -> list[tuple]:
    async with database.session() as session:
        people = (await session.exec(select(MentoringPerson).order_by(MentoringPerson.id))).all()
        profiles = (await session.exec(select(MentoringProfile).order_by(MentoringProfile.id))).all()
    return ([(p.id, p.telegram_id, p.username, p.import_ref) for p in people]
            + [(p.id, p.role, p.display_name, p.topics, p.capacity, p.updated_at) for p in profiles])


async def test_importing_the_same_file_twice_changes_nothing(database: Database) -> None:
    rows, _ = parse_csv(BAD)
    first = await in_transaction(database, import_rows, rows=rows, now=utcnow())
    assert (first.created, first.updated, first.unchanged) == (4, 0, 0)
    before = await _snapshot(database)
    second = await in_transaction(database, import_rows, rows=parse_csv(BAD)[0], now=utcnow())
    assert (second.created, second.updated, second.unchanged) == (0, 0, 4)
    assert await _snapshot(database) == before


async def test_a_changed_row_updates_but_the_persons_own_edits_are_kept(database: Database) -> None:
    await in_transaction(database, import_rows, rows=parse_csv(GOOD)[0], now=utcnow())
    # Tom (numeric id 1001) edits his profile in the bot; Priya's row changes in the file.
    draft = validate_draft({"role": "mentor", "display_name": "Tom T", "organisation": "Age Concern",
                                  "org_type": "charity", "region": "london", "topics": ["data"], "capacity": 3})
    await in_transaction(database, save_profile, telegram_id=1001, username=None, first_name="Tom", draft=draft,
                         now=utcnow())
    changed = GOOD.replace("due diligence;MoU,2,", "due diligence;MoU,3,")
    report = await in_transaction(database, import_rows, rows=parse_csv(changed)[0], now=utcnow())
    assert (report.created, report.updated, report.unchanged, report.kept) == (0, 1, 2, [3])
    profiles = {p["name"]: p for p in (await in_transaction(database, list_profiles))}
    assert profiles["Priya"]["capacity"] == 3 and profiles["Tom T"]["capacity"] == 3


async def test_an_imported_username_is_linked_when_its_owner_talks_to_the_bot(database: Database) -> None:
    await in_transaction(database, import_rows, rows=parse_csv(GOOD)[0], now=utcnow())
    assert await in_transaction(database, link_person, telegram_id=555, username="Ade_K", first_name="Ade") is True
    # already linked, then someone unknown (creates nothing)
    assert await in_transaction(database, link_person, telegram_id=555, username="ade_k", first_name="Ade") is False
    assert await in_transaction(database, link_person, telegram_id=556, username="stranger", first_name="S") is False
    profiles = await in_transaction(database, profiles_of, telegram_id=555)
    assert profiles[MENTEE].display_name == "Ade"
    assert await in_transaction(database, profiles_of, telegram_id=556) == {}


# -- the command line ---------------------------------------------------------------------------------------------
def _cli(db_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["mentors", *args], env={"DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"})


def test_the_import_list_and_match_commands(db_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(BAD, encoding="utf-8")
    first = _cli(db_url, "import", str(csv_file))
    assert first.exit_code == 1  # some rows were not imported
    assert "Imported: 4 new, 0 updated, 0 unchanged." in first.output
    assert "line 6: unknown region 'Atlantis'" in first.output and "line 7: capacity" in first.output
    again = _cli(db_url, "import", str(csv_file))
    assert "Imported: 0 new, 0 updated, 4 unchanged." in again.output

    listed = json.loads(_cli(db_url, "list", "--json").output)["profiles"]
    assert sorted((p["id"] for p in listed), key=str) == [1001, 2002, "@ade_k", "@priya_m"]

    matched = _cli(db_url, "match", "--json")
    assert matched.exit_code == 0
    data = json.loads(matched.output)
    assert set(data) == {"assignments", "unmatched", "left_out"}
    # Only people the bot can reach are matched: those known by a username have not opened the bot yet.
    assert [(a["mentee"], a["mentor"]) for a in data["assignments"]] == [(2002, 1001)]
    assert all(set(a) == {"mentee", "mentor", "score"} and isinstance(a["score"], float) for a in data["assignments"])
    assert data["unmatched"] == []
    assert sorted(item["person"] for item in data["left_out"]) == ["@ade_k", "@priya_m"]
    assert {item["reason"] for item in data["left_out"]} == {"has not opened the bot yet, so the bot cannot "
                                                             "message them"}
    text = _cli(db_url, "match").output
    assert "1 of 1 waiting mentees matched" in text and "@ade_k: has not opened the bot yet" in text

    listed_text = _cli(db_url, "list").output
    assert "topics: Due diligence; Partnership agreements and MoUs" in listed_text  # whole topics, not one word


def test_match_apply_records_proposals_once(db_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(GOOD, encoding="utf-8")
    assert _cli(db_url, "import", str(csv_file)).exit_code == 0
    applied = _cli(db_url, "match", "--json", "--apply")
    assert applied.exit_code == 0 and len(json.loads(applied.stdout)["assignments"]) == 1
    # Mentees with a proposal are no longer waiting: a second run proposes nobody twice.
    again = json.loads(_cli(db_url, "match", "--json").stdout)
    assert again["assignments"] == [] and again["unmatched"] == []

    async def count() -> list[str]:
        db = Database(db_url)
        async with db.session() as session:
            statuses = [m.status for m in (await session.exec(select(MentorMatch))).all()]
        await db.dispose()
        return statuses

    import asyncio

    assert asyncio.run(count()) == ["proposed"]


def test_a_missing_file_is_one_line(db_url: str, tmp_path: Path) -> None:
    result = _cli(db_url, "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "Cannot import" in result.output
