"""Callback data: short, stable strings that name an action and the object it acts on.

Telegram gives a button 64 bytes of data. Entries are named by their stable ids (not positions), so a
button keeps working after a restart or a knowledge-base reload; everything else by its database id,
and every handler checks on the server that the object belongs to the person pressing.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Callback:
    """A decoded button press: the action and its arguments (strings)."""

    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int | None:
        try:
            return int(self.args[index])
        except (IndexError, ValueError):
            return None


def make(action: str, *args: object) -> str:
    """Encode a button's data; refuses anything Telegram would reject."""
    data = ":".join([action, *(str(arg) for arg in args)])
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def parse(data: str | None) -> Callback:
    """Decode a button's data; unknown or damaged data gives an action no handler claims."""
    if not data:
        return Callback("", ())
    action, *args = data.split(":")
    return Callback(action, tuple(args))


def pattern(action: str) -> str:
    """The regular expression a CallbackQueryHandler uses to claim an action."""
    return rf"^{action}(:|$)"
