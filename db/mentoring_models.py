"""Tables of the mentoring feature (being written)."""

from __future__ import annotations
