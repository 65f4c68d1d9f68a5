"""`/desk/list.csv`: the worklist's tab as a spreadsheet, with the list's
filters (the page's own URL state, without its page).

At most `rows.CSV_LIMIT` rows, the tab's own order: the cap the tabs' counts use,
so the link's "first 1,000" and a tab's "1,000+" say the same. Written by
`core.csv_safety` (names are data a spreadsheet must never run) and recorded
in the patient-read audit, as a bulk read of the patients it holds.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from clinic import audit, clock
from clinic.clock import local
from clinic.models import PatientReadKind
from core import csv_safety
from followup.access import staff_of
from followup.models import ContactOutcome, Visit
from web import visit_rows
from web.desk import rows
from web.desk.state import DeskState
from web.desk.views import tab_rows
from web.roles import DESK_ROLES, role_required

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


def _when(moment: dt.datetime | None) -> str:
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _line(row: visit_rows.Row) -> list[object]:
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


@require_GET
@role_required(*DESK_ROLES)
def desk_csv(request: HttpRequest) -> HttpResponse:
    state = DeskState.from_query(request.GET)
    now = clock.now()
    today = local(now).date()
    visits = state.filters.apply(Visit.objects.visible_to(staff_of(request.user)))
    found = list(tab_rows(visits, state, today)[: rows.CSV_LIMIT])
    audit.record_patient_read(
        reader=request.user,  # type: ignore[arg-type]
        kind=PatientReadKind.DESK_CSV,
        query=state.csv_url,
        patient_ids=[visit.patient_id for visit in found],
        count=len(found),
        now=now,
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"worklist-{state.tab}-{today.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv_safety.writer(response)
    writer.writerow(HEADER)
    writer.writerows(_line(row) for row in visit_rows.rows(found, now=now))
    return response
