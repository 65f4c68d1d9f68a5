"""A list of visits as a CSV download, for any page that lists them (the
worklist's tabs, the appointments).

At most `CSV_LIMIT` rows, the list's own order: the cap the worklist's tab
counts use, so its link's "the first 1,000 visits" and a tab's "1,000+" say
the same. Written by `core.csv_safety` (names are data a spreadsheet must
never run) and recorded in the patient-read audit as a desk CSV, a bulk read
of the patients it holds.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse

from clinic import audit
from clinic.clock import local
from clinic.models import PatientReadKind
from core import csv_safety
from followup.models import ContactOutcome, Visit, VisitQuerySet, worklist
from web.visit_rows import Row, rows

CSV_LIMIT = worklist.COUNT_CAP
HEADER = [
    "Record number",
    "Family name",
    "Given name",
    "Visit",
    "Surgeon",
    "Due",
    "Window opens",
    "Window closes",
    "Status",
    "Booked for",
    "Last contact",
    "Last contact at",
    "Attempts",
]


def csv_said(count: int) -> str:
    """What a list's CSV holds, as its link says it."""
    if count > CSV_LIMIT:
        return f"the first {CSV_LIMIT:,} visits"
    return f"{count} visit{'' if count == 1 else 's'}"


def _when(moment: dt.datetime | None) -> str:
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _line(row: Row) -> list[object]:
    visit = row.visit
    patient = visit.patient
    outcome = getattr(visit, "last_attempt_outcome", None)
    return [
        patient.record_number,
        patient.family_name,
        patient.given_name,
        row.kind,
        str(row.surgeon),
        visit.due_date.isoformat(),
        visit.window_start.isoformat(),
        visit.window_end.isoformat(),
        visit.get_status_display(),
        _when(visit.start),
        ContactOutcome(outcome).label if outcome else "",
        _when(getattr(visit, "last_attempt_at", None)),
        getattr(visit, "attempt_count", 0),
    ]


def csv_download(
    request: HttpRequest,
    visits: VisitQuerySet,
    *,
    name: str,
    query: str,
    now: dt.datetime,
) -> HttpResponse:
    """The first `CSV_LIMIT` of `visits` (ordered, with their last contact)
    as `name`.csv, recorded as read by the user under `query`."""
    found: list[Visit] = list(visits[:CSV_LIMIT])
    audit.record_patient_read(
        reader=request.user,  # type: ignore[arg-type]
        kind=PatientReadKind.DESK_CSV,
        query=query,
        patient_ids=[visit.patient_id for visit in found],
        count=len(found),
        now=now,
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{name}-{local(now).date().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv_safety.writer(response)
    writer.writerow(HEADER)
    writer.writerows(_line(row) for row in rows(found, now=now))
    return response
