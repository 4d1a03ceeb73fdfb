"""Loading the curated knowledge base from its YAML theme files.

Loading is strict: a broken file raises :class:`KnowledgeError` naming the file, the entry and what is
wrong, so a curator's typo never reaches a user as a half-loaded knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge.schema import Entry, ThemeFile

KNOWLEDGE_DIR = Path(__file__).resolve().parent
THEMES_DIR = KNOWLEDGE_DIR / "themes"
#: libyaml's parser when PyYAML was built with it (about ten times faster: `partnerbot ask` starts sooner).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
TEMPLATES_DIR = KNOWLEDGE_DIR / "templates"


class KnowledgeError(Exception):
    """A knowledge-base file that cannot be used, with a message a curator can act on."""


@dataclass(frozen=True)
class Theme:
    """A theme as shown in /topics: its slug (the file name), title and entries in file order."""

    slug: str
    title: str
    order: int
    entry_ids: tuple[str, ...]


@dataclass
class KnowledgeBase:
    """All entries by id, and the themes that group them."""

    entries: dict[str, Entry] = field(default_factory=dict)
    themes: dict[str, Theme] = field(default_factory=dict)
    templates_dir: Path = TEMPLATES_DIR

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)

    def sorted_themes(self) -> list[Theme]:
        return sorted(self.themes.values(), key=lambda t: (t.order, t.title))

    def template_path(self, entry: Entry) -> Path | None:
        """The template file an entry offers, or None when it offers none or the file is missing."""
        if not entry.document:
            return None
        path = self.templates_dir / entry.document
        return path if path.is_file() else None


def _describe(error: ValidationError, raw: object) -> str:
    """Turn pydantic's error list into 'entry ID: field: problem' lines."""
    lines = []
    for problem in error.errors():
        loc = list(problem["loc"])
        where = ".".join(str(part) for part in loc)
        if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int) and isinstance(raw, dict):
            entries = raw.get("entries") or []
            index = loc[1]
            entry_id = entries[index].get("id") if index < len(entries) and isinstance(
                entries[index], dict) else None
            label = f"entry {entry_id!r}" if entry_id else f"entry #{index + 1}"
            where = f"{label}: " + ".".join(str(part) for part in loc[2:])
        lines.append(f"{where}: {problem['msg']}")
    return "; ".join(lines)


def load_theme_file(path: Path) -> ThemeFile:
    """Parse and validate one theme file, or raise KnowledgeError naming the file and the entry."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path.name}: cannot be read ({exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise KnowledgeError(f"{path.name}: is not valid YAML{where}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path.name}: must be a mapping with 'theme' and 'entries'")
    try:
        return ThemeFile.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {_describe(exc, raw)}") from exc


def load_knowledge_base(themes_dir: Path = THEMES_DIR, templates_dir: Path = TEMPLATES_DIR) -> KnowledgeBase:
    """Load every ``*.yaml`` theme file; ids must be unique across the whole knowledge base."""
    files = sorted(themes_dir.glob("*.yaml"))
    if not files:
        raise KnowledgeError(f"{themes_dir}: no theme files (*.yaml) found")
    kb = KnowledgeBase(templates_dir=templates_dir)
    seen_in: dict[str, str] = {}
    for path in files:
        theme_file = load_theme_file(path)
        slug = path.stem
        ids = []
        for entry in theme_file.entries:
            if entry.id in seen_in:
                raise KnowledgeError(
                    f"{path.name}: entry {entry.id!r}: id already used in {seen_in[entry.id]}")
            seen_in[entry.id] = path.name
            kb.entries[entry.id] = entry.model_copy(update={"theme": slug})
            ids.append(entry.id)
        kb.themes[slug] = Theme(slug=slug, title=theme_file.theme, order=theme_file.order,
                                entry_ids=tuple(ids))
    return kb
