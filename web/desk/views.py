"""`/desk/`: the front desk's worklist, and the actions on its rows.

One view renders the page; with htmx it renders only the part asked for (the
list, or one row), a named partial of `web/desk/page.html`. Every action is a
plain POST form that redirects back to the same list (filters, page and the
row's anchor kept in the URL); with htmx it answers with the row itself, the
row partial adding the tabs' new counts and "Saved" out of band. A refusal
changes nothing: the form's message is shown beside the row, with what the
person typed still in place.

A visit that does not exist, or is not the user's to see, is the service's
`NotFound`, which `web.errors` answers for every page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import QueryDict
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url

from clinic import audit, clock
from clinic.clock import local
from clinic.models import Patient, PatientReadKind, Surgeon
from followup import services
from followup.access import Forbidden, access_visit, staff_of
from followup.exceptions import Conflict, DomainError, InvalidInput, NotFound
from followup.models import (
    ContactChannel,
    ContactOutcome,
    FollowUpRule,
    Visit,
    VisitQuerySet,
)
from followup.models.worklist import Bucket
from web.desk import rows
from web.desk.forms import FORMS, QUICK_OUTCOMES, RowForm
from web.desk.rows import Item, Tab
from web.desk.slots import SlotAsk, slot_panel
from web.desk.state import ColumnHeader, DeskState, whole_number
from web.refusals import say
from web.roles import DESK_ROLES, role_required

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
    return [
        Tab(key, label, counts[key], state.tab_url(key), state.tab == key)
        for key, label in rows.tab_labels().items()
    ]


def _visits(request: HttpRequest) -> VisitQuerySet:
    return Visit.objects.visible_to(staff_of(request.user))


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


def _list_context(
    request: HttpRequest, state: DeskState, *, now: dt.datetime
) -> dict[str, Any]:
    today = local(now).date()
    visits = state.filters.apply(_visits(request))
    counts = visits.tab_counts(today)
    page = rows.page_of(state.page, counts[state.tab])
    if rows.needs_exact_count(state.page, counts[state.tab]):
        exact = visits.in_tab(state.tab, today).count()
        page = rows.exact_page_of(state.page, exact)
    # The MRI flag is read in the rows' own select.
    chosen = tab_rows(visits, state, today).with_mri_status().with_patient_left_care()
    found = list(chosen[page.offset : page.offset + page.size])
    patients = rows.patients_found(staff_of(request.user), state.q) if state.q else []
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
        "items": [Item(row=row) for row in rows.rows(found, now=now)],
        "patients": patients[: rows.PATIENTS_SHOWN],
        "more_patients": len(patients) > rows.PATIENTS_SHOWN,
        "list_said": f"{heading}: {page.count_text} visit{pluralize(page.count)}.",
        "printed_at": local(now),
        "csv_said": rows.csv_said(page.count),
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
        reader=_actor(request),
        kind=PatientReadKind.DESK_SEARCH,
        query=state.here,
        patient_ids=list(dict.fromkeys(ids)),
        count=len(found) + len(shown),
        now=now,
    )


def _choices(state: DeskState) -> dict[str, Any]:
    return {
        "surgeons": list(Surgeon.objects.active()),
        "rules": list(FollowUpRule.objects.filter(active=True)),
        "channels": ContactChannel.choices,
        "outcomes": ContactOutcome.choices,
        "quick_outcomes": [(choice.value, choice.label) for choice in QUICK_OUTCOMES],
        "columns": _columns(state),
    }


def _page(
    request: HttpRequest,
    state: DeskState,
    *,
    now: dt.datetime,
    extra: Item | None = None,
    status: int = 200,
    stray: str = "",
) -> HttpResponse:
    context = _list_context(request, state, now=now)
    waiting = _visits(request).waiting_to_complete().with_row_relations()
    waiting = waiting.with_patient_left_care()
    context["waiting"] = rows.rows(list(waiting[: rows.PAGE_SIZE]), now=now)
    if extra is not None:
        items = context["items"]
        at = next((i for i, item in enumerate(items) if item.pk == extra.pk), None)
        if at is None:
            stray = extra.error
        else:
            items[at] = replace(extra, row=items[at].row)
    return render(
        request,
        PAGE,
        {
            **context,
            **_choices(state),
            "title": "Worklist",
            "stray_error": stray,
            "ignored": state.ignored,
        },
        status=status,
    )


def _slots(item: Item, *, now: dt.datetime) -> Item:
    """Propose slots for the row, as its picker asks (`web.desk.slots`)."""
    item.panel = "slots"
    item.slots = slot_panel(item.row.visit, item.slot_ask, now=now)
    return item


@role_required(*DESK_ROLES)
def desk(request: HttpRequest) -> HttpResponse:
    state = DeskState.from_query(request.GET)
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
    opened = whole_number(request.GET.get("open"))
    item = None if opened is None else _item(request, opened, now=now)
    if item is not None:
        _open(item, request.GET, now=now)
    return _page(request, state, now=now, extra=item)


def _open(item: Item, query: QueryDict, *, now: dt.datetime) -> Item:
    panel = query.get("panel", "")
    if panel == "slots":
        item.slot_ask = SlotAsk.read(query)
        return _slots(item, now=now)
    if panel in ("change", "contact"):
        item.panel = panel
    return item


def _item(request: HttpRequest, pk: int, *, now: dt.datetime) -> Item | None:
    visit = (
        _visits(request)
        .with_row_relations()
        .with_contact_summary()
        .with_mri_status()
        .with_patient_left_care()
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        return None
    return Item(row=rows.rows([visit], now=now)[0])


def _shown_item(request: HttpRequest, pk: int, *, now: dt.datetime) -> Item:
    item = _item(request, pk, now=now)
    if item is None:
        raise NotFound(f"Visit {pk} does not exist, or is not yours to see.")
    return item


def _row_response(
    request: HttpRequest, state: DeskState, item: Item, *, now: dt.datetime
) -> HttpResponse:
    """The row; after a save, with the tabs' new counts (out of band)."""
    context: dict[str, Any] = {"state": state, "item": item, **_choices(state)}
    if item.saved:
        today = local(now).date()
        visits = state.filters.apply(_visits(request))
        context["tabs"] = _tabs(state, visits.tab_counts(today))
    return render(request, f"{PAGE}#row", context)


@require_GET
@role_required(*DESK_ROLES)
def visit_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One row, with a panel open (`?panel=slots` or `change`) or none.

    Without htmx, the same row on the whole page, by its anchor.
    """
    state = DeskState.from_query(request.GET)
    if not request.htmx:  # type: ignore[attr-defined]
        panel = {"open": pk, "panel": request.GET.get("panel", "")}
        opened = urlencode({**panel, **SlotAsk.kept(request.GET)})
        join = "&" if "?" in state.here else "?"
        return HttpResponseRedirect(f"{state.here}{join}{opened}#visit-{pk}")
    now = clock.now()
    item = _shown_item(request, pk, now=now)
    return _row_response(request, state, _open(item, request.GET, now=now), now=now)


# --- actions ------------------------------------------------------------------


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _saved(form: RowForm, visit: Visit, actor: User, now: dt.datetime) -> str:
    """What the action did, in words; "" when refused (the form says why)."""
    if not form.is_valid():
        return ""
    try:
        return form.save(visit=visit, actor=actor, now=now)
    except (NotFound, Forbidden):
        raise
    except DomainError as error:
        form.refuse(error)
        return ""


def _act(request: HttpRequest, pk: int, form_class: type[RowForm]) -> HttpResponse:
    state = DeskState.from_query(QueryDict(request.POST.get("back", "")))
    now = clock.now()
    visit = access_visit(request.user, pk, action=form_class.action)
    form = form_class(request.POST)
    said = _saved(form, visit, _actor(request), now)
    item = _shown_item(request, pk, now=now)
    if not said:
        return _refused(request, state, item, form, now=now)
    if request.htmx:  # type: ignore[attr-defined]
        item.saved = said
        return _row_response(request, state, item, now=now)
    messages.success(request, f"Saved. {item.row.patient_label}: {said}")
    return HttpResponseRedirect(f"{state.here}#visit-{pk}")


def _refused(
    request: HttpRequest,
    state: DeskState,
    item: Item,
    form: RowForm,
    *,
    now: dt.datetime,
) -> HttpResponse:
    """The row again, its panel open with what was typed, and why not."""
    item.form = form
    item.slot_ask = SlotAsk.read(form.data)
    if form.panel == "slots":
        _slots(item, now=now)
    item.panel = form.panel
    if request.htmx:  # type: ignore[attr-defined]
        return _row_response(request, state, item, now=now)
    return _page(request, state, now=now, extra=item, status=form.status)


def _command(action: str) -> Callable[[HttpRequest, int], HttpResponse]:
    @require_POST
    @role_required(*DESK_ROLES)
    def command(request: HttpRequest, pk: int) -> HttpResponse:
        return _act(request, pk, FORMS[action])

    command.__name__ = command.__qualname__ = action
    return command


book = _command("book")
reschedule = _command("reschedule")
unbook = _command("unbook")
cancel = _command("cancel")
check_in = _command("check_in")
no_show = _command("no_show")
contact = _command("contact")


@require_POST
@role_required(*DESK_ROLES)
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Complete a visit of *Waiting to be completed*; back to that list."""
    state = DeskState.from_query(QueryDict(request.POST.get("back", "")))
    now = clock.now()
    visit = access_visit(request.user, pk, action="complete")
    try:
        services.complete_visit(visit_id=visit.pk, actor=_actor(request), now=now)
    except (InvalidInput, Conflict) as error:  # NotFound, Forbidden: web.errors
        return _page(request, state, now=now, status=error.status, stray=say(error))
    label = rows.rows([visit], now=now)[0].patient_label
    messages.success(request, f"Saved. {label}: Completed.")
    back = f"{state.here}#waiting"
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(back)
    return HttpResponseRedirect(back)
