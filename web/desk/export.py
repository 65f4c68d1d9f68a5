"""`/desk/list.csv`: the worklist's tab as a spreadsheet (`web.list_csv`),
with the list's filters: the page's own URL state, without its page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from clinic import clock
from clinic.clock import local
from web.desk.views import list_state, tab_rows
from web.list_csv import csv_download
from web.roles import DESK_ROLES, role_required
from web.visit_actions import visible_visits


@require_GET
@role_required(*DESK_ROLES)
def desk_csv(request: HttpRequest) -> HttpResponse:
    state = list_state(request.GET)
    now = clock.now()
    visits = state.filters.apply(visible_visits(request))
    return csv_download(
        request,
        tab_rows(visits, state, local(now).date()),
        name=f"worklist-{state.tab}",
        query=state.csv_url,
        now=now,
    )
