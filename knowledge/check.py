"""``partnerbot kb check`` and ``kb stats``: keep the curated knowledge base healthy.

Curators edit YAML by hand; this finds every problem in one run (not just the first) so a pull
request can be fixed in one go, and CI runs it so a broken knowledge base never lands.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from knowledge.loader import TEMPLATES_DIR, THEMES_DIR, KnowledgeError, load_theme_file
from knowledge.render import TELEGRAM_LIMIT, to_html, visible_length
from knowledge.schema import Entry
from knowledge.sources import SEED_TITLES, seed_file_of

NEAR_DUPLICATE = 95.0
#: An answer may not share this many consecutive words with a seed: facts carry over, sentences do not.
COPIED_WORDS = 12
_WORD_RUN = re.compile(r"[a-z0-9]+")
COVERAGE_FILE = Path(__file__).resolve().parent / "COVERAGE.md"
_COVERAGE_ID = re.compile(r"\b([a-z0-9]+(?:-[a-z0-9]+)+)\b(?![.\w-])")
SEEDS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


@dataclass
class Report:
    entries: int = 0
    themes: int = 0
    problems: list[str] = field(default_factory=list)
    seeds_cited: Counter[str] = field(default_factory=Counter)
    templates: int = 0

    def summary(self) -> list[str]:
        lines = [f"{self.entries} entries in {self.themes} themes; {self.templates} templates"]
        for seed in sorted(SEED_TITLES):
            lines.append(f"  {seed}: cited by {self.seeds_cited.get(seed, 0)} entries")
        lines.append("OK" if not self.problems else f"{len(self.problems)} problem(s)")
        return lines


def _known_seeds() -> set[str]:
    if SEEDS_DIR.is_dir():
        return {path.name for path in SEEDS_DIR.glob("*.txt")}
    return set(SEED_TITLES)


def check_knowledge_base(themes_dir: Path = THEMES_DIR, templates_dir: Path = TEMPLATES_DIR) -> Report:
    """Check every theme file and entry; collect all problems instead of stopping at the first."""
    report = Report()
    entries: dict[str, tuple[Entry, str]] = {}
    files = sorted(themes_dir.glob("*.yaml"))
    if not files:
        report.problems.append(f"{themes_dir}: no theme files")
    for path in files:
        try:
            theme_file = load_theme_file(path)
        except KnowledgeError as exc:
            report.problems.append(str(exc))
            continue
        report.themes += 1
        for entry in theme_file.entries:
            if entry.id in entries:
                report.problems.append(f"{path.name}: entry {entry.id!r}: id already used in "
                                       f"{entries[entry.id][1]}")
                continue
            entries[entry.id] = (entry, path.name)
    report.entries = len(entries)
    seeds = _known_seeds()
    for entry, file_name in entries.values():
        where = f"{file_name}: entry {entry.id!r}"
        if not entry.related:
            report.problems.append(f"{where}: related must name 1 to 4 follow-up entries")
        for related in entry.related:
            if related == entry.id:
                report.problems.append(f"{where}: related lists the entry itself")
            elif related not in entries:
                report.problems.append(f"{where}: related {related!r} does not exist")
        seed = seed_file_of(entry.source)
        if seed is not None:
            if seed not in seeds:
                report.problems.append(f"{where}: source names {seed!r}, which is not a seed file")
            else:
                report.seeds_cited[seed] += 1
        elif entry.source != "PartnerBot":
            report.problems.append(f"{where}: source must be 'SEED_FILE.txt: Section' or 'PartnerBot'")
        length = visible_length(to_html(entry.answer))
        if length > TELEGRAM_LIMIT:
            report.problems.append(f"{where}: answer is {length} characters, over Telegram's {TELEGRAM_LIMIT}")
        if entry.document and not (templates_dir / entry.document).is_file():
            report.problems.append(f"{where}: template {entry.document!r} not found in {templates_dir.name}/")
    report.templates = len({e.document for e, _ in entries.values() if e.document})
    for (a, fa), (b, fb) in itertools.combinations(entries.values(), 2):
        if fuzz.ratio(a.question.lower(), b.question.lower()) >= NEAR_DUPLICATE:
            report.problems.append(f"{fa}: entry {a.id!r} and {fb}: entry {b.id!r} ask nearly the same "
                                   f"question")
    for seed in sorted(seeds & set(SEED_TITLES)):
        if entries and not report.seeds_cited.get(seed):
            report.problems.append(f"seed {seed} is cited by no entry")
    report.problems.extend(check_coverage(set(entries), seeds & set(SEED_TITLES)))
    report.problems.extend(check_copied(entries))
    return report


def _word_run(text: str) -> list[str]:
    """Lower-case words with markup, punctuation and apostrophes gone: how copying is compared."""
    return _WORD_RUN.findall(text.lower().replace("\u2019", "").replace("'", ""))


def check_copied(entries: dict[str, tuple[Entry, str]], seeds_dir: Path = SEEDS_DIR,
                 run: int = COPIED_WORDS) -> list[str]:
    """Answers that share ``run`` or more consecutive words with a seed, each with the words shared.

    The knowledge base is written in the project's own words from the seeds; a long shared run means a
    sentence was copied. The seeds are read from ``shared/seeds`` when present (CI and curators have them).
    """
    if not seeds_dir.is_dir():
        return []
    grams: set[tuple[str, ...]] = set()
    for path in sorted(seeds_dir.glob("*.txt")):
        words = _word_run(path.read_text(encoding="utf-8", errors="replace"))
        grams.update(tuple(words[i:i + run]) for i in range(len(words) - run + 1))
    problems = []
    for entry, file_name in entries.values():
        words = _word_run(entry.answer)
        shared = [i for i in range(len(words) - run + 1) if tuple(words[i:i + run]) in grams]
        if shared:
            start = shared[0]
            end = start + run
            while end < len(words) and tuple(words[end - run + 1:end + 1]) in grams:
                end += 1
            problems.append(f"{file_name}: entry {entry.id!r}: answer copies {end - start} words from a seed "
                            f"(\"{' '.join(words[start:end])}\"); say it in our own words")
    return problems


def check_coverage(entry_ids: set[str], seeds: set[str], path: Path = COVERAGE_FILE) -> list[str]:
    """COVERAGE.md must exist, map every seed, and name only entries that exist."""
    if not path.is_file():
        return [f"{path.name} is missing"]
    problems = []
    text = path.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("|") and ".txt" in line]
    for seed in sorted(seeds):
        if not any(seed in row.split("|")[1] for row in rows):
            problems.append(f"{path.name}: seed {seed} has no rows")
    for row in rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        named = set(_COVERAGE_ID.findall(cells[-1]))
        if not named & entry_ids:
            problems.append(f"{path.name}: the row for {cells[1][:60]!r} names no existing entry")
        for missing in sorted(named - entry_ids - _COVERAGE_WORDS):
            problems.append(f"{path.name}: the row for {cells[1][:60]!r} names {missing!r}, which is not an entry")
    return problems


#: Hyphenated words that COVERAGE.md may use in prose without meaning an entry id.
_COVERAGE_WORDS = frozenset({"about-this-bot", "co-evolution", "co-evolving", "well-being", "sub-contracting",
                             "non-refundable", "set-up", "check-in", "follow-up"})


def stats_lines(themes_dir: Path = THEMES_DIR) -> list[str]:
    """Entries per theme and per seed, for curators planning what to write next."""
    per_theme: list[tuple[str, int]] = []
    per_seed: Counter[str] = Counter()
    for path in sorted(themes_dir.glob("*.yaml")):
        try:
            theme_file = load_theme_file(path)
        except KnowledgeError as exc:
            per_theme.append((f"{path.name} (broken: {exc})", 0))
            continue
        per_theme.append((f"{theme_file.theme} ({path.name})", len(theme_file.entries)))
        for entry in theme_file.entries:
            per_seed[seed_file_of(entry.source) or "PartnerBot"] += 1
    lines = ["Entries per theme:"]
    lines += [f"  {count:4d}  {name}" for name, count in per_theme]
    lines.append(f"  {sum(c for _, c in per_theme):4d}  in all")
    lines.append("Entries per source:")
    lines += [f"  {count:4d}  {seed}  {SEED_TITLES.get(seed, '')}" for seed, count in sorted(per_seed.items())]
    return lines
