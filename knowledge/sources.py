"""The seed documents the knowledge base is written from, and how a person sees them cited.

Entries cite a seed by file name plus section heading (``001_ff8aba5cfa945d73.txt: Lessons Learned``);
people on a phone need a readable title instead, so the one mapping from file to title lives here.
"""

from __future__ import annotations

SEED_TITLES: dict[str, str] = {
    "000_6dc17c626cc1e874.txt": "Working in Partnership seminar: questions to the panel, KCSC, 2009",
    "001_ff8aba5cfa945d73.txt": "Working in Partnership, KCSC seminar briefing, 2009",
    "002_3170819298b58a6f.txt": "Partnership information sheet 3.3, Carmarthenshire Association of Voluntary Services",
    "003_80d2f9587460e70c.txt": "Collaborative Working workbook, Sally Markwell and Viv Speller",
    "004_1ceaac2b24e2e007.txt": "Developing positive relationships, Collaborate resource kit worksheet 4, hact",
}

#: The citation used by entries that describe PartnerBot itself rather than a seed document.
BOT_SOURCE = "PartnerBot"


def seed_file_of(source: str) -> str | None:
    """Return the seed file named at the start of a ``source`` field, or None for the bot's own entries."""
    head = source.split(":", 1)[0].strip()
    return head if head.endswith(".txt") else None


def human_source(source: str) -> str:
    """A one-line, readable citation for a ``source`` field ("From: ...")."""
    seed = seed_file_of(source)
    if seed is None:
        return "PartnerBot's own guide"
    title = SEED_TITLES.get(seed, seed)
    section = source.split(":", 1)[1].strip() if ":" in source else ""
    return f"{title} ({section})" if section else title
