"""Visit changes on their way to calendars: the feeds' change handler.

`FeedsConfig.ready` registers `visits_changed` with `followup.changes`, so
it runs inside the transaction of every visit change (generation, re-plan,
booking, import). In that same transaction the feeds that list the visits
get a new version, so no feed is served from a cache older than a committed
change; then the export task is scheduled (it runs after the commit).
"""

from __future__ import annotations

from collections.abc import Collection

from feeds import tasks, versions


def visits_changed(visit_ids: Collection[int]) -> None:
    """Called inside the transaction that changed these visits.

    A bounded number of queries whatever the number of ids (the CSV import
    passes tens of thousands at once).
    """
    if not visit_ids:
        return
    versions.bump_for_visits(visit_ids)
    tasks.schedule_export(visit_ids)
