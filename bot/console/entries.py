"""Writing knowledge-base entries from the console into the curated YAML files, safely.

A curator's edit must never break the knowledge base the bot is answering from, and must not reformat
the files other curators edit by hand. So an entry is validated by the same schema and the same checks
as ``partnerbot kb check`` on a copy of the theme files with the change made; only when that copy has no
problem the current files do not already have is the one entry's block written back (the rest of the
file is left byte for byte), atomically, and read back to prove it says what the form said.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from knowledge.check import check_knowledge_base
from knowledge.loader import KnowledgeBase, KnowledgeError, load_theme_file
from knowledge.schema import Entry

_ENTRY_START = re.compile(r"^(?P<indent>[ ]*)- id:\s*['\"]?(?P<id>[^'\"\s#]+)")
_WRITE_LOCK = threading.Lock()

#: The form's fields, in the order they are shown.
FIELDS = ("id", "theme", "question", "alternates", "keywords", "answer", "source", "related", "document")


@dataclass
class SaveResult:
    """What happened: ``problems`` (empty when saved), the file written, and whether it was new."""

    problems: list[str] = field(default_factory=list)
    path: Path | None = None
    created: bool = False

    @property
    def saved(self) -> bool:
        return not self.problems and self.path is not None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def _items(text: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,;\n]", text.replace("\r", "")) if item.strip()]


def form_for(entry: Entry | None = None, **prefill: str) -> dict[str, str]:
    """The form's values: an existing entry's, or blanks with ``prefill`` (a gap's question, a draft)."""
    if entry is None:
        values = dict.fromkeys(FIELDS, "")
        values.update({k: v for k, v in prefill.items() if k in FIELDS and v})
        return values
    return {"id": entry.id, "theme": entry.theme, "question": entry.question,
            "alternates": "\n".join(entry.alternates), "keywords": ", ".join(entry.keywords),
            "answer": entry.answer, "source": entry.source, "related": ", ".join(entry.related),
            "document": entry.document or ""}


def entry_from_form(form: Mapping[str, str]) -> tuple[Entry | None, list[str]]:
    """Validate the form with the knowledge base's own schema: (entry, []) or (None, problems in words)."""
    values = {name: str(form.get(name, "") or "").replace("\x00", "") for name in FIELDS}
    raw: dict[str, object] = {
        "id": values["id"].strip().lower(), "question": " ".join(values["question"].split()),
        "alternates": _lines(values["alternates"]), "keywords": _items(values["keywords"]),
        "answer": "\n".join(line.rstrip() for line in values["answer"].replace("\r", "").strip().split("\n")),
        "source": values["source"].strip(), "related": _items(values["related"]),
    }
    document = values["document"].strip()
    if document:
        # A bare file name in templates/: the bot sends this file to people, so no folders and no "..".
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", document) or ".." in document:
            return None, ["document: give only the file name of a template in the templates folder (no folders)"]
        raw["document"] = document
    try:
        entry = Entry.model_validate(raw)
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in problem['loc']) or 'entry'}: {problem['msg']}"
                      for problem in exc.errors()]
    return entry, []


def entry_yaml(entry: Entry, indent: int = 2) -> str:
    """One entry as a block in the house style of the theme files (JSON strings are valid YAML scalars)."""
    pad, inner = " " * indent, " " * (indent + 2)

    def scalar(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    def flow(items: tuple[str, ...]) -> str:
        return "[" + ", ".join(scalar(item) for item in items) + "]"

    lines = [f"{pad}- id: {entry.id}", f"{inner}question: {scalar(entry.question)}", f"{inner}alternates:"]
    lines += [f"{inner}  - {scalar(alternate)}" for alternate in entry.alternates]
    if entry.keywords:
        lines.append(f"{inner}keywords: {flow(entry.keywords)}")
    lines.append(f"{inner}answer: |")
    lines += [f"{inner}  {line}" if line else "" for line in entry.answer.split("\n")]
    lines.append(f"{inner}source: {scalar(entry.source)}")
    if entry.related:
        lines.append(f"{inner}related: {flow(entry.related)}")
    if entry.document:
        lines.append(f"{inner}document: {scalar(entry.document)}")
    return "\n".join(lines) + "\n"


def _replace_block(text: str, entry_id: str, block: str) -> str | None:
    """``text`` with entry ``entry_id``'s block replaced by ``block`` (None when it is not in the file)."""
    lines = text.splitlines(keepends=True)
    start = indent = None
    for index, line in enumerate(lines):
        match = _ENTRY_START.match(line)
        if match and match["id"] == entry_id:
            start, indent = index, len(match["indent"])
            break
    if start is None or indent is None:
        return None
    end = start + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if stripped and (len(line) - len(line.lstrip(" "))) <= indent:
            break  # the next entry at the same depth, or a top-level key
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # blank lines between entries stay where they are
    return "".join(lines[:start]) + block + "".join(lines[end:])


def _append_block(text: str, block: str) -> str:
    return text.rstrip("\n") + "\n\n" + block


def save_entry(kb: KnowledgeBase, themes_dir: Path, templates_dir: Path, theme: str, entry: Entry,
               *, editing: str | None = None) -> SaveResult:
    """Add ``entry`` to theme file ``theme`` (or replace entry ``editing`` where it lives), after checks.

    Runs in a worker thread (the checks compare every pair of questions); one save at a time.
    """
    with _WRITE_LOCK:
        if editing is not None:
            current = kb.get(editing)
            if current is None:
                return SaveResult([f"entry {editing!r} no longer exists (reload the page)"])
            theme = current.theme
            if entry.id != editing:
                return SaveResult(["id: an entry's id cannot change (buttons people were sent name it)"])
        elif entry.id in kb.entries:
            return SaveResult([f"id: {entry.id!r} is already used by another entry; choose another id"])
        path = themes_dir / f"{theme}.yaml"
        if not re.fullmatch(r"[a-z0-9-]+", theme or "") or not path.is_file():
            return SaveResult(["theme: choose one of the themes in the list"])
        text = path.read_text(encoding="utf-8")
        if editing is not None:
            new_text = _replace_block(text, editing, entry_yaml(entry, _indent_of(text)))
            if new_text is None:
                return SaveResult([f"entry {editing!r} is not in {path.name} any more (reload the page)"])
        else:
            new_text = _append_block(text, entry_yaml(entry, _indent_of(text)))
        problems = _problems_of_change(themes_dir, templates_dir, path.name, new_text, entry)
        if problems:
            return SaveResult(problems)
        _write_atomically(path, new_text)
        return SaveResult([], path, created=editing is None)


def _indent_of(text: str) -> int:
    for line in text.splitlines():
        match = _ENTRY_START.match(line)
        if match:
            return len(match["indent"])
    return 2


def _problems_of_change(themes_dir: Path, templates_dir: Path, file_name: str, new_text: str,
                        entry: Entry) -> list[str]:
    """The `kb check` problems the change would add, checked on a copy of the theme files."""
    before = set(check_knowledge_base(themes_dir, templates_dir).problems)
    with tempfile.TemporaryDirectory(prefix="partnerbot-kb-") as scratch:
        copy = Path(scratch) / "themes"
        shutil.copytree(themes_dir, copy)
        (copy / file_name).write_text(new_text, encoding="utf-8")
        try:
            written = {e.id: e for e in load_theme_file(copy / file_name).entries}
        except KnowledgeError as exc:  # pragma: no cover - the block is built from a validated entry
            return [f"the file would not load: {exc}"]
        if written.get(entry.id) != entry:
            return ["the entry would not read back as written; nothing was saved"]
        after = check_knowledge_base(copy, templates_dir).problems
    return [problem for problem in after if problem not in before]


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the file, then rename over it: the bot never reads half a file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def search_entries(kb: KnowledgeBase, query: str, limit: int = 200) -> list[Entry]:
    """Entries whose id, question, alternates, keywords or answer contain every word of ``query``."""
    words = [word for word in query.lower().split() if word]
    entries = sorted(kb.entries.values(), key=lambda e: (e.theme, e.id))
    if not words:
        return entries[:limit]
    found = []
    for entry in entries:
        haystack = " ".join((entry.id, entry.question, *entry.alternates, *entry.keywords, entry.answer)).lower()
        if all(word in haystack for word in words):
            found.append(entry)
    return found[:limit]
