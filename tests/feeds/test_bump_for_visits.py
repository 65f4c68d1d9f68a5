"""`versions.bump_for_visits`: the set-based bump does what the row-by-row one did."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from feeds import versions
from feeds.models import CalendarEntry, CalendarLink, FeedVersion, LinkScope
from followup.models import Visit
from tests.factories import SurgeonFactory, make_procedure

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 10, 0, 0, 500_000, tzinfo=dt.UTC)


class _Undo(Exception):
    pass


def snapshot() -> dict[str, Any]:
    return {
        "feeds": sorted(
            FeedVersion.objects.values_list("key", "version", "changed_at")
        ),
        "links": sorted(
            CalendarLink.objects.values_list("pk", "feed_version", "feed_changed_at")
        ),
        "entries": sorted(
            CalendarEntry.objects.values_list("visit_id", "feed_surgeon_id")
        ),
    }


def link(scope: str, key: str, *, revoked: bool = False, **owner: Any) -> None:
    CalendarLink.objects.create(
        scope=scope,
        token_hash=f"{key}-{revoked}".ljust(64, "x"),
        feed=versions.ensure(key),
        revoked_at=NOW if revoked else None,
        **owner,
    )


def clinic_with_moved_and_linked_visits() -> list[int]:
    """Visits of two procedures: one booked with another surgeon, one whose
    entry was listed in a third surgeon's feed, and links old and revoked."""
    first, second = make_procedure(), make_procedure()
    visits = list(Visit.objects.filter(procedure__in=[first, second]).order_by("pk"))
    covering, listed_before = SurgeonFactory.create(), SurgeonFactory.create()
    Visit.objects.filter(pk=visits[0].pk).update(surgeon=covering)
    CalendarEntry.objects.filter(visit_id=visits[1].pk).update(
        feed_surgeon=listed_before
    )
    # A feed changed "in the future" (clock skew): it still rises by a second.
    FeedVersion.objects.filter(key="clinic").update(
        changed_at=NOW + dt.timedelta(minutes=5)
    )
    link(LinkScope.CLINIC, "clinic")
    link(
        LinkScope.SURGEON,
        f"surgeon:{listed_before.pk}",
        surgeon=listed_before,
    )
    link(
        LinkScope.PATIENT,
        f"patient:{first.patient_id}",
        revoked=True,
        patient=first.patient,
    )
    link(LinkScope.SURGEON, f"surgeon:{covering.pk}", surgeon=covering)
    return [v.pk for v in visits]


def test_set_based_bump_writes_what_the_key_by_key_bump_writes() -> None:
    ids = clinic_with_moved_and_linked_visits()
    with pytest.raises(_Undo), transaction.atomic():
        versions.bump(versions.keys_for_visits(ids), now=NOW)
        versions.bump(versions.keys_for_visits(ids[:2]), now=NOW)
        expected = snapshot()
        raise _Undo

    versions.bump_for_visits(ids, now=NOW)
    versions.bump_for_visits(ids[:2], now=NOW)

    assert snapshot() == expected


def test_set_based_bump_raises_every_feed_of_the_visits_once() -> None:
    ids = clinic_with_moved_and_linked_visits()
    before = dict(FeedVersion.objects.values_list("key", "version"))
    # keys_for_visits re-points moved entries: read it and undo that.
    with pytest.raises(_Undo), transaction.atomic():
        keys = versions.keys_for_visits(ids)
        raise _Undo

    versions.bump_for_visits(ids, now=NOW)

    after = dict(FeedVersion.objects.values_list("key", "version"))
    assert {key for key in after if after[key] != before.get(key, 0)} == keys
    assert all(after[key] == before.get(key, 0) + 1 for key in keys)
    assert "clinic" in keys


def test_set_based_bump_of_no_visits_changes_nothing() -> None:
    clinic_with_moved_and_linked_visits()
    before = snapshot()

    versions.bump_for_visits([], now=NOW)
    versions.bump_for_visits([-1], now=NOW)

    assert snapshot() == before
