"""`/desk/visits/<pk>/`: a visit's own page, whatever its state.

The visit's facts, its row with the moves it allows now
(`moves.allowed_moves`, through the shared row) and its history. It is a
place of the visit rows (`web.visit_actions.Place`): an action taken here
comes back here, or, opened from the patient's page (`patient=<id>`), back
to the visit on that page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.request import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

from booking_links import services as booking_links
from booking_links.states import LinkState, states_of
from clinic import clock
from followup.access import access_visit, staff_of
from followup.exceptions import DomainError
from followup.models import Visit, VisitEvent
from web.methods import post_or_show
from web.patient_access import page_url
from web.query_text import whole_number
from web.refusals import say
from web.roles import DESK_ROLES, role_required
from web.visit_actions import Place, row_choices, shown_item
from web.visit_rows import ColumnHeader, Item

PAGE = "web/visit/page.html"
COLUMNS = [
    ColumnHeader("Patient"),
    ColumnHeader("Visit"),
    ColumnHeader("Surgeon"),
    ColumnHeader("Window"),
    ColumnHeader("Days left"),
    ColumnHeader("Status"),
    ColumnHeader("Actions"),
]


@dataclass(frozen=True)
class VisitPageState:
    """The visit page's URL state: only which visit it is."""

    pk: int
    # The patient whose page the visit was opened from, to go back to.
    patient: int | None = None
    key = "visit"
    is_today = False
    is_call = False

    @cached_property
    def here(self) -> str:
        if self.patient is not None:
            return page_url(self.patient)
        return reverse("desk-visit", args=[self.pk])

    @cached_property
    def query_string(self) -> str:
        return urlencode(self.hidden_fields)

    @cached_property
    def link_prefix(self) -> str:
        return f"{self.query_string}&"

    @property
    def hidden_fields(self) -> list[tuple[str, str]]:
        fields = [("place", self.key), ("visit", str(self.pk))]
        if self.patient is not None:
            fields.append(("patient", str(self.patient)))
        return fields


def _choices() -> dict[str, Any]:
    return row_choices(COLUMNS)


def _state(query: QueryDict) -> VisitPageState:
    return VisitPageState(
        pk=whole_number(query.get("visit")) or 0,
        patient=whole_number(query.get("patient")),
    )


def _row(
    request: HttpRequest, state: VisitPageState, item: Item, *, now: dt.datetime
) -> HttpResponse:
    """The row, with a panel or a refusal; once an action is done, the whole
    page again (the patient's, opened from there), as without JavaScript:
    the facts and the history above and below the row changed with it."""
    if item.saved:
        messages.success(request, f"Saved. {item.row.patient_label}: {item.saved}")
        return HttpResponseClientRedirect(f"{state.here}#visit-{item.pk}")
    context: dict[str, Any] = {"state": state, "item": item, **_choices()}
    if item.form is not None:
        # Refused, maybe for another clerk's change: the page's facts and
        # history as they now are, with the fresh row.
        visit = item.row.visit
        context |= {"visit": visit, "events": _events(visit)}
    return render(request, f"{PAGE}#row", context)


def _events(visit: Visit) -> list[VisitEvent]:
    """The visit's history, latest first."""
    return list(visit.events.select_related("actor").order_by("-id"))


def _page(
    request: HttpRequest,
    state: VisitPageState,
    *,
    now: dt.datetime,
    extra: Item | None = None,
    status: int = 200,
    booking_link: str = "",
    booking_link_refused: str = "",
) -> HttpResponse:
    # Every caller passes the visit's item: read by the shared row view.
    assert extra is not None  # noqa: S101
    visit = extra.row.visit
    events = _events(visit)
    link_state = _link_state(visit, events, now=now)
    context = {
        "state": VisitPageState(pk=visit.pk, patient=state.patient),
        "item": extra,
        "visit": visit,
        "events": events,
        "title": f"{extra.row.kind}: {visit.patient.family_name}",
        "may_link": staff_of(request.user).has(*DESK_ROLES) and link_state.may_link,
        "link_state": link_state,
        "booking_link": booking_link,
        "booking_link_refused": booking_link_refused,
        **_choices(),
    }
    response = render(request, PAGE, context, status=status)
    if booking_link:
        add_never_cache_headers(response)  # the URL is shown this once
    return response


def _link_state(
    visit: Visit, events: list[VisitEvent], *, now: dt.datetime
) -> LinkState:
    """The visit's booking link now; ended with the visit, since the
    latest change into its status (`events`, latest first)."""
    state = states_of([visit], today=clock.local_date(now))[visit.pk]
    if state.ended and state.ended_at is None:
        at = next((e.at for e in events if e.to_status == visit.status), None)
        state = replace(state, ended_at=at)
    return state


# The visit's own page as the place of its row.
VISIT_PAGE = Place(key=VisitPageState.key, state=_state, row=_row, page=_page)


def _visit_url(request: HttpRequest, pk: int) -> str:
    return reverse("desk-visit", args=[pk])


@role_required(*DESK_ROLES)
@post_or_show(_visit_url)
def make_booking_link(request: HttpRequest, pk: int) -> HttpResponse:
    """A new booking link for the desk to read out: its URL is shown in this
    answer only (rendered directly, never cached); older links end."""
    visit = access_visit(request.user, pk, action="book")
    now = clock.now()
    url, refused, status = "", "", 200
    try:
        issued = booking_links.issue_link(
            visit_id=visit.pk,
            actor=request.user,  # type: ignore[arg-type]
            now=now,
        )
        url = request.build_absolute_uri(issued.path)
    except DomainError as error:
        refused, status = say(error), error.status
    item = shown_item(request, pk, now=now)
    state = VisitPageState(pk=pk)
    return _page(
        request,
        state,
        now=now,
        extra=item,
        status=status,
        booking_link=url,
        booking_link_refused=refused,
    )
