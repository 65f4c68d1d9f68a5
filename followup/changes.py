"""Where every visit change reaches the calendars.

The services call `visits_changed` inside the transaction that changed the
visits, so the calendar side can mark its entries stale and bump feed
versions atomically with the change, and enqueue the export after commit.
"""

from __future__ import annotations

from collections.abc import Collection


def visits_changed(visit_ids: Collection[int]) -> None:
    if not visit_ids:
        return
    from feeds import export  # the calendars depend on follow-up, not back

    export.visits_changed(visit_ids)
