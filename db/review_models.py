"""Tables of the review feature (being written)."""

from __future__ import annotations
