"""`/desk/replies/`: the worklist's *Replies* tab: change requests, unclear
replies and failed deliveries, each with *Resolve*.

One view renders the page; with htmx, only the list. *Resolve* posts a form:
without JavaScript it redirects back to the same list; with htmx it answers
with the row, resolved, and the tabs' new counts out of band. A refusal
(someone resolved it a moment ago) is said on the row: a 409 without
htmx, a 200 with it (htmx swaps no 4xx answer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import QueryDict
from django.shortcuts import render
from django_htmx.http import push_url

from clinic import clock
from clinic.clock import local
from followup.exceptions import Conflict
from messaging import replies
from messaging.models import Message
from web.desk import rows as desk_rows
from web.desk.state import DeskState
from web.methods import post_or_show
from web.paging import read_page
from web.refusals import say
from web.replies.forms import ResolveForm
from web.replies.rows import PAGE_SIZE, ReplyRow
from web.replies.state import RepliesState
from web.roles import DESK_ROLES, role_required
from web.visit_actions import visible_visits

PAGE = "web/replies/page.html"


def _tabs(request: HttpRequest, now: dt.datetime) -> list[desk_rows.Tab]:
    counts = visible_visits(request).tab_counts(local(now).date())
    return desk_rows.tabs(
        DeskState(),
        counts,
        replies=Message.objects.needing_person_open(),
        on_replies=True,
    )


def _context(
    request: HttpRequest, state: RepliesState, *, now: dt.datetime
) -> dict[str, Any]:
    chosen = Message.objects.needing_person().filter(
        resolved_at__isnull=not state.resolved
    )
    chosen = chosen.select_related("resolved_by")
    page, found = read_page(chosen, state.page, PAGE_SIZE)
    state = replace(state, page=page)
    more = len(found) > PAGE_SIZE
    shown = "resolved" if state.resolved else "needing a person"
    return {
        "list_said": f"Replies {shown}: {min(len(found), PAGE_SIZE)} shown.",
        "title": "Replies",
        "state": state,
        "tabs": _tabs(request, now),
        "rows": [ReplyRow(message) for message in found[:PAGE_SIZE]],
        "number": state.page,
        "previous_url": state.page > 1 and state.url(page=state.page - 1),
        "next_url": more and state.url(page=state.page + 1),
        "open_url": state.url(resolved=False, page=1),
        "resolved_url": state.url(resolved=True, page=1),
    }


@role_required(*DESK_ROLES)
def replies_page(request: HttpRequest) -> HttpResponse:
    state = RepliesState.from_query(request.GET)
    context = _context(request, state, now=clock.now())
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and htmx.target == "replies" and not htmx.history_restore_request:
        response = render(request, f"{PAGE}#replies", {**context, "partial": True})
        return push_url(response, context["state"].here)
    return render(request, PAGE, context)


def _refused(
    request: HttpRequest, state: RepliesState, pk: int, words: str, status: int
) -> HttpResponse:
    message = Message.objects.needing_person().select_related("resolved_by").get(pk=pk)
    row = ReplyRow(message, refusal=words)
    if request.htmx:  # type: ignore[attr-defined]
        # A 2xx, as a visit row's refusal: htmx swaps no 4xx answer, which
        # left the row and its button as they were, and nothing said.
        only: dict[str, Any] = {"row": row, "state": state}
        return render(request, f"{PAGE}#row", only)
    context = _context(request, state, now=clock.now())
    context["rows"] = [row, *(r for r in context["rows"] if r.pk != pk)]
    return render(request, PAGE, context, status=status)


@role_required(*DESK_ROLES)
@post_or_show(lambda request, pk: RepliesState().here)
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Resolve one reply; back to the same list."""
    form = ResolveForm(request.POST)
    back = form.cleaned_data["back"] if form.is_valid() else ""
    state = RepliesState.from_query(QueryDict(back))
    now = clock.now()
    try:  # NotFound: web.errors' 404
        message = replies.resolve(
            message_id=pk,
            actor=request.user,  # type: ignore[arg-type]
            now=now,
        )
    except Conflict as error:
        return _refused(request, state, pk, say(error), error.status)
    if request.htmx:  # type: ignore[attr-defined]
        context = {"row": ReplyRow(message), "state": state, "saved": True}
        context["tabs"] = _tabs(request, now)
        return render(request, f"{PAGE}#row", context)
    messages.success(request, f"Resolved: {ReplyRow(message).who}.")
    return HttpResponseRedirect(state.here)
