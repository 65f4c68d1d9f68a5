"""`/desk/appointments/`: the bookings still to be seen, by day and surgeon,
searchable by the patient's name or record number, each row with the moves
it allows (reschedule, unbook, cancel; check in and no-show on the day).

One view renders the page; with htmx it renders the list alone, a named
partial of `web/appointments/page.html`. The rows' actions are the visit
rows' (`web.visit_actions`), this page being their `APPOINTMENTS` place:
each comes back to the same day, surgeon and search.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.request import QueryDict
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from clinic import audit, clock
from clinic.clock import local
from clinic.models import PatientReadKind, Surgeon
from followup.models import VisitQuerySet, worklist
from web.appointments import rows
from web.appointments.state import PLACE, AppointmentsState
from web.list_csv import CSV_LIMIT, csv_download
from web.paging import read_page
from web.query_text import left_out, offered_only
from web.roles import DESK_ROLES, role_required
from web.visit_actions import (
    Place,
    list_page,
    opened_item,
    row_choices,
    visible_visits,
)
from web.visit_rows import Item
from web.visit_rows import rows as visit_rows

PAGE = "web/appointments/page.html"


def _matching(state: AppointmentsState) -> list[int]:
    """The patients the search finds (`worklist.matching_patients`): the
    first `SEARCH_IDS_CAP` by name, and one more when there are more."""
    return worklist.matching_patients(state.q) if state.q else []


def _chosen(
    request: HttpRequest, state: AppointmentsState, matching: list[int]
) -> VisitQuerySet:
    visits = visible_visits(request)
    if state.q:
        visits = visits.of_patients(matching)
    if state.surgeon is not None:
        visits = visits.filter(surgeon_id=state.surgeon)
    return visits.appointments(state.day, onwards=bool(state.q))


def _list_context(
    request: HttpRequest, state: AppointmentsState, *, now: dt.datetime
) -> dict[str, Any]:
    matching = _matching(state)
    chosen = _chosen(request, state, matching)
    page, found = read_page(chosen, state.page, rows.PAGE_SIZE)
    state = replace(state, page=page)
    pager = rows.Pager(
        state.page, min(len(found), rows.PAGE_SIZE), len(found) > rows.PAGE_SIZE
    )
    found = found[: rows.PAGE_SIZE]
    if state.q:
        audit.record_patient_read(
            reader=request.user,  # type: ignore[arg-type]
            kind=PatientReadKind.DESK_SEARCH,
            query=state.here,
            patient_ids=[visit.patient_id for visit in found],
            count=len(found),
            now=now,
        )
    heading = rows.heading(state)
    return {
        "state": state,
        "heading": heading,
        "pager": pager,
        "previous_url": state.page > 1 and state.url(page=state.page - 1),
        "next_url": pager.more and state.url(page=state.page + 1),
        "items": [Item(row=row) for row in visit_rows(found, now=now)],
        "list_said": f"{heading}: {pager.shown} visit{pluralize(pager.shown)}.",
        "csv_said": f"at most the first {CSV_LIMIT:,} bookings",
        # Only the first patients by name are searched for bookings: a
        # booked patient past them is missing from the list, which says so.
        "more_patients": len(matching) > worklist.SEARCH_IDS_CAP,
        "search_cap": worklist.SEARCH_IDS_CAP,
    }


def _choices(state: AppointmentsState) -> dict[str, Any]:
    return row_choices(rows.columns(state))


def _state(query: QueryDict) -> AppointmentsState:
    """The list's state, its surgeon among those its select offers."""
    return offered_only(
        AppointmentsState.from_query(query, today=local(clock.now()).date()),
        surgeon=Surgeon.objects.active().values_list("pk", flat=True),
    )


def _page(
    request: HttpRequest,
    state: AppointmentsState,
    *,
    now: dt.datetime,
    extra: Item | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _list_context(request, state, now=now) | _choices(state)
    context |= {"title": "Appointments", "ignored": left_out(state.ignored)}
    return list_page(request, PAGE, context, extra=extra, status=status)


@role_required(*DESK_ROLES)
def appointments(request: HttpRequest) -> HttpResponse:
    state = _state(request.GET)
    now = clock.now()
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and htmx.target == "appointments" and not htmx.history_restore_request:
        context = {**_list_context(request, state, now=now), **_choices(state)}
        response = render(request, f"{PAGE}#appointments", {**context, "partial": True})
        return push_url(response, context["state"].here)
    item = opened_item(request, request.GET, now=now)
    return _page(request, state, now=now, extra=item)


@require_GET
@role_required(*DESK_ROLES)
def appointments_csv(request: HttpRequest) -> HttpResponse:
    """These bookings (every page) as CSV, by `web.list_csv`."""
    state = _state(request.GET)
    return csv_download(
        request,
        _chosen(request, state, _matching(state)).with_last_contact(),
        name="appointments",
        query=state.csv_url,
        now=clock.now(),
    )


def _row(
    request: HttpRequest, state: AppointmentsState, item: Item, *, now: dt.datetime
) -> HttpResponse:
    context = {"state": state, "item": item, **_choices(state)}
    return render(request, f"{PAGE}#row", context)


# The appointments as the place of their rows.
APPOINTMENTS = Place(key=PLACE, state=_state, row=_row, page=_page)
