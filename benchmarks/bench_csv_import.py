"""Benchmark of the mentor CSV import in bulk (``partnerbot mentors import FILE.csv``).

Run:  uv run python benchmarks/bench_csv_import.py            (prints, and writes its section of
                                                              docs/BENCHMARKS.md)
      uv run python benchmarks/bench_csv_import.py --no-write (prints only)
      uv run python benchmarks/bench_csv_import.py --rows 5000

A seeded synthetic file of 36,000 rows as an admin's spreadsheet would hold them: mentors and mentees,
half with Telegram ids and half with usernames, names of the fixed lists written loosely ("MoU", "due
dilligence", "North West England"), stories of up to 500 characters, and one bad row in fifty (an unknown
region, a capacity of 9, two problems at once). It is imported into a new SQLite database twice (the
second import must change nothing). Time is wall clock; memory is the peak of Python's allocations
(tracemalloc) during the import and the process's peak resident size.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.mentoring.csv_import import ImportReport, import_file  # noqa: E402
from db.engine import Database  # noqa: E402
from db.migrate import upgrade_database  # noqa: E402

BENCHMARKS_MD = ROOT / "docs" / "BENCHMARKS.md"
HEADING = "## Mentor CSV import in bulk"
COMMAND = "uv run python benchmarks/bench_csv_import.py"
TARGET_SECONDS, TARGET_MB = 10.0, 100.0

TOPICS = ["MoU", "due dilligence", "consortium", "data sharing", "governance", "lead agency", "conflict",
          "review", "community involvement", "legal structure", "statutory", "culture"]
REGIONS = ["North West", "north-west", "London", "Yorkshire", "South West England", "Wales", "Scotland",
           "East Midlands", "NE", "West Mids"]
ORG_TYPES = ["charity", "Charity", "community group", "social enterprise", "CIC", "statutory body"]
PHRASE = ("we built a consortium to bid for a council contract and learnt to share risk with partners our "
          "trustees signed a memorandum of understanding after due diligence on each other")
WORDS = PHRASE.split()


def make_csv(rows: int, seed: int = 16) -> tuple[str, int]:
    """The file's text and how many of its rows are bad."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["role", "name", "telegram", "organisation", "org_type", "region", "topics", "capacity",
                     "story", "town"])
    bad = 0
    for number in range(rows):
        role = "mentor" if number % 3 == 0 else "mentee"
        telegram = str(100_000 + number) if number % 2 else f"@person_{number:06d}"
        region, capacity = rng.choice(REGIONS), str(rng.randint(1, 5)) if role == "mentor" else ""
        if number % 50 == 7:
            region, capacity, bad = "Atlantis", "9" if role == "mentor" else capacity, bad + 1
        story = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 60)))[:500]
        writer.writerow([role, f"Person {number}", telegram, f"Organisation {number % 4000}",
                         rng.choice(ORG_TYPES), region, ";".join(rng.sample(TOPICS, rng.randint(1, 3))),
                         capacity, story, rng.choice(["Bolton", "Leeds", "", "Cardiff"])])
    return out.getvalue(), bad


async def _fresh(folder: Path, name: str) -> Database:
    database = Database(f"sqlite+aiosqlite:///{folder / name}")
    await upgrade_database(database)
    return database


async def _import(database: Database, path: Path, now: datetime) -> ImportReport:
    """One import as the command line runs it: one transaction."""
    async with database.transaction() as session:
        return await import_file(session=session, path=path, now=now)


async def run(rows: int) -> dict[str, float]:
    """Time the first and the second import (no tracing), then the first again on a new database with
    tracemalloc on (it slows Python down several times, so it is never on while timing)."""
    text, bad = make_csv(rows)
    now = datetime(2026, 12, 2, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "people.csv"
        path.write_text(text, encoding="utf-8")
        del text
        database = await _fresh(folder, "timed.db")
        started = time.perf_counter()
        report = await _import(database, path, now)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = await _import(database, path, now)
        second = time.perf_counter() - started
        await database.dispose()
        database = await _fresh(folder, "traced.db")
        tracemalloc.start()
        await _import(database, path, now)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        await database.dispose()
    assert report.created == rows - bad and len(report.problems) == bad, (report.created, len(report.problems))
    assert again.created == 0 and again.updated == 0 and again.unchanged == rows - bad
    return {"rows": rows, "bad": bad, "first": first, "second": second, "peak_mb": peak / 2**20,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def section(result: dict[str, float]) -> str:
    load = os.getloadavg()[0]
    return (f"{HEADING}\n\n`{COMMAND}` (seeded synthetic file; CPython {platform.python_version()}, "
            f"{platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} when it ran; SQLite). "
            f"{int(result['rows']):,} rows, {int(result['bad']):,} of them bad (each reported with every "
            "problem it has), imported into a new database, then the same file again. Before this work the "
            "same size took 109 s and 169 MB (issue 14).\n\n"
            "| measure | result | target |\n|---|---|---|\n"
            f"| first import (all new) | {result['first']:.1f} s | < {TARGET_SECONDS:.0f} s |\n"
            f"| second import (nothing changes) | {result['second']:.1f} s | |\n"
            f"| peak Python memory during the import (tracemalloc) | {result['peak_mb']:.0f} MB "
            f"| < {TARGET_MB:.0f} MB |\n"
            f"| peak resident size of the whole process | {result['maxrss_mb']:.0f} MB | |\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=36_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.rows))
    text = section(result)
    print(text)
    if not args.no_write and args.rows == 36_000:
        current = BENCHMARKS_MD.read_text(encoding="utf-8")
        if HEADING in current:
            start = current.index(HEADING)
            end = current.find("\n## ", start + len(HEADING))
            current = current[:start] + text + (current[end:] if end != -1 else "")
        else:
            current = current.rstrip("\n") + "\n\n" + text
        BENCHMARKS_MD.write_text(current, encoding="utf-8")
    return 0 if result["first"] < TARGET_SECONDS and result["peak_mb"] < TARGET_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
