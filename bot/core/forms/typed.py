"""Typed answers where buttons are offered: "four" for 4, "charity" for Charity, "weds" for Wednesday,
"yep" for yes. People on a phone type rather than scroll back to a button; refusing what they typed
("please tap one of the buttons above") loses them. Matching is forgiving (rapidfuzz) but never
guesses between two close options: then it returns the candidates so the flow can ask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

NUMBER_WORDS = {"zero": 0, "nought": 0, "none": 0, "one": 1, "won": 1, "two": 2, "too": 2, "three": 3,
                "four": 4, "for": 4, "fore": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
YES = {"yes", "y", "yeah", "yea", "yep", "yup", "ye", "aye", "sure", "ok", "okay", "correct", "right", "please",
       "yes please", "go ahead", "do it", "definitely", "of course", "that's right", "thats right", "true"}
NO = {"no", "n", "nope", "nah", "no thanks", "no thank you", "not now", "not really", "don't", "dont", "false",
      "never mind", "nevermind", "wrong"}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAY_SHORT = (("mon",), ("tue", "tues"), ("wed", "weds"), ("thu", "thur", "thurs"), ("fri",), ("sat",), ("sun",))
FILLER = {"a", "an", "the", "its", "it's", "it", "is", "we", "we're", "were", "are", "our", "my", "i", "i'm",
          "im", "on", "in", "at", "every", "each", "please", "just", "um", "er", "erm", "mostly", "probably",
          "based", "mainly", "s"}
#: A fuzzy score (0-100) an option must reach, and how far ahead of the runner-up it must be.
CUTOFF, MARGIN = 82.0, 6.0


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: the form every comparison uses."""
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"[^\w'\s/]", " ", text)
    return " ".join(text.split())


def _meaningful(text: str) -> str:
    words = [w for w in normalise(text).split() if w not in FILLER]
    return " ".join(words) or normalise(text)


@dataclass(frozen=True)
class Option:
    """Something a person can choose: the value stored, its button label, and other names for it."""

    value: str
    label: str
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class Reading:
    """What a typed answer was read as: one ``value``, or several ``candidates`` (ask which), or nothing."""

    value: str | None = None
    candidates: tuple[Option, ...] = field(default_factory=tuple)

    @property
    def found(self) -> bool:
        return self.value is not None


def choose(text: str, options: Sequence[Option], *, cutoff: float = CUTOFF) -> Reading:
    """The option ``text`` names: exactly, by a unique prefix, or by a clear fuzzy match."""
    typed = _meaningful(text)
    if not typed:
        return Reading()
    exact = {o.value for o in options if typed in {_meaningful(n) for n in o.names()} or typed == normalise(o.value)}
    if len(exact) == 1:
        return Reading(exact.pop())
    if len(typed) >= 3:
        prefixed = {o.value for o in options if any(_meaningful(n).startswith(typed) for n in o.names())}
        if len(prefixed) == 1:
            return Reading(prefixed.pop())
    # One score per value (several options may name the same value: "Yes", "yep", "definitely").
    best_of: dict[str, tuple[float, Option]] = {}
    for option in options:
        score = _score(typed, option)
        if option.value not in best_of or score > best_of[option.value][0]:
            best_of[option.value] = (score, option)
    scored = sorted(best_of.values(), key=lambda pair: pair[0], reverse=True)
    if not scored or scored[0][0] < cutoff:
        close = tuple(o for s, o in scored if s >= cutoff - 15)[:4]
        return Reading(candidates=close)
    best, option = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if best - runner_up < MARGIN:
        return Reading(candidates=tuple(o for s, o in scored if best - s < MARGIN)[:4])
    return Reading(option.value)


def _score(typed: str, option: Option) -> float:
    best = 0.0
    for name in option.names():
        target = _meaningful(name)
        score = fuzz.ratio(typed, target)
        if len(typed) >= 4:  # a word of the label ("enterprise" for "Social enterprise"), typos allowed
            words = [w for w in target.split() if len(w) >= 4]
            score = max(score, *(fuzz.ratio(typed, w) - 4 for w in words)) if words else score
        best = max(best, score)
    return best


def parse_number(text: str, low: int, high: int) -> int | None:
    """A whole number in [low, high] typed as digits or a word: "4", "four", "4/5", "4 out of 5", "a 4"."""
    value = normalise(text)
    value = re.sub(r"\s*(/|out of|of)\s*\d+$", "", value)
    words = [w for w in value.split() if w not in FILLER and w not in {"score", "i'd", "say", "give", "it"}]
    if len(words) != 1:
        return None
    word = words[0]
    number = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
    if number is None and len(word) >= 3:  # a typo of a number word: "fuor", "thre"
        spelled = [w for w in NUMBER_WORDS if len(w) >= 3 and w not in {"too", "won", "for", "fore", "none"}]
        scored = max(((fuzz.ratio(word, w), w) for w in spelled), default=(0.0, ""))
        number = NUMBER_WORDS[scored[1]] if scored[0] >= 75 else None
    return number if number is not None and low <= number <= high else None


def parse_yes_no(text: str) -> bool | None:
    """True for yes (and its everyday forms), False for no, None when it is neither."""
    value = normalise(text).rstrip("!. ")
    if value in YES or value.startswith(("yes ", "yeah ", "yep ")):
        return True
    if value in NO or value.startswith(("no ", "nope ")):
        return False
    return None


def weekday_options() -> list[Option]:
    pairs = enumerate(zip(WEEKDAY_NAMES, WEEKDAY_SHORT, strict=True))
    return [Option(str(i), name, (*short, name + "s")) for i, (name, short) in pairs]


def parse_weekday(text: str) -> int | None:
    """0 (Monday) to 6 (Sunday) from "mon", "Tuesdays", "weds", "on a thursday", "wendesday"."""
    reading = choose(text, weekday_options())
    return int(reading.value) if reading.value is not None else None


def options_of(pairs: Iterable[tuple[str, str]]) -> list[Option]:
    """Options from (value, label) pairs, as the buttons of a step are built."""
    return [Option(value, label) for value, label in pairs]
