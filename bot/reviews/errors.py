"""The exceptions of the review rules: a friendly input error, a forged button, a closed nudge."""

from __future__ import annotations


class ReviewInputError(ValueError):
    """A value a person typed that cannot be used; ``str()`` is the friendly one-line explanation."""


class NotAllowed(Exception):
    """The object does not belong to the chat or person asking (a forged or stale button)."""


class NudgeClosed(Exception):
    """The nudge can no longer be snoozed or skipped; ``str()`` says why, for the person."""
