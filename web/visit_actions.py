"""A visit row's actions and panels, for every page that lists visits.

The row's URLs are one set, `/desk/visits/<pk>/…`, whichever page shows
the row: the desk's worklist, the appointments, a visit's own page. Each
such page is a `Place` (the URL conf passes them all, `Places`); the row's
links and forms carry its list's state (`back`, its query string), which
names the place (`place=…`; none: the desk). A place says how to read that
state and how to show the row or the whole page again.

An action is a plain POST form that redirects back to the list it came
from (its filters, page and the row's anchor kept; a GET of its URL is the
visit's own page); with htmx it answers with the
row, the place's row partial adding its out-of-band fragments. A refusal
changes nothing: the form's message beside the row, with what was typed; a
stale one (the visit changed since the row was shown) beside the fresh row.

`GET /desk/visits/<pk>/` without htmx is the visit's own page, whatever its
state, with the moves it allows (`allowed_moves`); with a panel asked for
(`?panel=slots`) from a list, that list with the row open.

A visit that does not exist, or is not the user's to see, is the service's
`NotFound`, which `web.errors` answers for every page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clinic import clock
from clinic.models import Surgeon
from followup.access import Forbidden, access_visit, staff_of
from followup.exceptions import DomainError, NotFound
from followup.models import ContactChannel, ContactOutcome, Visit, VisitQuerySet
from web.methods import post_or_show
from web.offer_marks import with_offer_mark
from web.query_text import whole_number
from web.roles import DESK_ROLES, role_required
from web.slots import SlotAsk, slot_panel
from web.visit_forms import FORMS, QUICK_OUTCOMES, RowForm
from web.visit_rows import ColumnHeader, Item, rows

PANELS = ("slots", "change", "contact")


@dataclass(frozen=True)
class Place:
    """A page that shows visit rows: how it reads its list's state from a
    query string (`state(query)`), and how it shows a row with htmx
    (`row(request, state, item, now=…)`) or itself with one item in place
    without JavaScript (`page(request, state, now=…, extra=item, status=…)`).
    The state has the list's own URL (`here`) and its `query_string`."""

    key: str
    state: Callable[[QueryDict], Any]
    row: Callable[..., HttpResponse]
    page: Callable[..., HttpResponse]


@dataclass(frozen=True)
class Places:
    """Every place a row can be on; `default` for a state naming none."""

    default: Place
    visit_page: Place
    others: tuple[Place, ...] = ()

    def of(self, query: QueryDict) -> Place:
        key = query.get("place", "")
        known = (self.visit_page, *self.others)
        return next((p for p in known if p.key == key), self.default)


def row_choices(columns: list[ColumnHeader]) -> dict[str, Any]:
    """What the shared row's template needs beside the row: its list's
    columns, the surgeons whose slots it offers, a contact's choices."""
    return {
        "surgeons": list(Surgeon.objects.active()),
        "channels": ContactChannel.choices,
        "outcomes": ContactOutcome.choices,
        "quick_outcomes": [(choice.value, choice.label) for choice in QUICK_OUTCOMES],
        "columns": columns,
    }


def visible_visits(request: HttpRequest) -> VisitQuerySet:
    return Visit.objects.visible_to(staff_of(request.user))


def read_item(request: HttpRequest, pk: int, *, now: dt.datetime) -> Item | None:
    """The visit as a row, with all it shows; None when not the user's."""
    visits = (
        visible_visits(request)
        .with_row_relations()
        .with_contact_summary()
        .with_mri_status()
        .with_patient_left_care()
    )
    visit = with_offer_mark(visits, now=now).filter(pk=pk).first()
    if visit is None:
        return None
    return Item(row=rows([visit], now=now)[0])


def shown_item(request: HttpRequest, pk: int, *, now: dt.datetime) -> Item:
    item = read_item(request, pk, now=now)
    if item is None:
        raise NotFound(f"Visit {pk} does not exist, or is not yours to see.")
    return item


def with_slots(item: Item, *, now: dt.datetime) -> Item:
    """Propose slots for the row, as its picker asks (`web.slots`)."""
    item.panel = "slots"
    item.slots = slot_panel(item.row.visit, item.slot_ask, now=now)
    return item


def open_panel(item: Item, query: QueryDict, *, now: dt.datetime) -> Item:
    """The panel the query asks for (`panel`, `slots_surgeon`), opened."""
    panel = query.get("panel", "")
    if panel == "slots":
        item.slot_ask = SlotAsk.read(query)
        return with_slots(item, now=now)
    if panel in PANELS:
        item.panel = panel
    return item


def opened_item(
    request: HttpRequest, query: QueryDict, *, now: dt.datetime
) -> Item | None:
    """The row a list's URL asks to show open (`?open=<pk>&panel=…`)."""
    opened = whole_number(query.get("open"))
    item = None if opened is None else read_item(request, opened, now=now)
    return None if item is None else open_panel(item, query, now=now)


def list_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    extra: Item | None,
    status: int,
) -> HttpResponse:
    """A list of rows as a whole page, `extra` in its place (`put_in_place`)."""
    put_in_place(context["items"], extra)
    return render(request, template, context, status=status)


def put_in_place(items: list[Item], extra: Item | None) -> None:
    """`extra` in place of its row among `items`; first, when it is not
    among them (a refused action on a visit that has left the list, a row
    asked open by a link): the fresh row, its message and what was typed."""
    if extra is None:
        return
    at = next((i for i, item in enumerate(items) if item.pk == extra.pk), None)
    if at is None:
        items.insert(0, extra)
    else:
        items[at] = replace(extra, row=items[at].row)


# --- a visit's own URL -----------------------------------------------------------


def _opened_url(state: Any, pk: int, query: QueryDict) -> str:
    panel = {"open": pk, "panel": query.get("panel", "")}
    opened = urlencode({**panel, **SlotAsk.kept(query)})
    join = "&" if "?" in state.here else "?"
    return f"{state.here}{join}{opened}#visit-{pk}"


@require_GET
@role_required(*DESK_ROLES)
def visit_row(request: HttpRequest, pk: int, places: Places) -> HttpResponse:
    """One row, with a panel open (`?panel=slots`, `change`, `contact`) or none.

    Without htmx: the visit's own page, its panel open; or, asked from a list
    with a panel, that list with the row open, by its anchor.
    """
    place = places.of(request.GET)
    now = clock.now()
    if request.htmx:  # type: ignore[attr-defined]
        item = open_panel(shown_item(request, pk, now=now), request.GET, now=now)
        return place.row(request, place.state(request.GET), item, now=now)
    if "panel" in request.GET and place is not places.visit_page:
        state = place.state(request.GET)
        return HttpResponseRedirect(_opened_url(state, pk, request.GET))
    item = open_panel(shown_item(request, pk, now=now), request.GET, now=now)
    query = request.GET.copy()
    query["visit"] = str(pk)
    state = places.visit_page.state(query)
    return places.visit_page.page(request, state, now=now, extra=item)


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


def _act(
    request: HttpRequest, pk: int, form_class: type[RowForm], places: Places
) -> HttpResponse:
    back = QueryDict(request.POST.get("back", ""))
    place = places.of(back)
    state = place.state(back)
    now = clock.now()
    visit = access_visit(request.user, pk, action=form_class.action)
    form = form_class(request.POST)
    said = _saved(form, visit, _actor(request), now)
    # Read again after the action: the row as it now is, saved or refused.
    item = shown_item(request, pk, now=now)
    if not said:
        return _refused(request, place, state, item, form, now=now)
    if request.htmx:  # type: ignore[attr-defined]
        item.saved = said
        return place.row(request, state, item, now=now)
    messages.success(request, f"Saved. {item.row.patient_label}: {said}")
    return HttpResponseRedirect(f"{state.here}#visit-{pk}")


def _refused(
    request: HttpRequest,
    place: Place,
    state: Any,
    item: Item,
    form: RowForm,
    *,
    now: dt.datetime,
) -> HttpResponse:
    """The row again, its panel open with what was typed, and why not."""
    item.form = form
    item.slot_ask = SlotAsk.read(form.data)
    if form.panel == "slots":
        with_slots(item, now=now)
    item.panel = form.panel
    if request.htmx:  # type: ignore[attr-defined]
        return place.row(request, state, item, now=now)
    return place.page(request, state, now=now, extra=item, status=form.status)


def _visit_url(request: HttpRequest, pk: int, **kwargs: Any) -> str:
    return reverse("desk-visit", args=[pk])


def _command(action: str) -> Callable[..., HttpResponse]:
    @role_required(*DESK_ROLES)
    @post_or_show(_visit_url)
    def command(request: HttpRequest, pk: int, places: Places) -> HttpResponse:
        return _act(request, pk, FORMS[action], places)

    command.__name__ = command.__qualname__ = action
    return command


book = _command("book")
reschedule = _command("reschedule")
unbook = _command("unbook")
cancel = _command("cancel")
check_in = _command("check_in")
no_show = _command("no_show")
contact = _command("contact")
