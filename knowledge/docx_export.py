"""Templates as Word documents: the Markdown in ``knowledge/templates/`` stays the source, and a .docx made
from it with python-docx is what people open and edit (most charity staff work in Word, not Markdown).

Covers what the templates use: headings (#, ##, ###), paragraphs, bullet and numbered lists, tables,
horizontal rules, **bold** and _italic_ runs. Anything else is kept as plain text, so nothing is lost.
The document is built in memory; the caller sends the bytes (no files are written next to the templates).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

_INLINE = re.compile(r"(\*\*[^*]+\*\*|(?<!\w)_[^_]+_(?!\w)|\*[^*\s][^*]*\*)")
_NUMBERED = re.compile(r"^\d+[.)]\s+")
_RULE = re.compile(r"^\s*(-{3,}|\*{3,}|_{3,})\s*$")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _add_runs(paragraph, text: str) -> None:  # type: ignore[no-untyped-def]
    """Add ``text`` to a paragraph, turning **bold** and _italic_ into formatted runs."""
    for piece in _INLINE.split(text):
        if not piece:
            continue
        if piece.startswith("**") and piece.endswith("**") and len(piece) > 4:
            paragraph.add_run(piece[2:-2]).bold = True
        elif len(piece) > 2 and piece[0] == piece[-1] and piece[0] in "_*":
            paragraph.add_run(piece[1:-1]).italic = True
        else:
            paragraph.add_run(piece)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_to_docx(markdown: str, title: str | None = None) -> bytes:
    """A Word document (bytes) with the content of ``markdown``."""
    # python-docx costs 22 MB of memory and 0.3 s to import; the bot makes a document only when someone asks for
    # a template, so it is imported here rather than with the bot.
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.styles["Normal"].font.size = Pt(11)
    if title:
        document.core_properties.title = title
    lines = markdown.splitlines()
    i = 0
    paragraph_lines: list[str] = []

    def flush() -> None:
        if paragraph_lines:
            paragraph = document.add_paragraph()
            for n, line in enumerate(paragraph_lines):
                if n:
                    paragraph.add_run().add_break()
                _add_runs(paragraph, line)
            paragraph_lines.clear()

    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            level = min(len(stripped) - len(stripped.lstrip("#")), 3)
            heading = document.add_heading(level=level)
            _add_runs(heading, stripped[level:].strip())
        elif _RULE.match(stripped):
            flush()
            document.add_paragraph("")
        elif stripped.startswith("|") and i + 1 < len(lines) and _TABLE_SEPARATOR.match(lines[i + 1].strip()):
            flush()
            header = _cells(stripped)
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            table = document.add_table(rows=1 + len(rows), cols=len(header))
            table.style = "Table Grid"
            for col, text in enumerate(header):
                cell = table.rows[0].cells[col].paragraphs[0]
                cell.add_run(text.strip("*")).bold = True
            for row_number, row in enumerate(rows, start=1):
                for col in range(len(header)):
                    _add_runs(table.rows[row_number].cells[col].paragraphs[0], row[col] if col < len(row) else "")
            continue
        elif stripped.startswith(("- ", "* ", "+ ")):
            flush()
            _add_runs(document.add_paragraph(style="List Bullet"), stripped[2:].strip())
        elif _NUMBERED.match(stripped):
            flush()
            _add_runs(document.add_paragraph(style="List Number"), _NUMBERED.sub("", stripped, count=1))
        else:
            paragraph_lines.append(stripped)
        i += 1
    flush()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def template_docx(path: Path) -> tuple[str, bytes]:
    """The Word file name and bytes for a Markdown template (``mou-template.md`` -> ``mou-template.docx``)."""
    text = path.read_text(encoding="utf-8")
    first = next((line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")), path.stem)
    return path.with_suffix(".docx").name, markdown_to_docx(text, title=first)
