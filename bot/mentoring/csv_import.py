"""Importing mentors and mentees from a CSV file (``partnerbot mentors import FILE.csv``).

Admins of a council for voluntary service keep their lists in spreadsheets, typed by hand: so every
row is validated on its own, names from the fixed lists are matched forgivingly ("MoU", "due dilligence",
"Yorkshire"), a bad row is reported with its line number and the reason and is not imported, and the
good rows are. Importing the same file twice changes nothing. Any text at all (control characters,
emoji, right-to-left marks, a 100,000-character field) gives a report, never a crash.

Columns: role, name, telegram, organisation, org_type, region, topics (';'-separated), capacity, story;
optional: town, stage (';'-separated for mentors), partner_types (';'-separated).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process
from sqlalchemy import bindparam, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.mentoring.cleaning import clean_line, clean_story, normalise_username
from bot.mentoring.drafts import (
    MAX_CAPACITY,
    MIN_CAPACITY,
    ProfileDraft,
    ProfileError,
    validate_draft,
)
from bot.mentoring.lists import MENTEE, MENTOR, ORG_TYPES, REGIONS, STAGES, TOPICS, Choice, join_slugs
from bot.mentoring.store import ProfileSource
from db.mentoring_models import MAX_NAME_CHARS, MAX_STORY_CHARS, MentoringPerson, MentoringProfile

T = TypeVar("T")

REQUIRED_COLUMNS = ("role", "name", "telegram", "organisation", "org_type", "region", "topics")
OPTIONAL_COLUMNS = ("capacity", "story", "town", "stage", "partner_types")
MAX_TELEGRAM_ID = 2**52
FUZZY_CUTOFF = 85.0

_EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    # topics
    "finding": ("finding a partner", "partner search", "finding collaborators"),
    "consortia": ("consortium", "consortia", "joint bids", "joint bid", "bids", "bidding", "tendering"),
    "mou": ("mou", "mous", "memorandum of understanding", "partnership agreement", "agreements"),
    "diligence": ("due dilligence", "checking partners"),
    "governance": ("governance", "joint board", "joint boards", "boards"),
    "legal": ("legal structure", "mergers", "merger", "merging", "legal form"),
    "statutory": ("statutory", "statutory bodies", "council", "councils", "local authority", "nhs", "commissioners"),
    "lead": ("lead agency", "lead partner", "sub-contracting", "subcontracting", "sub contracting"),
    "data": ("data sharing", "data protection", "gdpr", "information sharing"),
    "conflict": ("conflict", "conflicts", "difficult partners", "disputes"),
    "culture": ("culture", "communication", "communications"),
    "review": ("review", "reviewing", "evaluation", "evaluating", "monitoring and evaluation"),
    "community": ("community involvement", "community engagement", "involving communities"),
    # organisation types
    "social_enterprise": ("social enterprise", "cic", "community interest company"),
    "charity": ("charity", "registered charity", "cio"),
    # regions
    "north_east": ("north east england", "ne"),
    "north_west": ("north west england", "nw"),
    "yorkshire": ("yorkshire", "yorkshire and humber", "humber"),
    "east": ("east of england", "east anglia", "eastern"),
    "east_midlands": ("east mids",),
    "west_midlands": ("west mids",),
    "south_east": ("south east england", "se"),
    "south_west": ("south west england", "sw"),
    "northern_ireland": ("northern ireland", "ni"),
    "wales": ("cymru",),
}
_ORG_ALIASES = {"community": ("community group", "community organisation", "voluntary group", "community"),
                "statutory": ("statutory", "statutory body", "council", "local authority", "nhs", "public body")}


class ImportFileError(Exception):
    """The file as a whole cannot be read (not found, not text, missing columns)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportRow:
    """One valid row: who (a Telegram id or a username), as written in the file, and the profile."""

    line: int
    ref: str
    telegram_id: int | None
    username: str | None
    draft: ProfileDraft


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: list[int] = field(default_factory=list)  # lines whose person has since edited their profile
    problems: list[RowProblem] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"Imported: {self.created} new, {self.updated} updated, {self.unchanged} unchanged."]
        if self.kept:
            out.append(f"Kept {len(self.kept)} profile(s) as their owners last edited them in the bot "
                       f"(lines {', '.join(str(n) for n in self.kept)}).")
        if self.problems:
            out.append(f"{len(self.problems)} row(s) not imported:")
            out.extend(f"  {problem}" for problem in self.problems)
        return out


def _aliases(choices: tuple[Choice, ...], extra: dict[str, tuple[str, ...]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for choice in choices:
        for name in (choice.slug, choice.slug.replace("_", " "), choice.label, choice.short,
                     *extra.get(choice.slug, ())):
            key = default_process(name)
            if key:
                table.setdefault(key, choice.slug)
    return table


_TOPIC_ALIASES = _aliases(TOPICS, _EXTRA_ALIASES)
_ORG_TYPE_ALIASES = _aliases(ORG_TYPES, {**_EXTRA_ALIASES, **_ORG_ALIASES})
_REGION_ALIASES = _aliases(REGIONS, _EXTRA_ALIASES)
_STAGE_ALIASES = _aliases(STAGES, {})


def match_choice(value: str, aliases: dict[str, str]) -> str | None:
    """The slug ``value`` names: an exact name or alias first, else the closest above the cutoff."""
    key = default_process(value)
    if not key:
        return None
    if key in aliases:
        return aliases[key]
    if len(key) < 4:  # too short to guess from: "ab" must not become anything
        return None
    found = process.extractOne(key, list(aliases), scorer=fuzz.token_sort_ratio, score_cutoff=FUZZY_CUTOFF)
    return aliases[found[0]] if found else None


def _parse_list(value: str, aliases: dict[str, str], what: str) -> list[str]:
    slugs: list[str] = []
    for part in value.split(";"):
        part = clean_line(part, 200)
        if not part:
            continue
        slug = match_choice(part, aliases)
        if slug is None:
            raise ProfileError(f"unknown {what} {part[:40]!r}")
        if slug not in slugs:
            slugs.append(slug)
    return slugs


def _telegram(value: str) -> tuple[int | None, str | None]:
    text = clean_line(value, 200)
    for prefix in ("https://t.me/", "http://t.me/", "t.me/"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    if text.isdigit() and text.isascii():
        number = int(text)
        if 0 < number < MAX_TELEGRAM_ID:
            return number, None
    handle = normalise_username(text)
    if handle is None:
        raise ProfileError(f"telegram must be a username like @jo_smith or a numeric id, not {text[:40]!r}")
    return None, handle


def parse_row(line: int, raw: dict[str, str]) -> ImportRow:
    """Validate one row; raise ProfileError naming every problem it has ("; "-separated), so an admin
    fixes a row once instead of once per problem."""
    problems: list[str] = []

    def check(parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except ProfileError as exc:
            problems.append(str(exc))
            return None

    role = clean_line(raw.get("role"), 40).lower()
    if role not in (MENTOR, MENTEE):
        problems.append(f"role must be mentor or mentee, not {role[:40]!r}" if role else "role is empty")
    name = clean_line(raw.get("name"), 10_000)
    if not name:
        problems.append("name is empty")
    elif len(name) > MAX_NAME_CHARS:
        problems.append(f"name is {len(name)} characters; at most {MAX_NAME_CHARS}")
    organisation = clean_line(raw.get("organisation"), 10_000)
    if not organisation:
        problems.append("organisation is empty")
    elif len(organisation) > MAX_NAME_CHARS:
        problems.append(f"organisation is {len(organisation)} characters; at most {MAX_NAME_CHARS}")
    telegram_id, username = None, None
    if not clean_line(raw.get("telegram")):
        problems.append("telegram is empty")
    else:
        telegram_id, username = check(lambda: _telegram(raw.get("telegram") or "")) or (None, None)
    org_type = match_choice(clean_line(raw.get("org_type"), 200), _ORG_TYPE_ALIASES)
    if org_type is None:
        problems.append(f"unknown org_type {clean_line(raw.get('org_type'), 40)!r} "
                        f"(use one of: {', '.join(c.label for c in ORG_TYPES)})")
    region = match_choice(clean_line(raw.get("region"), 200), _REGION_ALIASES)
    if region is None:
        problems.append(f"unknown region {clean_line(raw.get('region'), 40)!r} "
                        "(use an English region, Scotland, Wales or Northern Ireland)")
    topics = check(lambda: _parse_list(raw.get("topics") or "", _TOPIC_ALIASES, "topic"))
    if topics == []:
        problems.append("topics is empty (give at least one, separated by ';')")
    stages = check(lambda: _parse_list(raw.get("stage") or "", _STAGE_ALIASES, "stage")) or []
    if role == MENTEE and len(stages) > 1:
        problems.append("a mentee has one stage")
    partner_types = check(lambda: _parse_list(raw.get("partner_types") or "", _ORG_TYPE_ALIASES,
                                              "partner type")) or []
    if not partner_types and topics and "statutory" in topics:
        partner_types = ["statutory"]  # working with statutory bodies is dealing with them
    capacity_text = clean_line(raw.get("capacity"), 40)
    capacity = 1
    if role == MENTOR and capacity_text:
        try:
            capacity = int(float(capacity_text)) if float(capacity_text).is_integer() else -1
        except (ValueError, OverflowError):
            capacity = -1
        if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
            problems.append(f"capacity must be a whole number from 1 to 5, not {capacity_text[:20]!r}")
    story = clean_story(raw.get("story"))
    if len(story) > MAX_STORY_CHARS:
        problems.append(f"story is {len(story)} characters; at most {MAX_STORY_CHARS}")
    if problems:
        raise ProfileError("; ".join(problems))
    draft = validate_draft({"role": role, "display_name": name, "organisation": organisation, "org_type": org_type,
                            "region": region, "town": clean_line(raw.get("town")) or None, "topics": topics,
                            "stages": stages, "partner_types": partner_types, "story": story,
                            "capacity": capacity})
    ref = str(telegram_id) if telegram_id is not None else clean_line(raw.get("telegram"), 64)
    return ImportRow(line, ref, telegram_id, username, draft)


def _utf16(data: bytes) -> str | None:
    """The text of a UTF-16 file ("Unicode text" as Excel saves it), recognised by its byte-order mark or,
    without one, by the zero bytes every other byte of mostly-ASCII text has; None when it is not UTF-16."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    else:
        sample = data[:4096]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if len(sample) < 4 or max(even, odd) < len(sample) // 4:
            return None
        encoding = "utf-16-le" if odd > even else "utf-16-be"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise ImportFileError("the file looks like UTF-16 (\"Unicode text\") but cannot be read as it: "
                              "save it from the spreadsheet as \"CSV UTF-8\"") from None


def read_text(path: Path) -> str:
    """The file's text: UTF-16 recognised ("Unicode text" from Excel), UTF-8 with or without a byte-order
    mark, else Windows-1252 as older Excel saves CSV."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = _utf16(data)
    if text is not None:
        return text.lstrip("\ufeff")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{path} is not a text CSV file (save it as CSV UTF-8)")


def parse_csv(text: str) -> tuple[list[ImportRow], list[RowProblem]]:
    """Every row validated: the good rows, and each bad row's line number and reason."""
    csv.field_size_limit(1_000_000)
    reader = csv.reader(io.StringIO(text.replace("\x00", "")))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportFileError("the file is empty (expected a header row: "
                              + ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS) + ")") from None
    columns = [clean_line(name, 60).lower().replace(" ", "_") for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ImportFileError(f"missing column(s): {', '.join(missing)} (the header row must name: "
                              + ", ".join(REQUIRED_COLUMNS) + "; optional: " + ", ".join(OPTIONAL_COLUMNS) + ")")
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(RowProblem(line, f"could not read this row ({exc})"))
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not any(value.strip() for value in values):
            continue
        if len(values) > len(columns) and any(value.strip() for value in values[len(columns):]):
            problems.append(RowProblem(start, f"has {len(values)} values but the header names {len(columns)} "
                                              "(a comma inside a value needs quotes)"))
            continue
        raw = dict(zip(columns, values, strict=False))
        try:
            row = parse_row(start, raw)
        except ProfileError as exc:
            problems.append(RowProblem(start, str(exc)))
            continue
        key = (str(row.telegram_id) if row.telegram_id is not None else f"@{row.username}", row.draft.role)
        if key in seen:
            problems.append(RowProblem(start, f"the same person and role as line {seen[key]}"))
            continue
        seen[key] = start
        rows.append(row)
    return rows, problems


#: Rows written to the database per statement: a bounded batch keeps memory flat however long the file.
BATCH = 1000


def profile_columns(draft: ProfileDraft) -> dict[str, object]:
    """The profile columns a draft sets, as stored (lists as ';'-joined slugs in the fixed order)."""
    return {"display_name": draft.display_name, "organisation": draft.organisation, "org_type": draft.org_type,
            "region": draft.region, "town": draft.town, "topics": join_slugs(draft.topics, TOPICS),
            "stages": join_slugs(draft.stages, STAGES), "partner_types": join_slugs(draft.partner_types, ORG_TYPES),
            "story": draft.story, "capacity": draft.capacity}


def _batches(items: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    return [items[i:i + BATCH] for i in range(0, len(items), BATCH)]


async def import_rows(*, session: AsyncSession, rows: list[ImportRow], now: datetime) -> ImportReport:
    """Store valid rows, in bulk. New people and profiles are created; imported profiles are updated only
    when the file says something new; a profile its owner has edited in the bot is kept as they left it.

    The people and profiles already known are read once (a few columns each), the new ones are inserted
    and the changed ones updated in batches of BATCH rows: tens of thousands of rows take seconds, not the
    minutes that a query per row took.
    """
    report = ImportReport()
    people, profiles = MentoringPerson.__table__, MentoringProfile.__table__  # type: ignore[attr-defined]
    connection = await session.connection()  # Core statements in bulk, in the session's transaction
    by_id: dict[int, int] = {}
    by_username: dict[str, int] = {}
    by_ref: dict[str, int] = {}
    refless: set[int] = set()
    for pid, telegram_id, username, ref in (await connection.execute(select(
            people.c.id, people.c.telegram_id, people.c.username, people.c.import_ref))).all():
        if telegram_id is not None:
            by_id[telegram_id] = pid
        if username:
            by_username[username] = pid
        if ref:
            by_ref[ref] = pid
        else:
            refless.add(pid)

    def known(row: ImportRow) -> int | None:
        if row.telegram_id is not None and row.telegram_id in by_id:
            return by_id[row.telegram_id]
        if row.username and row.username in by_username:
            return by_username[row.username]
        return by_ref.get(row.ref) if row.ref else None

    new_people: dict[object, dict[str, object]] = {}
    for row in rows:  # one new person per Telegram id (or username): their mentor and mentee rows share it
        key = row.telegram_id if row.telegram_id is not None else row.username or row.ref
        if known(row) is None and key not in new_people:
            new_people[key] = {"telegram_id": row.telegram_id, "username": row.username,
                               "first_name": row.draft.display_name, "import_ref": row.ref, "created_at": now}
    for batch in _batches(list(new_people.values())):
        # executemany, then the ids read back by reference: RETURNING in parameter order would make
        # SQLite insert one row per statement.
        await connection.execute(insert(people), batch)
        ids = dict((await connection.execute(select(people.c.import_ref, people.c.id).where(
            people.c.import_ref.in_([person["import_ref"] for person in batch])))).all())
        for person in batch:
            pid = ids[person["import_ref"]]
            by_ref[str(person["import_ref"])] = pid
            if person["telegram_id"] is not None:
                by_id[int(person["telegram_id"])] = pid  # type: ignore[call-overload]
            if person["username"]:
                by_username[str(person["username"])] = pid
    claimed: list[dict[str, object]] = []
    for row in rows:  # a person the file names who was not imported before takes the file's reference
        pid = known(row)
        if pid in refless and row.ref and row.ref not in by_ref:
            refless.discard(pid)
            by_ref[row.ref] = pid
            claimed.append({"pid": pid, "ref": row.ref})
    if claimed:
        await connection.execute(update(people).where(people.c.id == bindparam("pid"))
                                 .values(import_ref=bindparam("ref")), claimed)

    stored = {(r.person_id, r.role): r for r in (await connection.execute(select(
        profiles.c.id, profiles.c.person_id, profiles.c.role, profiles.c.source,
        *[profiles.c[name] for name in PROFILE_FIELDS]))).all()}
    inserts: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    for row in rows:
        pid = known(row)
        assert pid is not None
        values = profile_columns(row.draft)
        current = stored.get((pid, row.draft.role))
        if current is None:
            inserts.append({"person_id": pid, "role": row.draft.role, "source": ProfileSource.IMPORT, "active": True,
                            "created_at": now, "updated_at": now, **values})
            stored[(pid, row.draft.role)] = None  # type: ignore[assignment]
            report.created += 1
        elif current.source != ProfileSource.IMPORT:
            report.kept.append(row.line)
        elif all(getattr(current, name) == value for name, value in values.items()):
            report.unchanged += 1
        else:
            changes.append({"profile_id": current.id, "updated_at": now, **values})
            report.updated += 1
    for batch in _batches(inserts):
        await connection.execute(insert(profiles), batch)
    for batch in _batches(changes):
        await connection.execute(update(profiles).where(profiles.c.id == bindparam("profile_id"))
                                 .values({name: bindparam(name) for name in (*PROFILE_FIELDS, "updated_at")}),
                                 batch)
    return report


PROFILE_FIELDS = ("display_name", "organisation", "org_type", "region", "town", "topics", "stages",
                  "partner_types", "story", "capacity")


async def import_file(*, session: AsyncSession, path: Path, now: datetime) -> ImportReport:
    """Read, validate and import ``path``; bad rows are in ``report.problems``."""
    rows, problems = parse_csv(read_text(path))
    report = await import_rows(session=session, rows=rows, now=now)
    report.problems = problems
    return report

