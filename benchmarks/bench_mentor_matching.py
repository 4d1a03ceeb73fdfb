"""Benchmark of whole-cohort mentor matching against first-come greedy.

Run:  uv run python benchmarks/bench_mentor_matching.py            (prints, and writes its section of
                                                                   docs/BENCHMARKS.md)
      uv run python benchmarks/bench_mentor_matching.py --no-write (prints only)

A synthetic cohort, seeded so every run is the same: 5,000 mentees and 1,000 mentors with capacities 1-3
(about 2,000 places, so many mentees must go unmatched), topics from the fixed list (mentees 1-3, mentors
2-5), twelve regions, stages and partner kinds, about 800 organisations (so some pairs share one), and
stories of up to 500 characters built from partnership words. Both methods use the same scores
(``bot.mentoring.matching.score_matrix``, which agrees with ``bot.mentoring.scoring.score_pair``); the greedy
takes mentees in arrival order, each taking their best compatible mentor who still has a place.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.mentoring.cleaning import normalise_org  # noqa: E402
from bot.mentoring.lists import ORG_TYPES, REGIONS, STAGES, TOPICS  # noqa: E402
from bot.mentoring.matching import assign_cohort, score_matrix  # noqa: E402
from bot.mentoring.scoring import MatchProfile, story_key  # noqa: E402
from db.mentoring_models import MAX_STORY_CHARS  # noqa: E402
from tests.mentoring.greedy import assign_greedy  # noqa: E402

BENCHMARKS_MD = ROOT / "docs" / "BENCHMARKS.md"
HEADING = "## Mentor matching"
COMMAND = "uv run python benchmarks/bench_mentor_matching.py"
TARGET_SECONDS = 30.0

PHRASES = [
    "we built a consortium to bid for a council contract", "our trustees were worried about risk",
    "we signed a memorandum of understanding with two partners", "the lead agency held the contract",
    "sharing data with the NHS trust took months", "we merged two advice charities",
    "a key person left and the partnership nearly failed", "we did due diligence on a bigger partner",
    "our cultures were very different", "the council commissioners changed the rules",
    "we set up a joint board with clear terms of reference", "volunteers from the community shaped it",
    "we review the partnership every quarter", "a conflict of interest over funding",
    "we need help agreeing who does what", "small groups felt left out of decisions",
    "we want to find partners for a lottery bid", "sub-contracting to smaller groups",
]


def _story(rng: random.Random) -> str:
    text = ". ".join(rng.sample(PHRASES, rng.randint(1, 6))).capitalize() + "."
    return text[:MAX_STORY_CHARS]


def make_cohort(seed: int = 2026, mentees: int = 5000, mentors: int = 1000, mentor_topics: tuple[int, int] = (2, 5)
                ) -> tuple[list[MatchProfile], list[MatchProfile]]:
    rng = random.Random(seed)
    topics = [t.slug for t in TOPICS]
    regions = [r.slug for r in REGIONS]
    stages = [s.slug for s in STAGES]
    kinds = [o.slug for o in ORG_TYPES]
    orgs = [f"organisation {n}" for n in range(800)]

    def person(pid: int, mentor: bool) -> MatchProfile:
        return MatchProfile(
            person_id=pid, org_key=normalise_org(rng.choice(orgs)), org_type=rng.choice(kinds),
            region=rng.choice(regions),
            topics=frozenset(rng.sample(topics, rng.randint(*mentor_topics) if mentor else rng.randint(1, 3))),
            stages=frozenset(rng.sample(stages, rng.randint(1, 3)) if mentor else [rng.choice(stages)]),
            partner_types=frozenset(rng.sample(kinds, rng.randint(0, 3))), story_key=story_key(_story(rng)),
            capacity=rng.randint(1, 3) if mentor else 1, load=0, active=True)

    return ([person(i, False) for i in range(mentees)], [person(100_000 + j, True) for j in range(mentors)])


def run() -> tuple[list[str], float]:
    intro = ["Whole-cohort assignment (most mentees matched, then the largest total score; "
             "`partnerbot mentors match`) against first-come greedy, on the same scores and hard constraints. "
             "Run it again for figures on another machine; it exits non-zero if the 30 s target is missed.", ""]
    lines, seconds = _scenario("Full size (the target)", make_cohort)
    narrow, _ = _scenario("Narrow: every mentor offers one topic, so places per topic are tight",
                          lambda: make_cohort(seed=7, mentees=2000, mentors=1000, mentor_topics=(1, 1)))
    return [*intro, *lines, "", *narrow], seconds


def _scenario(title: str, build: object) -> tuple[list[str], float]:
    t0 = time.perf_counter()
    mentees, mentors = build()  # type: ignore[operator]
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    compatible, _ = score_matrix(mentees, mentors)
    t_scores = time.perf_counter() - t0
    t0 = time.perf_counter()
    whole = assign_cohort(mentees, mentors)
    t_whole = time.perf_counter() - t0
    t0 = time.perf_counter()
    greedy = assign_greedy(mentees, mentors)
    t_greedy = time.perf_counter() - t0
    places = sum(m.capacity for m in mentors)
    could = int(compatible.any(axis=1).sum())
    lines = [
        f"**{title}** (`{COMMAND}`; seeded synthetic cohort; {platform.python_implementation()} "
        f"{platform.python_version()}, {_cores()} cores). {len(mentees):,} mentees, {len(mentors):,} mentors with "
        f"capacities 1-3 ({places:,} places); {could:,} mentees have at least one compatible mentor; "
        f"{int(compatible.sum()):,} compatible pairs. Building the profiles (story keys) took {t_build:.2f} s; "
        f"scoring all {len(mentees) * len(mentors):,} pairs (rapidfuzz `cdist` + numpy) {t_scores:.2f} s.",
        "",
        "| method | mentees matched | total score | mean score | seconds (scores + assignment) |",
        "| --- | ---: | ---: | ---: | ---: |",
        _row("whole cohort (linear_sum_assignment over places, bonus per match)", whole, t_whole),
        _row("first-come greedy (arrival order, best free mentor)", greedy, t_greedy),
        "",
        f"Target: under {TARGET_SECONDS:.0f} s for the whole-cohort match: "
        f"{'met' if t_whole < TARGET_SECONDS else 'NOT met'} ({t_whole:.1f} s). The whole-cohort assignment "
        f"matches {len(whole.assignments) - len(greedy.assignments):+,} mentees compared with greedy, and "
        f"{whole.total_score - greedy.total_score:+,.1f} total score.",
    ]
    return lines, t_whole


def _row(name: str, result: object, seconds: float) -> str:
    assignments = result.assignments  # type: ignore[attr-defined]
    total = result.total_score  # type: ignore[attr-defined]
    mean = total / len(assignments) if assignments else 0.0
    return f"| {name} | {len(assignments):,} | {total:,.1f} | {mean:.2f} | {seconds:.2f} |"


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def write_section(lines: list[str]) -> None:
    """Replace only this benchmark's section of docs/BENCHMARKS.md (other sections belong to others)."""
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    section = HEADING + "\n\n" + "\n".join(lines) + "\n"
    start = text.find(HEADING)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = text.find("\n## ", start + len(HEADING))
        text = text[:start] + section + (text[following:] if following >= 0 else "")
    BENCHMARKS_MD.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    lines, seconds = run()
    print("\n".join(lines))
    if not args.no_write:
        write_section(lines)
        print(f"\nWrote the '{HEADING}' section of {BENCHMARKS_MD.relative_to(ROOT)}")
    return 0 if seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
