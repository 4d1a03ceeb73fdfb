"""Callback data: short, stable strings that name an action and the object it acts on.

Telegram gives a button 64 bytes of data. Entries are named by their stable ids (not positions), so a
button keeps working after a restart or a knowledge-base reload; everything else by its database id,
and every handler checks on the server that the object belongs to the person pressing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64

OPEN_ENTRY = "e"        # e:<entry id>
TEMPLATE = "t"          # t:<entry id>
VOTE = "v"              # v:<entry id>:<1|0>
THEMES = "tp"           # tp:<page>
THEME = "th"            # th:<theme slug>:<page>
ASK_PANEL = "pa"        # pa:<question log id>
PANEL_CONSENT = "pn"    # pn:<question log id>:<1 share name|0 anonymous>
PANEL_CANCEL = "pc"     # pc:<question log id>
RATE_REPLY = "pr"       # pr:<panel reply id>:<1|0>
RESOLVE = "px"          # px:<panel question id>
SAVE_DRAFT = "pd"       # pd:<panel reply id>
# Also: "fy"/"fn" (forget: yes / no), "m..." (mentoring) and "r..." (review nudges) in their own modules.


#: Row ids are Integer columns: 32-bit on PostgreSQL. A larger number names no row on any database, so it
#: is refused here instead of overflowing in SQLite or giving a misleading "try again" on PostgreSQL.
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"^[0-9]{1,10}$")
_WORD = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Arg:
    """What one argument of a button may be: a row id, a bounded number, one of a set, or a short word."""

    kind: str  # "id", "int", "one_of", "word"
    low: int = 0
    high: int = 0
    values: frozenset[str] = frozenset()
    optional: bool = False

    def accepts(self, value: str) -> bool:
        if self.kind in ("id", "int"):
            if not _DIGITS.match(value):
                return False
            low, high = (1, MAX_ID) if self.kind == "id" else (self.low, self.high)
            return low <= int(value) <= high
        if self.kind == "one_of":
            return value in self.values
        return bool(_WORD.match(value))


ID = Arg("id")
WORD = Arg("word")
BIT = Arg("one_of", values=frozenset({"0", "1"}))
PAGE = Arg("int", 0, 999)


def one_of(*values: str) -> Arg:
    return Arg("one_of", values=frozenset(values))


def maybe(arg: Arg) -> Arg:
    return Arg(arg.kind, arg.low, arg.high, arg.values, optional=True)


@dataclass(frozen=True)
class Schema:
    args: tuple[Arg, ...] = ()
    #: Buttons about the presser's own details (their profile): refused outside a private chat, so a
    #: forged press in a group can never turn a bot message there into the presser's profile card.
    private_only: bool = False


_SCORES = ("1", "2", "3", "4", "5", "forming", "frustration", "functioning", "flying", "failing")
_PROFILE = Schema((maybe(WORD), maybe(WORD)), private_only=True)

#: Every action the bot puts on a button, and what its arguments may be. One parser for all: data that
#: names a known action with arguments outside these sets is refused before any handler sees it.
SCHEMAS: dict[str, Schema] = {
    OPEN_ENTRY: Schema((WORD,)), TEMPLATE: Schema((WORD,)), VOTE: Schema((WORD, BIT)),
    THEMES: Schema((PAGE,)), THEME: Schema((WORD, PAGE)),
    ASK_PANEL: Schema((ID,)), PANEL_CONSENT: Schema((ID, BIT)), PANEL_CANCEL: Schema((ID,)),
    RATE_REPLY: Schema((ID, BIT)), RESOLVE: Schema((ID,)), SAVE_DRAFT: Schema((ID,)),
    "fy": Schema(), "fn": Schema(),
    # every form's Back and Cancel (bot/core/forms/conversation.py)
    "fb": Schema(), "fx": Schema(),
    # mentoring
    "ms": Schema((ID,)), "ma": Schema((ID,)), "md": Schema((ID,)), "mz": Schema((ID,)), "mc": Schema((ID,)),
    "mf": Schema((ID, one_of("yes", "notyet", "different"))), "mv": Schema((ID, BIT)),
    "mr": Schema((ID, one_of("1", "2", "3", "4", "5"))), "mk": Schema((ID,)), "me": Schema((ID,)),
    "mo": Schema(),
    **{action: _PROFILE for action in ("mpn", "mpt", "mpr", "mpw", "mpk", "mpd", "mps", "mpf", "mpp", "mpg",
                                       "mpc", "mpx", "mpe", "mph", "mpq", "mpy", "mpj", "mpu")},
    # review nudges
    "rs": Schema((WORD, maybe(WORD))), "rc": Schema((ID, maybe(one_of("name", "partners", "schedule")))),
    "rp": Schema((ID, one_of("menu", "pause", "resume", "stop", "stopok", "keep"))), "rk": Schema((ID,)),
    "rn": Schema((ID, one_of("go", "dm", "s1", "s7", "sk"))),
    "ra": Schema((ID, Arg("int", 0, 6), one_of(*_SCORES))), "rz": Schema((ID,)),
    "rh": Schema((ID,)), "rv": Schema((ID,)),
}


@dataclass(frozen=True)
class Callback:
    """A decoded button press: the action and its arguments (strings).

    ``known`` is False for an action no button of this bot carries; ``valid`` is False when a known
    action's arguments are outside what its buttons ever hold (a forged or damaged press).
    """

    action: str
    args: tuple[str, ...]
    known: bool = False
    valid: bool = False
    private_only: bool = False

    def int_arg(self, index: int) -> int | None:
        """The argument as a number, or None when it is missing, not a number or outside a row id's range."""
        try:
            value = int(self.args[index])
        except (IndexError, ValueError):
            return None
        return value if -MAX_ID <= value <= MAX_ID else None


def make(action: str, *args: object) -> str:
    """Encode a button's data; refuses anything Telegram would reject."""
    data = ":".join([action, *(str(arg) for arg in args)])
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def _valid(schema: Schema, args: tuple[str, ...]) -> bool:
    required = sum(not a.optional for a in schema.args)
    if not required <= len(args) <= len(schema.args):
        return False
    return all(spec.accepts(value) for spec, value in zip(schema.args, args, strict=False))


def parse(data: str | None) -> Callback:
    """Decode and check a button's data; unknown or damaged data gives an action no handler claims."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return Callback("", ())
    action, *args = data.split(":")
    schema = SCHEMAS.get(action)
    if schema is None:
        return Callback(action, tuple(args))
    return Callback(action, tuple(args), known=True, valid=_valid(schema, tuple(args)),
                    private_only=schema.private_only)


def pattern(action: str) -> str:
    """The regular expression a CallbackQueryHandler uses to claim an action."""
    return rf"^{action}(:|$)"
