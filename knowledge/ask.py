"""Ask the knowledge base from the command line: for a person, or as JSON lines for the evaluation.

``python -m knowledge.ask "what is an mou"`` prints what the bot would say; ``--json`` prints one JSON
object per question, and with no QUESTION reads one question per line from standard input (the
contract of ``shared/eval/score.py``). The knowledge base is loaded and indexed once per run, so a
batch of questions costs one start-up.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from knowledge.engine import Matcher, Outcome
from knowledge.loader import TEMPLATES_DIR, THEMES_DIR, KnowledgeError, load_knowledge_base
from knowledge.pointers import RealHelp, decline_lines
from knowledge.smalltalk import reply
from knowledge.sources import human_source


def outcome_json(outcome: Outcome) -> dict[str, object]:
    """The JSON shape of one reply: answered only for a confident answer, suggestions as questions and ids.

    ``kind`` says which of answer / suggest / decline / smalltalk it was; small talk is never answered.
    """
    answered = outcome.kind == "answer" and outcome.best is not None
    best = outcome.best
    return {
        "answered": answered,
        "answer": best.entry.answer if answered and best else None,
        "id": best.entry.id if answered and best else None,
        "score": round(outcome.score, 2),
        "suggestions": [match.entry.question for match in outcome.suggestions],
        "suggestion_ids": [match.entry.id for match in outcome.suggestions],
        "kind": outcome.kind,
    }


def outcome_text(outcome: Outcome, help_: RealHelp | None = None) -> str:
    """What a person reads: the answer with its entry, "did you mean" choices, a small-talk reply, or a decline."""
    help_ = help_ or RealHelp()
    if outcome.kind == "smalltalk" and outcome.talk is not None:
        return reply(outcome.talk)
    if outcome.kind == "answer" and outcome.best is not None:
        entry = outcome.best.entry
        return (f"[{entry.id}] {entry.question}\n\n{entry.answer.strip()}\n\n"
                f"From: {human_source(entry.source)}")
    choices = "\n".join(f"{n}. [{match.entry.id}] {match.entry.question}"
                        for n, match in enumerate(outcome.suggestions, 1))
    if outcome.kind == "suggest" and choices:
        return f"I'm not sure which of these you mean. Did you mean:\n{choices}"
    lines = decline_lines(help_, outcome.outside)
    if choices:
        lines.insert(1, f"The nearest questions I know are:\n{choices}")
    return "\n\n".join(lines)


def answer_lines(matcher: Matcher, lines: Iterable[str], out: TextIO) -> None:
    """One JSON object per input line, in order, flushed so a caller reading a pipe sees each at once."""
    for line in lines:
        out.write(json.dumps(outcome_json(matcher.ask(line.rstrip("\r\n")))) + "\n")
        out.flush()


def ask_main(question: str | None, as_json: bool, themes_dir: Path = THEMES_DIR,
             templates_dir: Path = TEMPLATES_DIR, help_: RealHelp | None = None) -> int:
    """Answer ``question`` (or, with ``as_json`` and no question, every line of stdin); the exit status."""
    try:
        matcher = Matcher(load_knowledge_base(themes_dir, templates_dir))
    except KnowledgeError as exc:
        print(f"Knowledge base: {exc}", file=sys.stderr)
        return 2
    if as_json:
        answer_lines(matcher, sys.stdin if question is None else [question], sys.stdout)
        return 0
    if question is None:
        print("Give a QUESTION, or use --json to read questions from standard input.", file=sys.stderr)
        return 2
    print(outcome_text(matcher.ask(question), help_))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m knowledge.ask [QUESTION] [--json]``."""
    parser = argparse.ArgumentParser(prog="python -m knowledge.ask", description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", help="the question; omit it with --json to read stdin")
    parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object a line")
    args = parser.parse_args(argv)
    return ask_main(args.question, args.as_json)


if __name__ == "__main__":
    sys.exit(main())
