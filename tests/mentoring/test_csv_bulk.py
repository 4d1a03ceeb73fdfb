"""The mentor CSV import in bulk: every problem of a row reported at once, a UTF-16 file ("Unicode text"
from Excel) recognised, one that cannot be read refused with a clear line, and a large file imported with
the same results as row by row (speed and memory are measured by benchmarks/bench_csv_import.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.mentoring.csv_import import ImportFileError, import_file, parse_csv, read_text
from db.mentoring_models import MentoringPerson, MentoringProfile
from tests.mentoring.mentor_support import HEADER, in_transaction
from tests.mentoring.test_mentor_import import GOOD
from tests.reviews.review_support import migrated

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def test_every_problem_of_a_row_is_reported_not_only_the_first() -> None:
    rows, problems = parse_csv(HEADER + "boss,,not a username!,,martian,Atlantis,knitting,9," + "s" * 501 + "\n")
    assert rows == [] and [p.line for p in problems] == [2]
    reason = problems[0].reason
    for expected in ("role must be mentor or mentee", "name is empty", "organisation is empty", "telegram must",
                     "unknown org_type", "unknown region", "unknown topic", "story is 501 characters"):
        assert expected in reason, (expected, reason)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_recognised(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes((HEADER + "mentor,Zoë Ní Bhriain,@zoe_nb,Café Trust,charity,Wales,MoU,2,Ça va 🤝\n")
                     .encode(encoding))
    rows, problems = parse_csv(read_text(path))
    assert problems == [] and rows[0].draft.display_name == "Zoë Ní Bhriain" and rows[0].draft.story == "Ça va 🤝"


def test_a_broken_utf16_file_is_refused_with_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"\xff\xfe" + HEADER.encode("utf-16-le") + b"\x00\xd8")  # a lone surrogate half
    with pytest.raises(ImportFileError, match=r"UTF-16.*CSV UTF-8"):
        read_text(path)


async def test_a_thousand_rows_import_in_bulk_and_again_change_nothing(tmp_path: Path, db_url: str) -> None:
    lines = [HEADER] + [f"mentee,Person {n},{200_000 + n},Org {n % 40},charity,London,MoU;gdpr,,story {n}\n"
                        for n in range(1000)]
    lines += ["mentor,Person 5,200005,Org 5,charity,London,conflict,2,mentor too\n"]  # one person, both roles
    path = tmp_path / "people.csv"
    path.write_text("".join(lines) + GOOD.split("\n", 1)[1], encoding="utf-8")
    async with migrated(db_url) as database:
        first = await in_transaction(database, import_file, path=path, now=NOW)
        assert (first.created, first.updated, first.unchanged, first.problems) == (1005, 0, 0, [])
        again = await in_transaction(database, import_file, path=path, now=NOW)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 1005)
        async with database.session() as session:
            assert (await session.exec(select(func.count()).select_from(MentoringPerson))).one() == 1004
            assert (await session.exec(select(func.count()).select_from(MentoringProfile))).one() == 1005
