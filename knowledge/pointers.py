"""Where to send someone the knowledge base cannot help: the local council for voluntary service (CVS)
that runs the bot, and the human panel where one is configured.

Both are settings of the bot (CVS_NAME, CVS_CONTACT, PANEL_CHAT_ID), so the words here take them as
arguments: a bot with no panel never promises one, a bot with no CVS configured points to /topics only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RealHelp:
    """Who can help beyond the bot: the CVS (name and how to reach it) and whether a panel is configured."""

    cvs_name: str | None = None
    cvs_contact: str | None = None
    has_panel: bool = False

    def cvs_line(self) -> str | None:
        """"For that, X can help: Y." or None when no CVS is configured."""
        if not self.cvs_name and not self.cvs_contact:
            return None
        who = self.cvs_name or "Your local council for voluntary service"
        reach = f" ({self.cvs_contact})" if self.cvs_contact else ""
        return f"{who}{reach} can help or point you to someone who can."


def decline_lines(help_: RealHelp, outside: str | None) -> list[str]:
    """The body of a kind decline: what the bot covers, who can really help, and the panel if there is one."""
    if outside:
        first = (f"That sounds like a question about {outside}, which my knowledge base doesn't cover: "
                 "I only know about working in partnership.")
    else:
        first = "Sorry, I don't have an answer to that in my knowledge base."
    lines = [first]
    cvs = help_.cvs_line()
    if cvs:
        lines.append(cvs)
    if help_.has_panel:
        lines.append("You can also send your question to our panel of people who know, and I'll pass their "
                     "reply back to you.")
    else:
        lines.append("Try asking in other words, or browse what I know with /topics.")
    return lines
