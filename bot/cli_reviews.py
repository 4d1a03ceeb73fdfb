"""``partnerbot reviews ...`` (placeholder while review nudges are written)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Review nudges: add, list, next occurrences, what is due.", no_args_is_help=True)
