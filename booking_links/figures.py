"""How many bookings the patients made themselves: the follow-up report's
booking-link figures.

Registered with `followup.report_figures` in `BookingLinksConfig.ready`, so
the report (`/reports/`, its API and CSV) carries them over its own cohort
(the visits whose window ends in the report's dates).

- `bookings`: the cohort visits' bookings: each booking of a visit to book
  and each rebooking after a no-show (moves of a booked visit aside), as
  the history records them.
- `pct_booked_by_patient`: of those, the ones the patient made through
  their booking link (the history's author "patient (link)").

Cost: one grouped query (rule x surgeon) over the history's booking rows;
totals add up the rows' counts.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from followup.models.authorship import PATIENT_LINK
from followup.report_cohort import BOOKING_ACTIONS
from followup.report_figures import (
    FigureDefinition,
    FigureProvider,
    ProvidedFigures,
    ReportScope,
    RowKey,
    Value,
)
from followup.stats import Rate

FIGURES = (
    FigureDefinition(
        "bookings",
        "Bookings",
        "bookings of the visits (a visit to book booked, or rebooked after a "
        "missed visit; moves aside).",
        kind="count",
    ),
    FigureDefinition(
        "pct_booked_by_patient",
        "% booked by the patient",
        "of the bookings, those the patient made through their booking link.",
    ),
)


# A tuple: the stubs cannot see the cohort's annotation by name.
ROW = ("rule__code", "row_surgeon")


def _counted(scope: ReportScope) -> list[dict[str, Any]]:
    booking = Q(events__action__in=BOOKING_ACTIONS)
    by_link = booking & Q(events__actor_username=PATIENT_LINK.name)
    return list(
        scope.cohort.order_by()
        .values(*ROW)
        .annotate(
            bookings=Count("events", filter=booking),
            by_link=Count("events", filter=by_link),
        )
    )


def _figures(bookings: int, by_link: int) -> dict[str, Value]:
    return {
        "bookings": bookings,
        "pct_booked_by_patient": Rate(by_link, bookings),
    }


def measure(scope: ReportScope) -> ProvidedFigures:
    """The cohort's bookings, and the patients' share, per row and in total."""
    rows: dict[RowKey, dict[str, Value]] = {}
    bookings = by_link = 0
    for entry in _counted(scope):
        rows[(entry["rule__code"], entry["row_surgeon"])] = _figures(
            entry["bookings"], entry["by_link"]
        )
        bookings += entry["bookings"]
        by_link += entry["by_link"]
    return ProvidedFigures(totals=_figures(bookings, by_link), rows=rows)


PROVIDER = FigureProvider(
    key="booking_links",
    title="Booked by the patient",
    figures=FIGURES,
    measure=measure,
)
