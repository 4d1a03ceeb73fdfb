"""Benchmark of question matching: this engine beside rapidfuzz WRatio, BM25 (bm25s) and the embedding model
alone, on the same knowledge base and the same messages; then speed, memory and start-up.

Run:  uv run python benchmarks/bench_matching.py              (prints, and writes docs/BENCHMARKS.md)
      uv run python benchmarks/bench_matching.py --calibrate  (the decision-threshold grid on the tuning half)

Sets:
* ``shared/eval/dev.yaml`` and ``shared/eval/dev_natural.yaml``, scored with ``score.py``'s rule: an in-scope
  message is right when answered and the answer holds one alternative of every ``expect`` group; a decline
  message is right when not answered.
* ``benchmarks/data/natural_messages.yaml``, written by us from the seeds (see its header): even positions
  are the tuning half (for the next calibration, ``--calibrate``), odd positions the held-out half (only
  scored). The thresholds in use were chosen on an earlier set that was lost; nothing was tuned on this one.
  An in-scope message is right when answered with one of its ``ids``; decline and small-talk messages when not
  answered.

The engine runs with its own calibrated thresholds, never fitted to these sets. Each baseline gets the best of
a range of thresholds chosen *on each set itself*, which flatters the baselines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from first_seen import first_seen  # noqa: E402

from knowledge import embedding  # noqa: E402
from knowledge.engine import Matcher  # noqa: E402
from knowledge.loader import KnowledgeBase, load_knowledge_base  # noqa: E402
from knowledge.normalise import terms  # noqa: E402

EVAL_DIR = ROOT.parent / "shared" / "eval"
OURS = ROOT / "benchmarks" / "data" / "natural_messages.yaml"
BENCHMARKS_MD = ROOT / "docs" / "BENCHMARKS.md"
SECTION = "## Question matching"
COMMAND = "uv run python benchmarks/bench_matching.py"


@dataclass(frozen=True)
class Item:
    """One message and what counts as right for it."""

    q: str
    in_scope: bool
    expect: tuple[tuple[str, ...], ...] = ()  # score.py's rule
    ids: frozenset[str] = frozenset()  # our sets: the right entries


@dataclass(frozen=True)
class Reply:
    """What a method did with a message: the entry it answers with, or None."""

    entry_id: str | None


def load_eval(path: Path) -> list[Item]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = [Item(i["q"], True, expect=tuple(tuple(g) for g in i["expect"]))
             for key in ("in_scope", "in_scope_typos") for i in data.get(key) or []]
    items += [Item(i["q"], False) for i in data.get("decline") or []]
    return items


def load_ours(half: int) -> list[Item]:
    data = yaml.safe_load(OURS.read_text(encoding="utf-8"))
    items = [Item(i["q"], True, ids=frozenset(i["ids"])) for n, i in enumerate(data["in_scope"]) if n % 2 == half]
    items += [Item(q, False) for key in ("decline", "smalltalk") for n, q in enumerate(data[key]) if n % 2 == half]
    return items


def is_right(item: Item, reply: Reply, kb: KnowledgeBase) -> bool:
    if not item.in_scope:
        return reply.entry_id is None
    if reply.entry_id is None:
        return False
    if item.ids:
        return reply.entry_id in item.ids
    entry = kb.get(reply.entry_id)
    text = entry.answer.lower() if entry else ""
    return all(any(alt.lower() in text for alt in group) for group in item.expect)


@dataclass(frozen=True)
class Score:
    right_in: int
    n_in: int
    right_out: int
    n_out: int

    def cell(self) -> str:
        return f"{self.right_in}/{self.n_in} · {self.right_out}/{self.n_out}"

    @property
    def overall(self) -> float:
        return (self.right_in + self.right_out) / max(self.n_in + self.n_out, 1)


def score(items: list[Item], replies: list[Reply], kb: KnowledgeBase) -> Score:
    right = [is_right(i, r, kb) for i, r in zip(items, replies, strict=True)]
    return Score(sum(ok for ok, i in zip(right, items, strict=True) if i.in_scope), sum(i.in_scope for i in items),
                 sum(ok for ok, i in zip(right, items, strict=True) if not i.in_scope),
                 sum(not i.in_scope for i in items))


# -- the methods -------------------------------------------------------------------------------------

Ranker = Callable[[str], tuple[float, str | None]]  # best score and entry id


def engine(matcher: Matcher) -> Callable[[str], Reply]:
    def reply(q: str) -> Reply:
        outcome = matcher.ask(q)  # a repeated message may come from the cache: same outcome
        return Reply(outcome.best.entry.id if outcome.kind == "answer" and outcome.best else None)
    return reply


def phrasings(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    texts, owners = [], []
    for entry in kb.entries.values():
        for text in (entry.question, *entry.alternates):
            texts.append(text)
            owners.append(entry.id)
    return texts, owners


def wratio(kb: KnowledgeBase) -> Ranker:
    texts, owners = phrasings(kb)

    def ranked(q: str) -> tuple[float, str | None]:
        found = process.extractOne(q, texts, scorer=fuzz.WRatio)
        return (found[1], owners[found[2]]) if found else (0.0, None)
    return ranked


def bm25(kb: KnowledgeBase) -> Ranker:
    ids = list(kb.entries)
    docs = [terms(" ".join((e.question, *e.alternates, *e.keywords, e.answer))) for e in kb.entries.values()]
    retriever = bm25s.BM25()
    retriever.index(docs, show_progress=False)

    def ranked(q: str) -> tuple[float, str | None]:
        query = [t for t in terms(q) if t]
        if not query:
            return 0.0, None
        scores = retriever.get_scores(query)
        best = int(np.argmax(scores))
        return float(scores[best]), ids[best]
    return ranked


def meaning_alone(kb: KnowledgeBase) -> Ranker | None:
    model = embedding.get_model()
    if model is None:
        return None
    texts, owners = phrasings(kb)
    matrix = embedding.embed_cached(model, texts)

    def ranked(q: str) -> tuple[float, str | None]:
        sims = matrix.dot(model.embed([q])[0])
        best = int(np.argmax(sims))
        return float(sims[best]), owners[best]
    return ranked


def at_best_threshold(ranker: Ranker, items: list[Item], kb: KnowledgeBase,
                      thresholds: list[float]) -> tuple[Score, float]:
    cached = [ranker(i.q) for i in items]
    best: tuple[Score, float] | None = None
    for threshold in thresholds:
        replies = [Reply(entry if value >= threshold else None) for value, entry in cached]
        result = score(items, replies, kb)
        if best is None or result.overall > best[0].overall:
            best = (result, threshold)
    assert best is not None
    return best


# -- speed, memory, start-up ----------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rss_mib() -> float:
    """Resident memory of this process (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def summary(wall: list[float], cpu: list[float]) -> str:
    """Table cells: CPU p50 and p99, wall p50, p99 and max."""
    return (f"{statistics.median(cpu):.1f} | {percentile(cpu, 0.99):.1f} | {statistics.median(wall):.1f} | "
            f"{percentile(wall, 0.99):.1f} | {max(wall):.1f}")


BOT_MEMORY = """
import asyncio, os, tempfile
from bot.app import build_application
from bot.core.config import load_settings
from bot.core.startup import prepare
async def main():
    folder = tempfile.mkdtemp()
    settings = load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
                             telegram_bot_token="123456:" + "A" * 35)
    services = await prepare(settings)
    build_application(services)
    for q in ("hi", "what is an mou", "we are a small charity, how do we start a consortium with five others?"):
        services.matcher.ask(q)
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            print(int(line.split()[1]) // 1024)
    await services.database.dispose()
asyncio.run(main())
"""


def bot_memory_mib() -> str:
    """Resident memory of a process holding everything the running bot holds (app, database, matcher)."""
    done = subprocess.run([sys.executable, "-c", BOT_MEMORY], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, check=False)
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else "n/a"


def timed_build(kb: KnowledgeBase, cache: Path | None) -> float:
    previous = os.environ.get(embedding.CACHE_ENV)
    if cache is not None:
        os.environ[embedding.CACHE_ENV] = str(cache)
    try:
        started = time.perf_counter()
        Matcher(kb)
        return time.perf_counter() - started
    finally:
        if cache is not None:
            if previous is None:
                os.environ.pop(embedding.CACHE_ENV, None)
            else:
                os.environ[embedding.CACHE_ENV] = previous


def chat_ready_seconds() -> float:
    """Wall time for `partnerbot chat` to start, show its prompt and quit (warm vector cache)."""
    started = time.perf_counter()
    subprocess.run(["uv", "run", "partnerbot", "chat"], input="/quit\n", capture_output=True, text=True,
                   cwd=ROOT, timeout=120, check=False)
    return time.perf_counter() - started


# -- calibration ----------------------------------------------------------------------------------------


def calibrate(kb: KnowledgeBase) -> None:
    """Answer threshold against right answers and false answers on the tuning half (the margin rules on)."""
    from dataclasses import replace

    items = load_ours(0)
    matcher = Matcher(kb)
    base = matcher.thresholds
    print("answer threshold | tuning in-scope right | tuning declines kept")
    for answer in (36.0, 38.0, 40.0, 42.0, 44.0, 46.0, 50.0, 54.0):
        matcher.thresholds = replace(base, answer=answer, sure=max(base.sure, answer))
        result = score(items, [engine(matcher)(i.q) for i in items], kb)
        print(f"{answer:16g} | {result.right_in}/{result.n_in} | {result.right_out}/{result.n_out}")


# -- report ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="print the threshold grid on the tuning half")
    parser.add_argument("--no-write", action="store_true", help=f"do not update {BENCHMARKS_MD.name}")
    args = parser.parse_args(argv)
    kb = load_knowledge_base()
    if args.calibrate:
        calibrate(kb)
        return 0
    sets = {"dev": load_eval(EVAL_DIR / "dev.yaml"), "dev_natural": load_eval(EVAL_DIR / "dev_natural.yaml")}
    if OURS.exists():
        sets.update({"ours, tuning half": load_ours(0), "ours, held-out half": load_ours(1)})
    else:  # only the dev sets can be scored; say so rather than stop
        print(f"note: {OURS.relative_to(ROOT)} is missing: our own tuning and held-out halves are not scored",
              file=sys.stderr)
    matcher = Matcher(kb)
    words_only = Matcher(kb, by_meaning=False)
    rows: list[tuple[str, list[str]]] = []
    rows.append(("**this engine** (words + meaning, calibrated thresholds)",
                 [score(items, [engine(matcher)(i.q) for i in items], kb).cell() for items in sets.values()]))
    rows.append(("this engine, words alone (the fallback without the model)",
                 [score(items, [engine(words_only)(i.q) for i in items], kb).cell() for items in sets.values()]))
    baselines: list[tuple[str, Ranker | None, list[float]]] = [
        ("rapidfuzz WRatio, nearest phrasing", wratio(kb), [float(t) for t in range(50, 100, 5)]),
        ("BM25 (bm25s), question + alternates + keywords + answer", bm25(kb), [float(t) for t in range(1, 20)]),
        ("all-MiniLM-L6-v2 alone, nearest phrasing", meaning_alone(kb), [t / 100 for t in range(30, 95, 5)]),
    ]
    for name, ranker, thresholds in baselines:
        if ranker is None:
            continue
        cells = []
        for items in sets.values():
            result, threshold = at_best_threshold(ranker, items, kb, thresholds)
            cells.append(f"{result.cell()} (at {threshold:g})")
        rows.append((name + ", best threshold per set", cells))

    questions = list(dict.fromkeys(i.q for items in sets.values() for i in items))
    cpu, wall = first_seen(kb, questions)
    long_at = [n for n, q in enumerate(questions) if len(q) >= 300]
    long_wall, long_cpu = [wall[n] for n in long_at], [cpu[n] for n in long_at]
    words_cpu, words_wall = first_seen(kb, questions, by_meaning=False)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as empty:
        cold = timed_build(kb, Path(empty))
    warm = timed_build(kb, None)
    memory = bot_memory_mib()
    ready = chat_ready_seconds()

    header = "| method | " + " | ".join(sets) + " |"
    lines = [
        SECTION, "",
        f"Command: `{COMMAND}` (2-core machine shared with other work; figures from one run). Each cell: in-scope "
        "right / in-scope, then declined right / to decline (our sets count small talk as a decline). The engine "
        "uses its own thresholds, never fitted to these sets; each baseline is shown at the threshold that does best "
        "on that very set, which flatters it. Our messages: `benchmarks/data/natural_messages.yaml`, written by us "
        "from the seeds, never copied into the knowledge base. The thresholds were calibrated (issue 12) on the "
        "tuning half of an earlier set of ours that was never committed and is lost; the set here was written "
        "afterwards and nothing was tuned on it, so both its halves are unseen data.", "",
        header, "| --- |" + " ---: |" * len(sets),
        *[f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows], "",
        f"Time per message (`Matcher.ask`, the embedding included), each message asked once of a new matcher, "
        f"so nothing seen before helps: what a message nobody has sent yet costs (load average {load:.1f} on 2 "
        "cores during the run, so wall time includes waiting for a core):", "",
        "| messages | CPU p50 ms | CPU p99 ms | wall p50 ms | wall p99 ms | wall max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| all {len(questions)} different messages | {summary(wall, cpu)} |",
        f"| the {len(long_at)} of 300+ characters | {summary(long_wall, long_cpu)} |",
        f"| all, words alone | {summary(words_wall, words_cpu)} |", "",
        f"Start-up on the real knowledge base ({len(kb)} entries): building the matcher with the vectors cached "
        f"{warm:.2f} s; cold, embedding every phrasing, {cold:.2f} s. `uv run partnerbot chat` from command to "
        f"quit (warm cache): {ready:.2f} s. Memory of a process holding what the running bot holds (application, "
        f"database, knowledge base, matcher with the model; RSS): {memory} MiB.", "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(text)
    return 0


def write_section(text: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the question-matching section of docs/BENCHMARKS.md (up to the next "## " heading)."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    start = current.find(SECTION + "\n")
    if start < 0:
        path.write_text(current.rstrip("\n") + "\n\n" + text, encoding="utf-8")
        return
    end = current.find("\n## ", start + len(SECTION))
    rest = current[end + 1:] if end >= 0 else ""
    path.write_text(current[:start] + text + ("\n" + rest if rest else ""), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
