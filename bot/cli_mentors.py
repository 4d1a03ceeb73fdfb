"""``partnerbot mentors ...`` (placeholder while mentoring is written)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Mentor buddies: import, list and match.", no_args_is_help=True)
