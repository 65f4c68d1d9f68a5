"""What reaching the patient did: the follow-up report's messaging figures.

Registered with `followup.report_figures` in `MessagingConfig.ready`, so the
report (`/reports/`, its API and CSV) carries them after follow-up's own,
over the same cohort (the visits whose window ends in the report's dates).
A message counts as sent when it went out (`sent` or `delivered`): a failed
or cancelled one reached nobody.

- `booked_visits`: the cohort visits that hold a booking: booked, checked
  in, seen or missed (a no-show).
- `pct_confirmed`: of those, the ones whose patient confirmed the booking
  they hold (a reply C; a move clears it).
- `reminded_visits` / `unreminded_visits`: the visits seen or missed (checked
  in, completed or a no-show) at a slot a reminder was, or was not, sent
  for.
- `pct_no_show_with_reminder` / `pct_no_show_without_reminder`: the no-shows
  among each. An observed difference, not a trial: patients who agreed to
  reminders may differ from those who did not.
- `messaged_overdue`: the visits sent an overdue message.
- `pct_returned_within_15_days_of_first_message`: of those, the ones booked
  or completed within 15 days (15 x 24 h) of the first overdue message sent:
  the twin of follow-up's `pct_returned_within_15_days_of_first_call`.

Cost: one grouped query (rule x surgeon); totals add up the rows' counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
)

from followup.models import VisitEvent, VisitStatus
from followup.report_cohort import BOOKING_ACTIONS, RETURN_DAYS
from followup.report_figures import (
    FigureDefinition,
    FigureProvider,
    ProvidedFigures,
    ReportScope,
    RowKey,
    Value,
)
from followup.stats import Rate
from messaging.models import Direction, Kind, Message, Status

HOLDING = (
    VisitStatus.BOOKED,
    VisitStatus.CHECKED_IN,
    VisitStatus.COMPLETED,
    VisitStatus.NO_SHOW,
)
CAME_DUE = (VisitStatus.CHECKED_IN, VisitStatus.COMPLETED, VisitStatus.NO_SHOW)
WENT_OUT = (Status.SENT, Status.DELIVERED)

FIGURES = (
    FigureDefinition(
        "booked_visits",
        "Booked",
        "visits holding a booking: booked, checked in, seen or missed.",
        kind="count",
    ),
    FigureDefinition(
        "pct_confirmed",
        "% confirmed by the patient",
        "of the booked visits, those whose patient confirmed the time they "
        "hold (a reply C to the reminder).",
    ),
    FigureDefinition(
        "reminded_visits",
        "Seen or missed, reminded",
        "visits seen or missed at a time a reminder was sent for.",
        kind="count",
    ),
    FigureDefinition(
        "pct_no_show_with_reminder",
        "% missed, reminded",
        "of the visits seen or missed after a reminder, those missed.",
    ),
    FigureDefinition(
        "unreminded_visits",
        "Seen or missed, not reminded",
        "visits seen or missed at a time no reminder was sent for (among them "
        "the patients who did not agree to reminders).",
        kind="count",
    ),
    FigureDefinition(
        "pct_no_show_without_reminder",
        "% missed, not reminded",
        "of the visits seen or missed without a reminder, those missed.",
    ),
    FigureDefinition(
        "messaged_overdue",
        "Sent an overdue message",
        "visits still to book after their window closed (or after a missed "
        "visit) that were sent an overdue message.",
        kind="count",
    ),
    FigureDefinition(
        "pct_returned_within_15_days_of_first_message",
        "% back within 15 days of the first message",
        "of the visits sent an overdue message, those booked or seen within "
        "15 days of the first one.",
        beside="pct_returned_within_15_days_of_first_call",
    ),
)
# The counts of one row, in the grouped query.
_COUNTS = (
    "booked",
    "confirmed",
    "reminded",
    "reminded_missed",
    "unreminded",
    "unreminded_missed",
    "messaged",
    "messaged_returned",
)


def _counted(scope: ReportScope) -> list[dict[str, Any]]:
    sent = Message.objects.filter(
        visit_id=OuterRef("pk"), direction=Direction.OUT, status__in=WENT_OUT
    )
    first_overdue = (
        sent.filter(kind=Kind.OVERDUE).order_by("sent_at", "id").values("sent_at")[:1]
    )
    returns = VisitEvent.objects.filter(
        Q(action__in=BOOKING_ACTIONS) | Q(to_status=VisitStatus.COMPLETED),
        visit_id=OuterRef("pk"),
        at__gte=OuterRef("first_message_at"),
        at__lte=OuterRef("message_deadline"),
    )
    came_due, missed = Q(status__in=CAME_DUE), Q(status=VisitStatus.NO_SHOW)
    reminded, messaged = Q(was_reminded=True), Q(first_message_at__isnull=False)
    measured = (
        scope.cohort.alias(
            # A reminder of the very slot the visit was seen or missed at.
            was_reminded=Exists(
                sent.filter(kind=Kind.REMINDER, visit_start=OuterRef("start"))
            ),
            first_message_at=Subquery(first_overdue, output_field=DateTimeField()),
            message_deadline=ExpressionWrapper(
                F("first_message_at") + dt.timedelta(days=RETURN_DAYS),
                output_field=DateTimeField(),
            ),
            was_returned=Exists(returns),
        )
        .order_by()
        .values("rule__code", "row_surgeon")
        .annotate(
            booked=Count("pk", filter=Q(status__in=HOLDING)),
            confirmed=Count("pk", filter=Q(status__in=HOLDING, confirmed=True)),
            reminded=Count("pk", filter=came_due & reminded),
            reminded_missed=Count("pk", filter=missed & reminded),
            unreminded=Count("pk", filter=came_due & ~reminded),
            unreminded_missed=Count("pk", filter=missed & ~reminded),
            messaged=Count("pk", filter=messaged),
            messaged_returned=Count("pk", filter=messaged & Q(was_returned=True)),
        )
    )
    return list(measured)


def _figures(counts: dict[str, int]) -> dict[str, Value]:
    return {
        "booked_visits": counts["booked"],
        "pct_confirmed": Rate(counts["confirmed"], counts["booked"]),
        "reminded_visits": counts["reminded"],
        "pct_no_show_with_reminder": Rate(
            counts["reminded_missed"], counts["reminded"]
        ),
        "unreminded_visits": counts["unreminded"],
        "pct_no_show_without_reminder": Rate(
            counts["unreminded_missed"], counts["unreminded"]
        ),
        "messaged_overdue": counts["messaged"],
        "pct_returned_within_15_days_of_first_message": Rate(
            counts["messaged_returned"], counts["messaged"]
        ),
    }


def measure(scope: ReportScope) -> ProvidedFigures:
    """The messaging figures of the report's cohort, per row and in total."""
    totals = dict.fromkeys(_COUNTS, 0)
    rows: dict[RowKey, dict[str, Value]] = {}
    for entry in _counted(scope):
        counts = {name: int(entry[name]) for name in _COUNTS}
        rows[(entry["rule__code"], entry["row_surgeon"])] = _figures(counts)
        for name in _COUNTS:
            totals[name] += counts[name]
    return ProvidedFigures(totals=_figures(totals), rows=rows)


PROVIDER = FigureProvider(
    key="messaging",
    title="Reaching the patient",
    figures=FIGURES,
    measure=measure,
)
