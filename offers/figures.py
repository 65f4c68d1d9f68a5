"""What became of the slots patients gave back: the follow-up report's
freed-slot figures.

Registered with `followup.report_figures` in `OffersConfig.ready`, so the
report (`/reports/`, its API and CSV) carries them over its own cohort (the
visits whose window ends in the report's dates). A freed slot belongs to
the row of the visit that gave it back.

- `freed_slots`: the booked times the cohort's visits gave back ahead of
  time (a cancel, an unbook, a move away, a reply X, the link's "I can't
  come"), offered or not (given back less than `OFFER_MIN_LEAD_HOURS`
  ahead, a slot is recorded but not offered).
- `refilled_slots`: of those, the ones booked again before they began, by
  anyone: a patient claiming an offer, another through their link, a clerk.
- `median_hours_to_refill`: hours from a slot's freeing to its refilling,
  the median over the refilled ones, one decimal.

Cost: two queries: the counts grouped by row, and the refilled slots' times
(the medians are taken in Python: portable, and exact).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from followup.report_figures import (
    FigureDefinition,
    FigureProvider,
    ProvidedFigures,
    ReportScope,
    RowKey,
    Value,
)
from offers.models import FreedSlot

# A tuple: the stubs cannot see the cohort's annotation by name.
ROW = ("rule__code", "row_surgeon")
FIGURES = (
    FigureDefinition(
        "freed_slots",
        "Times given back",
        "booked times the visits gave back ahead of time (cancelled, unbooked, "
        "moved away, a reply X, \u201cI can't come\u201d).",
        kind="count",
    ),
    FigureDefinition(
        "refilled_slots",
        "Booked again",
        "of those, the times booked again before they began, by anyone.",
        kind="count",
    ),
    FigureDefinition(
        "median_hours_to_refill",
        "Median hours to rebook",
        "from a time given back to its booking again, the median in hours.",
        kind="number",
    ),
)


def _figures(freed: int, hours: list[float]) -> dict[str, Value]:
    median = round(statistics.median(hours), 1) if hours else None
    return {
        "freed_slots": freed,
        "refilled_slots": len(hours),
        "median_hours_to_refill": median,
    }


def _freed_by_row(scope: ReportScope) -> dict[RowKey, int]:
    """How many slots each row's visits gave back: 0 for a row with none."""
    given_back = (
        FreedSlot.objects.filter(visit=OuterRef("pk"))
        .order_by()
        .values("visit")
        .annotate(count=Count("pk"))
        .values("count")
    )
    counted = (
        scope.cohort.order_by()
        .alias(given_back=Coalesce(Subquery(given_back), 0))
        .values(*ROW)
        .annotate(freed=Sum("given_back"))
    )
    return {(e["rule__code"], e["row_surgeon"]): int(e["freed"]) for e in counted}


def _refill_hours(scope: ReportScope) -> dict[RowKey, list[float]]:
    """Each row's refilled slots' hours from freeing to refilling."""
    refilled = (
        FreedSlot.objects.filter(
            visit__in=scope.cohort.values("pk"), refilled_at__isnull=False
        )
        .annotate(
            row_surgeon=Coalesce(F("visit__surgeon"), F("visit__procedure__surgeon"))
        )
        .values_list("visit__rule__code", "row_surgeon", "freed_at", "refilled_at")
    )
    hours: dict[RowKey, list[float]] = defaultdict(list)
    for code, surgeon, freed_at, refilled_at in refilled:
        if refilled_at is not None:  # filtered on it: for the type checker
            took = refilled_at - freed_at
            hours[(code, surgeon)].append(took / dt.timedelta(hours=1))
    return hours


def measure(scope: ReportScope) -> ProvidedFigures:
    """The cohort's freed slots, refilled and how fast, per row and in total."""
    freed = _freed_by_row(scope)
    hours = _refill_hours(scope)
    rows = {key: _figures(count, hours.get(key, [])) for key, count in freed.items()}
    every = [hour for row in hours.values() for hour in row]
    return ProvidedFigures(totals=_figures(sum(freed.values()), every), rows=rows)


PROVIDER = FigureProvider(
    key="offers",
    title="Freed slots",
    figures=FIGURES,
    measure=measure,
)
