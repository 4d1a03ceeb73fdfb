"""What the question engine costs to run, on the real knowledge base: issue 12's performance "Must show".

    uv run python benchmarks/bench_footprint.py            # everything, about two minutes
    uv run python benchmarks/bench_footprint.py --only ask  # one part: forms, ask, cold, chat, bot
    PYTHONPATH=/tmp/before uv run python benchmarks/bench_footprint.py --only ask --only cold --only chat --only bot
                                   # the same for another checkout (git archive of an older commit in /tmp/before)

Prints, with the load average of the machine while each part ran (the development machine has 2 cores that
other work shares; CPU time is what a question costs this process, wall time adds the wait for a core):

* **forms**: the embedding model as shipped and as rewritten for int8 kernels (knowledge/quantize.py): memory of
  the session, time of one short question and of one 96-piece text, and how closely the rewrite reads the
  knowledge base's own phrasings (cosine, and the share whose nearest other entry stays the same);
* **ask**: time per message of ``Matcher.ask`` (embedding included, the outcome cache cleared) over the
  messages of ../shared/eval/dev.yaml, dev_natural.yaml and our own benchmarks/data/natural_messages.yaml,
  five passes, p50 / p99 / max, and of each
  message's best pass; the same for the
  messages of 300+ characters and for words alone;
* **cold**: building the matcher in a new process with an empty cache (first start on a new machine: the
  model is rewritten and every phrasing embedded), with the rewrite cached but no vectors (the knowledge base
  was edited), and warm;
* **chat**: ``partnerbot chat`` on a terminal (a pseudo-terminal) from the command until its prompt, warm
  cache, the bare command and through ``uv run``; then the first answer;
* **bot**: ``partnerbot run`` against the fake Bot API of the tests, after it has answered a greeting, a
  few questions and a 600-character message: resident memory (VmRSS) and its peak (VmHWM).

No timed assertion anywhere: the numbers are printed, and docs/BENCHMARKS.md records them with this command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Appended, not inserted: the tests' fake Bot API is found here, while PYTHONPATH=<another checkout> still
# decides which bot and engine are measured (how the "before" figures in docs/BENCHMARKS.md were taken).
sys.path.append(str(ROOT))

EVAL_DIR = ROOT.parent / "shared" / "eval"
OURS = ROOT / "benchmarks" / "data" / "natural_messages.yaml"
PARTS = ("forms", "ask", "cold", "chat", "bot")
LONG_CHARS = 300
#: Passes over the messages when timing them.
PASSES = 5
SHORT = "how do we write a memorandum of understanding"
#: 96 word pieces once tokenised (the cap): what a long message costs the model.
LONG = " ".join(["we are a tiny charity and the council has hinted it would fund us if we joined a consortium"] * 6)


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def messages() -> list[str]:
    import yaml

    found: list[str] = []
    # Our own messages (benchmarks/data/natural_messages.yaml: a quarter of them long, 300-700 characters) when
    # the file is there, beside the dev sets: the slowest 1 % are the long messages, so they belong in the p99.
    for path in (EVAL_DIR / "dev.yaml", EVAL_DIR / "dev_natural.yaml", OURS):
        if not path.is_file():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for items in data.values():
            if isinstance(items, list):
                found += [item["q"] for item in items if isinstance(item, dict) and isinstance(item.get("q"), str)]
    return found


def status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def child(*args: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    """Run one measurement in a fresh process (memory and start-up must not inherit this one's)."""
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the parts, each in a child process ---------------------------------------------------------------------


def child_form(form: str) -> dict:  # type: ignore[type-arg]
    import numpy as np

    from knowledge import embedding

    before = status()["VmRSS"]
    import onnxruntime  # noqa: F401  (the library itself is not the session's cost)
    import tokenizers  # noqa: F401

    library = status()["VmRSS"]
    model = embedding.EmbeddingModel(embedding._model_file(), rewrite=form == "rewritten")
    session = status()["VmRSS"]

    def cpu_ms(text: str) -> float:
        times = []
        for _ in range(30):
            started = time.process_time()
            model.embed([text])
            times.append((time.process_time() - started) * 1000)
        return statistics.median(times)

    for _ in range(3):
        model.embed([LONG])
    from knowledge.loader import load_knowledge_base

    texts = [t for e in load_knowledge_base().entries.values() for t in (e.question, *e.alternates)]
    vectors = model.embed(texts)
    np.save(Path(os.environ["BENCH_TMP"]) / f"{form}.npy", vectors)
    return {"variant": model.variant, "library_mib": (library - before) / 1024,
            "session_mib": (session - library) / 1024,
            "short_ms": cpu_ms(SHORT), "long_ms": cpu_ms(LONG), "texts": len(texts)}


def child_build() -> dict:  # type: ignore[type-arg]
    started = time.perf_counter()
    started_cpu = time.process_time()
    from knowledge.engine import Matcher
    from knowledge.loader import load_knowledge_base

    kb = load_knowledge_base()
    matcher = Matcher(kb)
    return {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - started_cpu,
            "by_meaning": matcher.by_meaning, "entries": len(kb)}


# -- the parts, run from the parent -------------------------------------------------------------------------


def part_forms() -> list[str]:
    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        env = {"BENCH_TMP": folder, "PARTNERBOT_CACHE_DIR": str(Path(folder) / "cache")}
        child("form", "rewritten", env=env)  # makes the rewrite and caches it, as a first start does
        rows = {form: child("form", form, env=env) for form in ("shipped", "rewritten")}
        shipped, rewritten = (np.load(Path(folder) / f"{form}.npy") for form in ("shipped", "rewritten"))
    from knowledge.loader import load_knowledge_base

    owner = np.array([i for i, e in enumerate(load_knowledge_base().entries.values())
                      for _ in (e.question, *e.alternates)])

    def nearest_entry(vectors: np.ndarray) -> np.ndarray:
        sims = np.einsum("ad,bd->ab", vectors, vectors)
        np.fill_diagonal(sims, -1.0)
        best = np.full((len(vectors), owner.max() + 1), -1.0)
        np.maximum.at(best.T, owner, sims.T)
        return best.argmax(axis=1)

    cosine = (shipped * rewritten).sum(axis=1)
    same = float((nearest_entry(shipped) == nearest_entry(rewritten)).mean())
    lines = [f"Embedding model, one process each ({load()}):", "",
             "| form | session MiB | short question CPU ms | 96 pieces CPU ms |", "| --- | ---: | ---: | ---: |"]
    for form, row in rows.items():
        lines.append(f"| {form} ({row['variant']}) | {row['session_mib']:.0f} | {row['short_ms']:.1f} | "
                     f"{row['long_ms']:.1f} |")
    lines += ["", f"onnxruntime and tokenizers themselves: {rows['shipped']['library_mib']:.0f} MiB. The rewrite "
              f"reads the knowledge base's {len(cosine)} phrasings as the shipped model does: cosine median "
              f"{np.median(cosine):.4f}, lowest {cosine.min():.4f}; the nearest other entry of a phrasing is the same "
              f"for {same:.1%} of them."]
    return lines


def part_ask() -> list[str]:
    from knowledge.engine import Matcher
    from knowledge.loader import load_knowledge_base

    kb = load_knowledge_base()
    questions = messages()
    matcher = Matcher(kb)
    words_only = Matcher(kb, by_meaning=False)

    def timed(m: Matcher, texts: list[str]) -> tuple[list[float], list[float], list[float]]:
        """CPU and wall ms of every call, and each message's best CPU time of the passes (the cost of the work
        itself: other sessions on the machine slow single calls down by a third and more)."""
        for text in texts[:5]:
            m.ask(text)
        cpu, wall = [], []
        best = [float("inf")] * len(texts)
        for _ in range(PASSES):
            for position, text in enumerate(texts):
                m._asked.clear()  # time the work, not the cache of repeated questions
                started, started_cpu = time.perf_counter(), time.process_time()
                m.ask(text)
                cpu.append((time.process_time() - started_cpu) * 1000)
                wall.append((time.perf_counter() - started) * 1000)
                best[position] = min(best[position], cpu[-1])
        return cpu, wall, best

    long_ones = [q for q in questions if len(q) >= LONG_CHARS]
    rows = []
    loads = [os.getloadavg()[0]]
    from first_seen import first_seen

    cpu, wall = first_seen(kb, questions)
    long_cpu = [ms for ms, q in zip(cpu, questions, strict=True) if len(q) >= LONG_CHARS]
    first = [f"First time each message is seen (a new matcher, every message once, as after a restart; load average "
             f"{loads[0]:.1f}): CPU p50 {statistics.median(cpu):.1f} ms, **p99 {percentile(cpu, 0.99):.1f} ms**, max "
             f"{max(cpu):.1f} ms; wall p99 {percentile(wall, 0.99):.1f} ms; the {len(long_cpu)} of {LONG_CHARS}+ "
             f"characters: CPU p50 {statistics.median(long_cpu):.1f} ms, max {max(long_cpu):.1f} ms.", ""]
    for label, m, texts in ((f"all {len(questions)}", matcher, questions),
                            (f"the {len(long_ones)} of {LONG_CHARS}+ characters", matcher, long_ones),
                            (f"all {len(questions)}, words alone", words_only, questions)):
        loads.append(os.getloadavg()[0])
        cpu, wall, best = timed(m, texts)
        rows.append(f"| {label} | {statistics.median(cpu):.1f} | {percentile(cpu, 0.99):.1f} | {max(cpu):.1f} | "
                    f"{statistics.median(best):.1f} | {percentile(best, 0.99):.1f} | "
                    f"{statistics.median(wall):.1f} | {percentile(wall, 0.99):.1f} | {max(wall):.1f} |")
    return [*first, f"Time per message, `Matcher.ask`, embedding included, {PASSES} passes (model form: "
            f"{getattr(matcher._semantic._model, 'variant', 'shipped') if matcher._semantic else 'none'}; load average "
            f"{min(loads):.1f}-{max(loads):.1f}):", "",
            "| messages | CPU p50 ms | CPU p99 ms | CPU max ms | best of passes: CPU p50 ms "
            "| best of passes: CPU p99 ms | wall p50 ms | wall p99 ms | wall max ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", *rows]


def part_cold() -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        env = {"PARTNERBOT_CACHE_DIR": folder}
        before = load()
        first = child("build", env=env)
        for vectors in Path(folder).glob("kb-vectors-*.npy"):
            vectors.unlink()
        edited = child("build", env=env)
        warm = [child("build", env=env) for _ in range(3)]
    best_warm = min(warm, key=lambda row: row["wall_s"])
    return [f"Building the matcher in a new process, imports included ({first['entries']} entries; {before}):", "",
            "| start | wall s | CPU s |", "| --- | ---: | ---: |",
            f"| first start on a new machine (model rewritten, every phrasing embedded) | {first['wall_s']:.2f} | "
            f"{first['cpu_s']:.2f} |",
            f"| knowledge base edited (rewrite cached, every phrasing embedded) | {edited['wall_s']:.2f} | "
            f"{edited['cpu_s']:.2f} |",
            f"| warm (best of 3) | {best_warm['wall_s']:.2f} | {best_warm['cpu_s']:.2f} |"]


def until_prompt(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from starting ``command`` on a terminal until it shows the chat prompt, and then until the first
    answer to a question is printed; the chat is then ended with /quit."""
    main, secondary = pty.openpty()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=secondary, stdout=secondary, stderr=secondary, cwd=ROOT, env=env,
                               close_fds=True)
    os.close(secondary)
    seen = b""

    def wait_for(marker: bytes, limit: float = 120.0) -> bool:
        nonlocal seen
        deadline = time.perf_counter() + limit
        while marker not in seen and time.perf_counter() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(main, 65536)
                except OSError:
                    return False
        return marker in seen

    try:
        if not wait_for(b"you: "):
            raise RuntimeError(f"no prompt: {seen[-500:]!r}")
        ready = time.perf_counter() - started
        seen = b""
        asked = time.perf_counter()
        os.write(main, b"what is a memorandum of understanding\n")
        if not wait_for(b"you: "):
            raise RuntimeError(f"no answer: {seen[-500:]!r}")
        answered = time.perf_counter() - asked
        os.write(main, b"/quit\n")
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)
    return ready, answered


def part_chat(runs: int) -> list[str]:
    script = shutil.which("partnerbot", path=str(Path(sys.executable).parent))
    uv = shutil.which("uv")
    lines = [f"`partnerbot chat` on a terminal, warm cache (the vectors and the rewritten model on disk, the chat's "
             f"database made by a first run), {runs} runs each ({load()}):", "",
             "| command | Python bytecode | ready: median s | ready: max s | first answer: median s |",
             "| --- | --- | ---: | ---: | ---: |"]
    with tempfile.TemporaryDirectory() as folder:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "PYTHONDONTWRITEBYTECODE"))}
        base.update({"DATABASE_URL": f"sqlite+aiosqlite:///{folder}/chat.db", "TERM": "dumb"})
        bare = [script or sys.executable, *([] if script else ["-m", "bot.cli"]), "chat"]
        commands = [("partnerbot chat", "cached", bare, base)]
        if uv:
            commands.append(("uv run partnerbot chat", "cached", [uv, "run", "--project", str(ROOT), "partnerbot",
                                                                  "chat"], base))
        # As Python runs by default, the first run writes the bytecode cache (__pycache__) and later runs read
        # it. Where none is written (PYTHONDONTWRITEBYTECODE=1, as in some sandboxes, and none written before:
        # an empty PYTHONPYCACHEPREFIX stands for that) every start compiles every module again.
        empty = Path(folder) / "no-bytecode"
        empty.mkdir()
        commands.append(("partnerbot chat", "none (compiled at every start)", bare,
                         {**base, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(empty)}))
        until_prompt(bare, base)  # the first run makes the database and fills the caches
        for label, bytecode, command, env in commands:
            times = [until_prompt(command, env) for _ in range(runs)]
            ready = [t[0] for t in times]
            lines.append(f"| `{label}` | {bytecode} | {statistics.median(ready):.2f} | {max(ready):.2f} | "
                         f"{statistics.median(t[1] for t in times):.2f} |")
    return lines


LONG_MESSAGE = (
    "Hi, sorry for the long message. I run a small befriending charity and for a few years we have done informal "
    "things with two other local groups: sharing stalls at events, passing referrals back and forth. The council "
    "has now hinted it would fund us properly if we became a formal partnership, and our trustees are keen but "
    "nervous. How do we go from that informal way of working to something more formal without it falling apart? "
    "We have never written anything down between us and nobody has done this before, so any pointers would help."
)


async def bot_memory(cache: str | None = None) -> dict[str, int]:
    from tests.conftest import TEST_TOKEN
    from tests.fake_telegram import FakeTelegram
    from tests.process_support import partnerbot_command

    fake = FakeTelegram().start()
    folder = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_"))}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bot.db", "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
                "LOG_LEVEL": "WARNING", "TELEGRAM_API_BASE_URL": fake.base_url})
    if cache is not None:
        env["PARTNERBOT_CACHE_DIR"] = cache
    process = subprocess.Popen([*partnerbot_command(), "run"], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        person = fake.person(4242, "Sam")
        chat_id = person["id"]
        for text in ("/start", "hi", "what is a memorandum of understanding", "how do we manage risk in a consortium",
                     LONG_MESSAGE, "thanks"):
            mark = fake.mark()
            fake.say(person, text)
            await fake.replies(chat_id, 1, after=mark, timeout=120)
        await fake.settled(person, timeout=60)
        return status(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        fake.stop()
        shutil.rmtree(folder, ignore_errors=True)


def part_bot() -> list[str]:
    before = load()
    memory = asyncio.run(bot_memory())
    with tempfile.TemporaryDirectory() as empty:
        first = asyncio.run(bot_memory(empty))
    return [f"The running bot (`partnerbot run` against the fake Bot API of the tests, SQLite, after answering "
            f"/start, a greeting, two questions, a 600-character message and thanks; {before}): warm cache, resident "
            f"{memory['VmRSS'] / 1024:.0f} MiB, peak {memory['VmHWM'] / 1024:.0f} MiB; first start on an empty cache "
            f"(model rewritten, knowledge base embedded), resident {first['VmRSS'] / 1024:.0f} MiB, peak "
            f"{first['VmHWM'] / 1024:.0f} MiB."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part (repeatable)")
    parser.add_argument("--runs", type=int, default=5, help="runs of `partnerbot chat` per command")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child_form(args.child[1]) if args.child[0] == "form" else child_build()
        print(json.dumps(result))
        return 0
    for part in args.only or PARTS:
        lines = {"forms": part_forms, "ask": part_ask, "cold": part_cold, "bot": part_bot,
                 "chat": lambda: part_chat(args.runs)}[part]()
        print("\n".join(lines) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
