"""Benchmark of question matching: quality on the dev set against two baselines, speed and memory.

Run:  uv run python benchmarks/bench_matching.py            (prints and writes docs/BENCHMARKS.md)
      uv run python benchmarks/bench_matching.py --calibrate (the threshold calibration table)

Quality uses the scoring rule of ``shared/eval/score.py``: an in-scope question is right when it is
answered and the answer contains one alternative of every ``expect`` group; a decline question is right
when it is not answered. The engine runs with its own calibrated thresholds (never fitted to the dev
set); each baseline gets the best of a few thresholds *on the dev set itself*, which flatters them.

The calibration (``--calibrate``) is how the engine's thresholds were chosen without the dev set: every
entry's alternates are held out in turn (five folds; the entry is re-indexed without that alternate)
and asked, against the off-topic questions below, written for calibration.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.engine import ANSWER_THRESHOLD, Matcher  # noqa: E402
from knowledge.loader import KnowledgeBase, Theme, load_knowledge_base  # noqa: E402
from knowledge.schema import Entry  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "eval" / "dev.yaml"
BENCHMARKS_MD = ROOT / "docs" / "BENCHMARKS.md"
SECTION = "## Question matching"
COMMAND = "uv run python benchmarks/bench_matching.py"

#: Off-topic questions for calibrating the decline threshold: chit-chat, general knowledge, sums, IT
#: help, recipes, sport, gibberish, and near misses that use this field's words ("council tax",
#: "my partner is cheating on me"). None of them is in the dev set.
CALIBRATION_OFF_TOPIC = (
    "what time is it", "will it rain tomorrow in london", "how hot will it be this weekend",
    "is it going to snow", "who won the football last night", "when is the next world cup",
    "how many players are in a rugby team", "what is 2 plus 2", "what is 15 times 7",
    "calculate 17% of 250", "what is the capital of france", "who wrote hamlet",
    "when did the second world war end", "how far is the moon", "how many legs does a spider have",
    "tell me a joke", "sing happy birthday", "write me a poem about cats", "what is your favourite colour",
    "are you a robot", "do you love me", "how old are you", "recipe for chocolate cake",
    "how long do i boil an egg", "what wine goes with fish", "best pizza near me",
    "how do i make a cup of tea", "my laptop will not turn on", "how do i reset my password",
    "my printer is not working", "how do i install windows", "what is the best smartphone",
    "how do i lose weight", "what are the symptoms of flu", "book a doctor appointment",
    "how do i get rid of a headache", "cheap hotels in paris", "train times from london to manchester",
    "how do i renew my passport", "where is the nearest petrol station", "what films are on at the cinema",
    "recommend a good book", "who is the best singer in the world", "how do i learn to play guitar",
    "translate hello into spanish", "asdfghjkl", "qwertyuiop", "lorem ipsum dolor sit amet", "ok", "hmm",
    "???", "!!!", "1234567890", "blah blah blah", "how do i pay my council tax",
    "when are the bins collected", "how do i apply for a parking permit", "my partner is cheating on me",
    "how do i break up with my boyfriend", "how do i open a bank account", "what is the price of bitcoin",
    "should i buy shares in tesla", "how do i file my tax return", "how do i get a mortgage",
    "what is the meaning of life", "how do airplanes fly", "why is the sky blue", "how do vaccines work",
    "explain quantum physics", "what is the speed of light", "how many calories in a banana",
    "what should i name my dog", "how do i train my puppy", "how do i grow tomatoes",
    "when should i plant roses", "how do i unblock a sink", "how do i paint a wall",
    "how do i change a light bulb", "what is the best car to buy", "how do i get a driving licence",
    "where can i watch the match", "what is the weather forecast for manchester",
    "how much does a plane ticket to new york cost", "how do i knit a scarf", "what is a black hole",
    "who invented the telephone", "what day is christmas this year", "how do i cook rice",
    "what is the population of china", "who painted the mona lisa",
)


# --------------------------------------------------------------------------------------------------
# The dev set and its scoring rule
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One dev question: in scope (with expect groups) or to be declined."""

    q: str
    in_scope: bool
    expect: tuple[tuple[str, ...], ...] = ()


def load_dev(path: Path = DEV_SET) -> list[Item]:
    """The dev set's questions, in-scope (and typo) items first, as score.py orders them."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = [Item(raw["q"], True, tuple(tuple(group) for group in raw["expect"]))
             for key in ("in_scope", "in_scope_typos") for raw in data.get(key) or []]
    items += [Item(raw["q"], False) for raw in data.get("decline") or []]
    return items


def is_right(item: Item, answer: str | None) -> bool:
    """score.py's rule; ``answer`` is None when the question was not answered."""
    if not item.in_scope:
        return answer is None
    text = (answer or "").lower()
    return answer is not None and all(any(alt.lower() in text for alt in group) for group in item.expect)


@dataclass(frozen=True)
class Result:
    """Quality and per-question time of one method on the dev set."""

    method: str
    in_scope: float
    declined: float
    overall: float
    mean_ms: float
    p99_ms: float


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def evaluate(method: str, items: list[Item], answer: Callable[[str], str | None]) -> Result:
    """Run ``answer`` on every item, timing each call."""
    times: list[float] = []
    right_in = right_out = 0
    for item in items:
        started = time.perf_counter()
        reply = answer(item.q)
        times.append((time.perf_counter() - started) * 1000)
        ok = is_right(item, reply)
        right_in += ok and item.in_scope
        right_out += ok and not item.in_scope
    n_in = sum(item.in_scope for item in items)
    n_out = len(items) - n_in
    return Result(method, right_in / max(n_in, 1), right_out / max(n_out, 1),
                  (right_in + right_out) / max(len(items), 1), statistics.fmean(times),
                  percentile(times, 0.99))


def best_threshold(method: str, items: list[Item], ranked: Callable[[str], tuple[float, str | None]],
                   thresholds: list[float]) -> Result:
    """A baseline at the threshold that does best (overall) on the dev set: a generous calibration."""
    cache = {item.q: ranked(item.q) for item in items}
    best: Result | None = None
    for threshold in thresholds:
        def answer(q: str, t: float = threshold) -> str | None:
            score, text = cache[q]
            return text if score >= t else None
        result = evaluate(f"{method} (threshold {threshold:g})", items, answer)
        if best is None or result.overall > best.overall:
            best = result
    assert best is not None
    timed = evaluate(method, items, lambda q: ranked(q)[1])  # time the real calls, not the cache
    return Result(best.method, best.in_scope, best.declined, best.overall, timed.mean_ms, timed.p99_ms)


# --------------------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------------------


def engine_method(matcher: Matcher) -> Callable[[str], str | None]:
    """This engine, with its calibrated thresholds: answered only for kind "answer"."""
    def answer(q: str) -> str | None:
        outcome = matcher.ask(q)
        return outcome.best.entry.answer if outcome.kind == "answer" and outcome.best else None
    return answer


def wratio_method(kb: KnowledgeBase) -> Callable[[str], tuple[float, str | None]]:
    """Baseline (a): rapidfuzz WRatio of the question against canonical questions only."""
    from rapidfuzz import fuzz, process, utils

    entries = list(kb.entries.values())
    questions = [entry.question for entry in entries]

    def ranked(q: str) -> tuple[float, str | None]:
        hit = process.extractOne(q, questions, scorer=fuzz.WRatio, processor=utils.default_process)
        return (hit[1], entries[hit[2]].answer) if hit else (0.0, None)
    return ranked


def bm25_method(kb: KnowledgeBase) -> Callable[[str], tuple[float, str | None]]:
    """Baseline (b): BM25 (the bm25s package) over question + answer, English stop words."""
    import bm25s

    entries = list(kb.entries.values())
    corpus = [f"{entry.question}\n{entry.answer}" for entry in entries]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    vocab = set(retriever.vocab_dict)

    def ranked(q: str) -> tuple[float, str | None]:
        tokens = [t for t in bm25s.tokenize([q], stopwords="en", return_ids=False, show_progress=False)[0]
                  if t in vocab]
        if not tokens:
            return 0.0, None
        docs, scores = retriever.retrieve([tokens], k=1, show_progress=False)
        return float(scores[0][0]), entries[int(docs[0][0])].answer
    return ranked


# --------------------------------------------------------------------------------------------------
# Speed and memory
# --------------------------------------------------------------------------------------------------


def latency(matcher: Matcher, questions: list[str], repetitions: int) -> tuple[float, float]:
    """p50 and p99 milliseconds of ``ask`` over ``repetitions`` rounds of ``questions``."""
    for q in questions:  # warm the caches once, as a running bot would be
        matcher.ask(q)
    times = []
    for _ in range(repetitions):
        for q in questions:
            started = time.perf_counter()
            matcher.ask(q)
            times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 0.5), percentile(times, 0.99)


def built_with_memory(kb: KnowledgeBase) -> tuple[Matcher, float, float]:
    """Build a Matcher: the matcher, its build time (s, untraced) and the memory it holds (MiB).

    Memory is what tracemalloc sees allocated by a second build and still held after it; that build is
    not timed, as tracing slows Python several times over.
    """
    gc.collect()
    started = time.perf_counter()
    matcher = Matcher(kb)
    seconds = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    traced = Matcher(kb)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del traced
    return matcher, seconds, (after - before) / 2**20


def synthetic_kb(real: KnowledgeBase, size: int, seed: int = 7) -> KnowledgeBase:
    """``size`` entries made by recombining the real entries' words (same vocabulary, same lengths)."""
    rng = random.Random(seed)
    question_words = [w for e in real.entries.values() for t in (e.question, *e.alternates)
                      for w in re.findall(r"[A-Za-z']+", t)]
    answer_words = [w for e in real.entries.values() for w in re.findall(r"[A-Za-z']+", e.answer)]
    templates = list(real.entries.values())

    def sentence(pool: list[str], like: str) -> str:
        return " ".join(rng.choice(pool) for _ in range(max(2, len(like.split()))))

    kb = KnowledgeBase()
    for n in range(size):
        model = rng.choice(templates)
        entry = Entry(
            id=f"synthetic-{n:05d}", question=sentence(question_words, model.question) + "?",
            alternates=tuple(sentence(question_words, alt) for alt in model.alternates),
            keywords=tuple(rng.choice(question_words) for _ in model.keywords),
            answer=sentence(answer_words, model.answer)[:1400], source=model.source, theme="synthetic")
        kb.entries[entry.id] = entry
    kb.themes["synthetic"] = Theme("synthetic", "Synthetic", 1, tuple(kb.entries))
    return kb


# --------------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------------


def held_out_alternates(kb: KnowledgeBase, fold: int) -> tuple[KnowledgeBase, list[tuple[str, str]]]:
    """The knowledge base without each entry's ``fold``-th alternate, and those alternates with ids."""
    held: list[tuple[str, str]] = []
    copy = KnowledgeBase(themes=kb.themes, templates_dir=kb.templates_dir)
    for entry_id, entry in kb.entries.items():
        if fold < len(entry.alternates):
            held.append((entry.alternates[fold], entry_id))
            entry = entry.model_copy(update={"alternates": tuple(
                alt for i, alt in enumerate(entry.alternates) if i != fold)})
        copy.entries[entry_id] = entry
    return copy, held


def calibrate(kb: KnowledgeBase) -> None:
    """Print, per threshold, held-out alternates answered right and off-topic questions answered."""
    rows: list[tuple[str, float, bool]] = []  # (kind, best score, right entry or related to it)
    for fold in range(5):
        folded, held = held_out_alternates(kb, fold)
        matcher = Matcher(folded)
        for q, entry_id in held:
            ranked = matcher.search(q, 1)
            if not ranked:
                rows.append(("held", 0.0, False))
                continue
            top = ranked[0].entry
            related = top.id == entry_id or entry_id in top.related or top.id in kb.entries[entry_id].related
            rows.append(("held", ranked[0].score, related))
    matcher = Matcher(kb)
    for q in CALIBRATION_OFF_TOPIC:
        ranked = matcher.search(q, 1)
        rows.append(("off", ranked[0].score if ranked else 0.0, False))
    held_rows = [r for r in rows if r[0] == "held"]
    off_rows = [r for r in rows if r[0] == "off"]
    print(f"{len(held_rows)} held-out alternates, {len(off_rows)} off-topic questions")
    print("| threshold | held-out answered with the entry or a related one | off-topic answered |")
    print("| ---: | ---: | ---: |")
    for threshold in range(30, 70, 4):
        good = sum(score >= threshold and ok for _, score, ok in held_rows) / len(held_rows)
        bad = sum(score >= threshold for _, score, _ in off_rows)
        print(f"| {threshold} | {good:.1%} | {bad} of {len(off_rows)} |")
    print(f"(engine: answer threshold {ANSWER_THRESHOLD:g})")


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def markdown(results: list[Result], speed: list[str], n_items: int) -> str:
    """The section written into docs/BENCHMARKS.md."""
    lines = [
        SECTION, "",
        f"Command: `{COMMAND}` (one run on the development machine, 2 cores; dev set "
        f"`shared/eval/dev.yaml`, {n_items} questions, scored with `score.py`'s rule). The engine uses its "
        "own calibrated thresholds (`--calibrate` shows how, without the dev set); each baseline is shown "
        "at the best of several thresholds chosen on the dev set itself, which flatters the baselines. "
        "Times are one cold pass over the dev set (the engine's first calls fill its caches).", "",
        "| method | in-scope % | declined % | overall % | mean ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r.method} | {r.in_scope:.1%} | {r.declined:.1%} | {r.overall:.1%} | {r.mean_ms:.3f} | "
              f"{r.p99_ms:.3f} |" for r in results]
    lines += ["", *speed, ""]
    return "\n".join(lines)


def write_section(text: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace this section in ``path`` (up to the next '## ' heading), or append it."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = current.find(SECTION + "\n")
    if start < 0:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        after = current.find("\n## ", start + len(SECTION))
        updated = current[:start] + text + (current[after + 1:] if after >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="print the threshold calibration table")
    parser.add_argument("--no-write", action="store_true", help=f"do not update {BENCHMARKS_MD.name}")
    args = parser.parse_args(argv)
    kb = load_knowledge_base()
    if args.calibrate:
        calibrate(kb)
        return 0
    items = load_dev()
    matcher, build_s, memory_mib = built_with_memory(kb)
    results = [
        evaluate("this engine (normalise + rapidfuzz + IDF coverage + BM25)", items, engine_method(matcher)),
        best_threshold("(a) rapidfuzz WRatio, canonical questions", items, wratio_method(kb),
                       [50, 60, 70, 75, 80, 85, 90, 95]),
        best_threshold("(b) BM25 (bm25s), question + answer", items, bm25_method(kb),
                       [1, 2, 3, 4, 5, 6, 7, 8, 10, 12]),
    ]
    questions = [item.q for item in items]
    p50, p99 = latency(matcher, questions, repetitions=40)
    big = synthetic_kb(kb, 10_000)
    big_matcher, big_build_s, big_memory_mib = built_with_memory(big)
    big_p50, big_p99 = latency(big_matcher, questions, repetitions=5)
    speed = [
        f"Time to match one question (`Matcher.ask`, the {len(questions)} dev questions, warm caches):",
        "",
        "| knowledge base | entries | p50 ms | p99 ms | target p99 | build s | index memory MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| real | {len(kb)} | {p50:.3f} | {p99:.3f} | < 2 | {build_s:.2f} | {memory_mib:.1f} |",
        f"| synthetic (real words recombined) | {len(big)} | {big_p50:.3f} | {big_p99:.3f} | < 20 | "
        f"{big_build_s:.2f} | {big_memory_mib:.1f} |",
        "",
        "Index memory is what tracemalloc sees allocated while the Matcher is built and kept "
        "(the knowledge base itself excluded).",
    ]
    text = markdown(results, speed, len(items))
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"(written to {BENCHMARKS_MD.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
