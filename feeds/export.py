"""Visit changes on their way to calendars (filled in by the calendar issue)."""

from __future__ import annotations

from collections.abc import Collection


def visits_changed(visit_ids: Collection[int]) -> None:
    """Called inside the transaction that changed these visits."""
