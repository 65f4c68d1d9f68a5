"""`/desk/`: the front desk's worklist.

One view renders the page; with htmx it renders only the part asked for (the
list), a named partial of `web/desk/page.html`. The rows' actions are the
visit rows' (`web.visit_actions`), this page being their `DESK` place: each
redirects back to the same list (filters, page and the row's anchor kept in
the URL); with htmx it answers with the row itself, the row partial adding
the tabs' new counts and "Saved" out of band.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import QueryDict
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect, push_url

from clinic import audit, clock
from clinic.clock import local
from clinic.models import Patient, PatientReadKind, Surgeon
from followup import services
from followup.access import access_visit, staff_of
from followup.exceptions import Conflict, InvalidInput
from followup.models import (
    FollowUpRule,
    Visit,
    VisitQuerySet,
    worklist,
)
from followup.models.worklist import Bucket
from messaging.models import Message
from web import visit_rows
from web.desk import rows
from web.desk.rows import Tab
from web.desk.state import DeskState
from web.forms import sequence_seen
from web.list_csv import csv_said
from web.methods import post_or_show
from web.offer_marks import with_offer_mark
from web.query_text import left_out, offered_only
from web.refusals import say_of
from web.roles import DESK_ROLES, role_required
from web.visit_actions import (
    Place,
    list_page,
    opened_item,
    row_choices,
    visible_visits,
)
from web.visit_rows import ColumnHeader, Item

PAGE = "web/desk/page.html"
# The banner names this many MRI-flagged reviews, then says there are more.
MRI_BANNER_SIZE = 5


def _columns(state: DeskState) -> list[ColumnHeader]:
    """The list's columns, as its headers: a row's panel spans them all."""
    if state.is_today:
        # In time order, the one order of the day's list.
        first = [ColumnHeader("Time", "", "ascending"), ColumnHeader("Patient")]
    else:
        first = [state.sort_header("patient", "Patient")]
    middle = [ColumnHeader("Visit"), ColumnHeader("Surgeon")]
    if not state.is_today:
        middle += [
            state.sort_header("window", "Window"),
            ColumnHeader("Days left"),
        ]
    middle.append(ColumnHeader("Last contact"))
    return [
        *first,
        *middle,
        ColumnHeader("Status"),
        ColumnHeader("Actions"),
    ]


def _tabs(state: DeskState, counts: dict[str, int]) -> list[Tab]:
    return rows.tabs(state, counts, replies=Message.objects.needing_person_open())


def _visits(request: HttpRequest) -> VisitQuerySet:
    return visible_visits(request)


def tab_rows(visits: VisitQuerySet, state: DeskState, today: dt.date) -> Any:
    """The tab's rows, each with its last contact (the call list's summary
    holds it)."""
    if state.is_today:
        return visits.booked_on(today).with_last_contact()
    if state.is_call:
        return visits.call_list(today).with_row_relations()
    chosen = visits.in_bucket(Bucket(state.tab), today=today, sort=state.sort)
    return chosen.with_last_contact()


def _heading(state: DeskState, tabs: list[Tab]) -> str:
    if state.tab == Bucket.ALL:
        return "All visits to book"
    if state.is_call:
        return "Patients to call"
    return next(tab.label for tab in tabs if tab.current)


def _counted(
    request: HttpRequest, state: DeskState, today: dt.date, *, patients: list[int]
) -> tuple[dict[str, int], VisitQuerySet, list[int] | None]:
    """Every tab's count, the visits the shown tab's rows are read from, and
    for a search (`patients`: those it found) the ids of that tab's visits in
    its order: a search counts its few visits together (`counted_together`)
    and reads a page of them by id."""
    visits = state.filters.apply(_visits(request), patients=patients)
    if not state.q:
        return visits.tab_counts(today), visits, None
    order = worklist.tab_order(state.tab, state.sort)
    searched = visits.counted_together(today, shown=state.tab, order=order)
    return searched.counts, _visits(request), searched.shown_ids


def _page_rows(
    visits: VisitQuerySet,
    state: DeskState,
    today: dt.date,
    page: rows.Page,
    shown: list[int] | None,
    *,
    now: dt.datetime,
) -> list[Visit]:
    # The MRI flag and the offer mark are read in the rows' own select.
    chosen = tab_rows(visits, state, today).with_mri_status().with_patient_left_care()
    chosen = with_offer_mark(chosen, now=now)
    if shown is None:
        return list(chosen[page.offset : page.offset + page.size])
    return list(chosen.filter(pk__in=shown[page.offset : page.offset + page.size]))


def _list_context(
    request: HttpRequest, state: DeskState, *, now: dt.datetime
) -> dict[str, Any]:
    today = local(now).date()
    # The search runs once, for the counts, the rows and the patients.
    matching = worklist.matching_patients(state.q) if state.q else []
    counts, visits, shown = _counted(request, state, today, patients=matching)
    page = rows.page_of(state.page, counts[state.tab])
    if shown is not None:
        page = rows.exact_page_of(state.page, len(shown))
    elif rows.needs_exact_count(state.page, counts[state.tab]):
        exact = visits.in_tab(state.tab, today).count()
        page = rows.exact_page_of(state.page, exact)
    found = _page_rows(visits, state, today, page, shown, now=now)
    patients = rows.patients_found(staff_of(request.user), matching)
    if state.q:
        _record_search(request, state, found, patients, now=now)
    flagged = _visits(request).mri_flagged(today)
    flagged = flagged.select_related("patient", "rule", "surgeon")
    tabs = _tabs(state, counts)
    heading = _heading(state, tabs)
    return {
        "mri_flagged": list(flagged[: MRI_BANNER_SIZE + 1]),
        "mri_banner_size": MRI_BANNER_SIZE,
        "state": state,
        "tabs": tabs,
        "heading": heading,
        "page_info": page,
        "previous_url": page.previous and state.url(page=page.previous),
        "next_url": page.next and state.url(page=page.next),
        "items": [Item(row=row) for row in visit_rows.rows(found, now=now)],
        "patients": patients[: rows.PATIENTS_SHOWN],
        "more_patients": len(patients) > rows.PATIENTS_SHOWN,
        "search_cap": worklist.SEARCH_IDS_CAP,
        "list_said": f"{heading}: {page.count_text} visit{pluralize(page.count)}.",
        "printed_at": local(now),
        "csv_said": csv_said(page.count),
    }


def _record_search(
    request: HttpRequest,
    state: DeskState,
    found: list[Visit],
    patients: list[Patient],
    *,
    now: dt.datetime,
) -> None:
    """A search's page of rows and the patients it listed by name, for the
    audit trail: who looked for whom.

    The query is the list's own URL: after an action it is the list shown
    again, not the action's path.
    """
    shown = patients[: rows.PATIENTS_SHOWN]
    ids = [visit.patient_id for visit in found] + [p.pk for p in shown]
    audit.record_patient_read(
        reader=request.user,  # type: ignore[arg-type]
        kind=PatientReadKind.DESK_SEARCH,
        query=state.here,
        patient_ids=list(dict.fromkeys(ids)),
        count=len(found) + len(shown),
        now=now,
    )


def list_state(query: QueryDict) -> DeskState:
    """The list's state, its surgeon and rule among those its selects offer."""
    return offered_only(
        DeskState.from_query(query),
        surgeon=Surgeon.objects.active().values_list("pk", flat=True),
        rule=FollowUpRule.objects.filter(active=True).values_list("pk", flat=True),
    )


def _choices(state: DeskState) -> dict[str, Any]:
    rules = list(FollowUpRule.objects.filter(active=True))
    return {**row_choices(_columns(state)), "rules": rules}


def _waiting(request: HttpRequest, *, now: dt.datetime) -> list[visit_rows.Row]:
    """*Waiting to be completed*: checked in on any day, the longest waiting first."""
    waiting = _visits(request).waiting_to_complete().with_row_relations()
    waiting = waiting.with_patient_left_care()
    return visit_rows.rows(list(waiting[: rows.PAGE_SIZE]), now=now)


def _page(
    request: HttpRequest,
    state: DeskState,
    *,
    now: dt.datetime,
    extra: Item | None = None,
    status: int = 200,
    stray: str = "",
) -> HttpResponse:
    context = _list_context(request, state, now=now) | _choices(state)
    context["waiting"] = _waiting(request, now=now)
    ignored = left_out(state.ignored)
    context |= {"title": "Worklist", "ignored": ignored, "stray_error": stray}
    return list_page(request, PAGE, context, extra=extra, status=status)


@role_required(*DESK_ROLES)
def desk(request: HttpRequest) -> HttpResponse:
    state = list_state(request.GET)
    now = clock.now()
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and htmx.target == "worklist" and not htmx.history_restore_request:
        context = _list_context(request, state, now=now)
        response = render(
            request,
            f"{PAGE}#worklist",
            {**context, **_choices(state), "partial": True},
        )
        # The address bar shows the list's own URL, without a form's empty fields.
        return push_url(response, state.here)
    item = opened_item(request, request.GET, now=now)
    return _page(request, state, now=now, extra=item)


def _row(
    request: HttpRequest, state: DeskState, item: Item, *, now: dt.datetime
) -> HttpResponse:
    """The row; after an action, saved or refused, with the tabs' new counts
    (out of band): a refusal may be another clerk's change to the visit.
    After a saved one, *Waiting to be completed* too: a check-in joins it."""
    context: dict[str, Any] = {"state": state, "item": item, **_choices(state)}
    if item.saved or item.form is not None:
        today = local(now).date()
        matching = worklist.matching_patients(state.q) if state.q else []
        counts, _, _ = _counted(request, state, today, patients=matching)
        context["tabs"] = _tabs(state, counts)
    if item.saved:
        context["waiting"] = _waiting(request, now=now)
    return render(request, f"{PAGE}#row", context)


# The worklist as the place of its rows.
DESK = Place(key="desk", state=list_state, row=_row, page=_page)


@role_required(*DESK_ROLES)
@post_or_show(lambda request, pk: f"{reverse('desk')}#waiting")
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Complete a visit of *Waiting to be completed*; back to that list."""
    state = list_state(QueryDict(request.POST.get("back", "")))
    now = clock.now()
    visit = access_visit(request.user, pk, action="complete")
    try:
        # The visit as the row showed it: unreadable is refused, not ignored.
        sequence = sequence_seen(request.POST.get("sequence", ""))
    except ValidationError as error:
        return _page(request, state, now=now, status=400, stray=error.messages[0])
    try:
        services.complete_visit(
            visit_id=visit.pk,
            actor=request.user,  # type: ignore[arg-type]
            now=now,
            sequence=sequence,
        )
    except (InvalidInput, Conflict) as error:  # NotFound, Forbidden: web.errors
        # Said above the lists, which the visit may have left: whose it is.
        stray = say_of(visit_rows.rows([visit], now=now)[0].patient_label, error)
        return _page(request, state, now=now, status=error.status, stray=stray)
    label = visit_rows.rows([visit], now=now)[0].patient_label
    messages.success(request, f"Saved. {label}: Completed.")
    back = f"{state.here}#waiting"
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(back)
    return HttpResponseRedirect(back)
