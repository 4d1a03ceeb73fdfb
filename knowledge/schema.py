"""The shape of a knowledge-base entry and of a theme file, as pydantic models.

Curators edit YAML by hand; a model with precise messages turns a typo into a one-line error that
names the file, the entry and the field instead of a crash at answer time.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Entry ids go into Telegram callback data (64 bytes in all), so they are short ASCII slugs.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
MAX_ANSWER_CHARS = 1500


class Entry(BaseModel):
    """One curated question with its answer, the ways people ask it, and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str
    question: str = Field(min_length=5, max_length=200)
    alternates: tuple[str, ...] = Field(min_length=4)
    keywords: tuple[str, ...] = ()
    answer: str = Field(min_length=20, max_length=MAX_ANSWER_CHARS)
    source: str = Field(min_length=3)
    references: tuple[str, ...] = ()
    related: tuple[str, ...] = Field(default=(), max_length=4)
    document: str | None = None
    theme: str = ""

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("must be 3-40 characters of a-z, 0-9 and '-' (a stable slug)")
        return value

    @field_validator("alternates", "keywords")
    @classmethod
    def _no_blank_items(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(item.strip() for item in value)
        if any(not item for item in cleaned):
            raise ValueError("must not contain empty items")
        return cleaned


class ThemeFile(BaseModel):
    """A YAML file of entries on one theme, e.g. ``knowledge/themes/agreements.yaml``."""

    model_config = ConfigDict(extra="forbid")

    theme: str = Field(min_length=3, max_length=60)
    order: int = 100
    entries: list[Entry] = Field(min_length=1)
