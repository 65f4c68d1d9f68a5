"""`/desk/`: the front desk's worklist, and the actions on its rows.

One view renders the page; with htmx it renders only the part asked for (the
list, or one row). Every action is a plain POST form that redirects back to
the same list (filters, page and the row's anchor kept in the URL); with htmx
it answers with the row itself, the tabs' new counts and "Saved" for the live
region. A refusal changes nothing: the service's message is shown beside the
row, with what the person typed still in place.

The clock is `clinic.clock.now()`, the API's, so tests pin it in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import QueryDict
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url, reswap

from clinic import audit, clock
from clinic.clock import local
from clinic.models import PatientReadKind, Surgeon
from followup import services
from followup.access import Forbidden, access_visit, staff_of
from followup.exceptions import DomainError, InvalidInput, NotFound
from followup.models import ContactChannel, ContactOutcome, FollowUpRule, Visit
from web import desk_queries as queries
from web.desk_queries import BUCKET_LABELS, CALL, CALL_LABEL, TODAY, Bucket, Row
from web.desk_state import DeskState, whole_number
from web.roles import DESK_ROLES, role_required

SLOT_LIMIT = 12
# The banner names this many MRI-flagged reviews, then says there are more.
MRI_BANNER_SIZE = 5


@dataclass
class Item:
    """A row as shown: the visit, and any open panel, refusal or confirmation."""

    row: Row
    panel: str = ""  # "slots", "change" or "contact"
    slots: services.SlotSearch | None = None
    slots_error: str = ""
    slots_surgeon: int | None = None
    error: str = ""
    typed: dict[str, str] = field(default_factory=dict)
    saved: str = ""

    @property
    def pk(self) -> int:
        return self.row.visit.pk

    @property
    def chosen_surgeon(self) -> int:
        """Whose slots are proposed: the one asked for, else the row's."""
        return self.slots_surgeon or self.row.surgeon.pk


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    count: int
    url: str
    current: bool

    @property
    def count_text(self) -> str:
        return queries.count_text(self.count)


def _tabs(state: DeskState, counts: dict[str, int]) -> list[Tab]:
    # Today first: a list of its own, set apart from the buckets to book; the
    # call list last, the patients to phone rather than to book.
    keys: list[str] = [TODAY, *Bucket.__members__.values(), CALL]
    labels: dict[str, str] = {str(key): label for key, label in BUCKET_LABELS.items()}
    labels[TODAY] = "Today"
    labels[CALL] = CALL_LABEL
    return [
        Tab(key, labels[key], counts[key], state.tab_url(key), state.tab == key)
        for key in keys
    ]


def _visits(request: HttpRequest) -> Any:
    return Visit.objects.visible_to(staff_of(request.user))


def _counts(visits: Any, *, today: dt.date) -> dict[str, int]:
    """Every tab's count, the call list's too, in one query."""
    return queries.counts(visits, today=today)


def _list_context(
    request: HttpRequest, state: DeskState, *, now: dt.datetime
) -> dict[str, Any]:
    today = local(now).date()
    visits = state.filters.apply(_visits(request))
    counts = _counts(visits, today=today)
    page = queries.page_of(state.page, counts[state.tab])
    if queries.needs_exact_count(state.page, counts[state.tab]):
        exact = queries.exact_count(visits, tab=state.tab, today=today)
        page = queries.exact_page_of(state.page, exact)
    if state.is_today:
        chosen = queries.todays_bookings(visits, today=today)
    elif state.is_call:
        chosen = queries.call_list(visits, today=today)
    else:
        chosen = queries.worklist(
            visits, bucket=Bucket(state.tab), today=today, sort=state.sort
        )
    # The MRI flag is read in the rows' own select.
    found = list(chosen.with_mri_status()[page.offset : page.offset + page.size])
    if state.q:
        _record_search(request, state, found, now=now)
    flagged = queries.mri_flagged(_visits(request), today=today)
    tabs = _tabs(state, counts)
    tabs_label = next(tab.label for tab in tabs if tab.current)
    if state.tab == Bucket.ALL:
        tabs_label = "All visits to book"
    if state.is_call:
        tabs_label = "Patients to call"
    return {
        "mri_flagged": list(flagged[: MRI_BANNER_SIZE + 1]),
        "mri_banner_size": MRI_BANNER_SIZE,
        "state": state,
        "tabs": tabs,
        "heading": tabs_label,
        "page_info": page,
        "previous_url": page.previous and state.url(page=page.previous),
        "next_url": page.next and state.url(page=page.next),
        "items": [Item(row=row) for row in queries.rows(found, now=now)],
        "sort_headers": {
            "patient": state.sort_header("patient", "Patient"),
            "window": state.sort_header("window", "Window"),
        },
        "list_said": f"{tabs_label}: {page.count_text} visit{pluralize(page.count)}.",
    }


def _record_search(
    request: HttpRequest, state: DeskState, found: list[Visit], *, now: dt.datetime
) -> None:
    """A search's page of rows, for the audit trail: who looked for whom.

    The query is the list's own URL: after an action it is the list shown
    again, not the action's path.
    """
    audit.record_patient_read(
        reader=_actor(request),
        kind=PatientReadKind.DESK_SEARCH,
        query=state.here,
        patient_ids=[visit.patient_id for visit in found],
        count=len(found),
        now=now,
    )


def _choices() -> dict[str, Any]:
    return {
        "surgeons": list(Surgeon.objects.active()),
        "rules": list(FollowUpRule.objects.filter(active=True)),
        "channels": ContactChannel.choices,
        "outcomes": ContactOutcome.choices,
    }


def _page(
    request: HttpRequest,
    state: DeskState,
    *,
    now: dt.datetime,
    extra: Item | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _list_context(request, state, now=now)
    stray = ""
    if extra is not None:
        items = context["items"]
        at = next((i for i, item in enumerate(items) if item.pk == extra.pk), None)
        if at is None:
            stray = extra.error
        else:
            items[at] = replace(extra, row=items[at].row)
    return render(
        request,
        "web/desk/page.html",
        {
            **context,
            **_choices(),
            "title": "Worklist",
            "stray_error": stray,
            "ignored": state.ignored,
        },
        status=status,
    )


def _slots(item: Item, *, now: dt.datetime) -> Item:
    """Propose slots for the row; a refusal becomes the panel's message."""
    item.panel = "slots"
    try:
        item.slots = services.propose_slots(
            visit=item.row.visit,
            now=now,
            limit=SLOT_LIMIT,
            surgeon_id=item.slots_surgeon,
        )
    except DomainError as error:
        item.slots_error = error.message
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
            "web/desk/_worklist.html",
            {**context, **_choices(), "partial": True},
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
        item.slots_surgeon = whole_number(query.get("slots_surgeon"))
        return _slots(item, now=now)
    if panel in ("change", "contact"):
        item.panel = panel
    return item


def _item(request: HttpRequest, pk: int, *, now: dt.datetime) -> Item | None:
    visit = (
        queries.with_row_relations(_visits(request))
        .with_contact_summary()
        .with_mri_status()
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        return None
    return Item(row=queries.rows([visit], now=now)[0])


def _row_response(
    request: HttpRequest,
    state: DeskState,
    item: Item,
    *,
    now: dt.datetime,
    announce: str = "",
    counts: bool = False,
) -> HttpResponse:
    context: dict[str, Any] = {"state": state, "item": item, **_choices()}
    html = render_to_string("web/desk/_row.html", context, request=request)
    if counts:
        today = local(now).date()
        visits = state.filters.apply(_visits(request))
        tabs = _tabs(state, _counts(visits, today=today))
        html += render_to_string(
            "web/desk/_tabs.html", {"tabs": tabs, "oob": True}, request=request
        )
    if announce:
        html += render_to_string(
            "web/desk/_announce.html", {"text": announce}, request=request
        )
    return HttpResponse(html)


def _missing(request: HttpRequest, state: DeskState, pk: int) -> HttpResponse:
    message = f"Visit {pk} does not exist, or is not yours to see."
    if request.htmx:  # type: ignore[attr-defined]
        html = render_to_string(
            "web/desk/_announce.html",
            {"text": message, "error": True},
            request=request,
        )
        return reswap(HttpResponse(html), "none")
    messages.error(request, message)
    return _page(request, state, now=clock.now(), status=404)


@require_GET
@role_required(*DESK_ROLES)
def visit_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One row, with a panel open (`?panel=slots` or `change`) or none.

    Without htmx, the same row on the whole page, by its anchor.
    """
    state = DeskState.from_query(request.GET)
    if not request.htmx:  # type: ignore[attr-defined]
        opened = urlencode(
            {
                "open": pk,
                "panel": request.GET.get("panel", ""),
                "slots_surgeon": request.GET.get("slots_surgeon", ""),
            }
        )
        join = "&" if "?" in state.here else "?"
        return HttpResponseRedirect(f"{state.here}{join}{opened}#visit-{pk}")
    now = clock.now()
    item = _item(request, pk, now=now)
    if item is None:
        return _missing(request, state, pk)
    return _row_response(request, state, _open(item, request.GET, now=now), now=now)


# --- actions ------------------------------------------------------------------

Perform = Callable[[HttpRequest, Visit, dt.datetime], str]


def _when(moment: dt.datetime | None) -> str:
    return date_format(local(moment), "DATETIME_FORMAT") if moment else ""


def _surgeon_id(request: HttpRequest) -> int:
    raw = request.POST.get("surgeon", "")
    surgeon = whole_number(raw)
    if surgeon is None:
        raise InvalidInput(f"Choose a surgeon for the slot, not {raw!r}.")
    return surgeon


def _start(request: HttpRequest) -> str:
    start = request.POST.get("start", "").strip()
    if not start:
        raise InvalidInput("Choose one of the proposed slots.")
    return start


def _book(request: HttpRequest, visit: Visit, now: dt.datetime) -> str:
    booked = services.book_visit(
        visit_id=visit.pk,
        start=_start(request),
        surgeon_id=_surgeon_id(request),
        actor=_actor(request),
        now=now,
    )
    late = f", {booked.late_by_days} days late" if booked.late_by_days else ""
    return f"Booked for {_when(booked.start)} with {booked.surgeon}{late}."


def _reschedule(request: HttpRequest, visit: Visit, now: dt.datetime) -> str:
    moved = services.reschedule_visit(
        visit_id=visit.pk,
        start=_start(request),
        surgeon_id=_surgeon_id(request),
        actor=_actor(request),
        now=now,
    )
    return f"Moved to {_when(moved.start)} with {moved.surgeon}."


def _unbook(request: HttpRequest, visit: Visit, now: dt.datetime) -> str:
    services.unbook_visit(visit_id=visit.pk, actor=_actor(request), now=now)
    return "Unbooked: the visit is to book again."


def _cancel(request: HttpRequest, visit: Visit, now: dt.datetime) -> str:
    services.cancel_visit(
        visit_id=visit.pk,
        reason=request.POST.get("reason", ""),
        actor=_actor(request),
        now=now,
    )
    return "Cancelled."


def _check_in(request: HttpRequest, visit: Visit, now: dt.datetime) -> str:
    services.check_in_visit(visit_id=visit.pk, actor=_actor(request), now=now)
    return "Checked in."


def _no_show(request: HttpRequest, visit: Visit, now: dt.datetime) -> str:
    services.mark_no_show(visit_id=visit.pk, actor=_actor(request), now=now)
    return "Marked as a no-show: the visit is to book again."


def _contact(request: HttpRequest, visit: Visit, now: dt.datetime) -> str:
    attempt = services.record_contact_attempt(
        visit_id=visit.pk,
        channel=request.POST.get("channel", ""),
        outcome=request.POST.get("outcome", ""),
        note=request.POST.get("note", ""),
        call_back_on=request.POST.get("call_back_on", "").strip() or None,
        actor=_actor(request),
        now=now,
    )
    said = f"{attempt.get_channel_display()} attempt recorded: "
    said += attempt.get_outcome_display().lower()
    if attempt.call_back_on:
        said += f", to call back on {date_format(attempt.call_back_on)}"
    return f"{said}."


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


ACTIONS: dict[str, Perform] = {
    "book": _book,
    "reschedule": _reschedule,
    "unbook": _unbook,
    "cancel": _cancel,
    "check_in": _check_in,
    "no_show": _no_show,
    "contact": _contact,
}
# The panel a refusal reopens, so that what was typed or chosen is still there.
PANELS = {
    "book": "slots",
    "reschedule": "slots",
    "unbook": "change",
    "cancel": "change",
    "contact": "contact",
}
# What a refusal keeps of what was typed, per panel.
TYPED_FIELDS = ("reason", "channel", "outcome", "note", "call_back_on")


def _act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    state = DeskState.from_query(QueryDict(request.POST.get("back", "")))
    now = clock.now()
    try:
        visit = access_visit(request.user, pk, action=action)
        said = ACTIONS[action](request, visit, now)
    except NotFound:
        return _missing(request, state, pk)
    except Forbidden as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        return _refused(request, state, pk, action, error, now=now)
    item = _item(request, pk, now=now)
    if item is None:  # pragma: no cover - it was there a moment ago
        raise Http404
    label = item.row.patient_label
    if request.htmx:  # type: ignore[attr-defined]
        item.saved = said
        return _row_response(
            request,
            state,
            item,
            now=now,
            announce=f"Saved. {label}: {said}",
            counts=True,
        )
    messages.success(request, f"Saved. {label}: {said}")
    return HttpResponseRedirect(f"{state.here}#visit-{pk}")


def _refused(
    request: HttpRequest,
    state: DeskState,
    pk: int,
    action: str,
    error: DomainError,
    *,
    now: dt.datetime,
) -> HttpResponse:
    item = _item(request, pk, now=now)
    if item is None:
        return _missing(request, state, pk)
    item.error = error.message
    item.typed = {name: request.POST.get(name, "") for name in TYPED_FIELDS}
    item.slots_surgeon = whole_number(request.POST.get("slots_surgeon"))
    panel = PANELS.get(action, "")
    if panel == "slots":
        _slots(item, now=now)
    item.panel = panel
    if request.htmx:  # type: ignore[attr-defined]
        return _row_response(request, state, item, now=now)
    return _page(request, state, now=now, extra=item, status=error.status)


def _command(action: str) -> Callable[[HttpRequest, int], HttpResponse]:
    @require_POST
    @role_required(*DESK_ROLES)
    def command(request: HttpRequest, pk: int) -> HttpResponse:
        return _act(request, pk, action)

    command.__name__ = command.__qualname__ = action
    return command


book = _command("book")
reschedule = _command("reschedule")
unbook = _command("unbook")
cancel = _command("cancel")
check_in = _command("check_in")
no_show = _command("no_show")
contact = _command("contact")
