"""`/surgeon/`: a surgeon's home. Their reviews, their week, and the two
things they do from it: complete a visit, end an annual-review programme.

Reads go through `Visit.objects.visible_to(staff)`, the one rule of who a
surgeon's patients are; writes go through the services behind the API's own
access checks, so another surgeon's visit is a 404 and the programme of a
patient one only covers is a 403 (`web.errors` answers both). Each list is
one query, its first `FIRST_ROWS` rows, or up to `LIST_LIMIT` once "Show up
to 50" asked for it (`?show=upcoming`, kept by every action), so the page
runs the same queries whatever the data size.

A refused action renders the page again with its form's error beside its
row, the input kept and nothing changed; a done one redirects back to the
same period, week and row, with "Saved" in the live region.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats

from clinic import clock
from clinic.clock import local_date, start_of_day
from feeds import links
from feeds.models import CalendarLink, LinkScope
from followup import services
from followup.access import Staff, access_procedure, access_visit, staff_of
from followup.exceptions import Conflict, InvalidInput
from followup.models import ContactAttempt, Visit, VisitQuerySet
from web.methods import post_or_show
from web.refusals import say, say_of
from web.roles import SURGEON_ROLES, role_required
from web.surgeon.forms import CompleteForm, EndProgrammeForm, RowForm
from web.surgeon.rows import Row, review_rows, week_days
from web.surgeon.state import LIST_LIMIT, Period, read_period

# "Lost to follow-up" also lists the visits cancelled as lost (declined, moved
# away, deceased) in this many days: long enough to notice, short enough to act.
LOST_RECENT_DAYS = 90


def surgeon_id_of(staff: Staff) -> int:
    """The surgeon this page is about (the surgeon role implies one)."""
    if staff.surgeon_id is None:
        raise PermissionDenied("Your login is not linked to a surgeon.")
    return staff.surgeon_id


def _related(visits: VisitQuerySet) -> VisitQuerySet:
    return (
        visits.select_related(
            "rule", "procedure__patient", "procedure__surgeon", "surgeon"
        )
        .with_mri_status()
        .with_patient_left_care()
    )


def _visits(staff: Staff) -> VisitQuerySet:
    return _related(Visit.objects.visible_to(staff))


def _first(visits: VisitQuerySet, limit: int) -> tuple[list[Visit], bool]:
    """The list's first `limit` visits, and whether more were left off."""
    found = list(visits[: limit + 1])
    return found[:limit], len(found) > limit


def _lost(staff: Staff, *, now: dt.datetime, limit: int) -> tuple[list[Row], bool]:
    """Lost to follow-up: the unreachable visits, longest overdue first, then
    those cancelled as lost in the last `LOST_RECENT_DAYS` days; each with its
    contact attempts. One query, and one for the attempts when there are rows."""
    attempts = Prefetch(
        "contact_attempts",
        queryset=ContactAttempt.objects.select_related("actor").order_by("id"),
    )
    found, more = _first(
        _visits(staff)
        .lost_to_follow_up(since=now - dt.timedelta(days=LOST_RECENT_DAYS))
        .prefetch_related(attempts),
        limit,
    )
    surgeon_id = surgeon_id_of(staff)
    return [Row(visit=visit, surgeon_id=surgeon_id, now=now) for visit in found], more


def _week(staff: Staff, period: Period) -> VisitQuerySet:
    """The visits booked with this surgeon in the week shown."""
    end = period.monday + dt.timedelta(days=7)
    return _visits(staff).booked_with(
        surgeon_id_of(staff), start_of_day(period.monday), start_of_day(end)
    )


def _calendar_link(request: HttpRequest, staff: Staff) -> CalendarLink | None:
    live: CalendarLink | None = (
        links.visible_to(request.user)
        .filter(scope=LinkScope.SURGEON, surgeon_id=surgeon_id_of(staff))
        .order_by("-created_at", "pk")
        .first()
    )
    return live


def _page(
    request: HttpRequest,
    period: Period,
    *,
    refused: RowForm | None = None,
    status: int = 200,
) -> HttpResponse:
    staff = staff_of(request.user)
    surgeon_id = surgeon_id_of(staff)
    now = clock.now()
    today = local_date(now)
    # The list's candidates first, each kind stopped at the list's length.
    chosen = Visit.objects.visible_to(staff).upcoming_first(
        today, period.days, period.limit("upcoming") + 1
    )
    upcoming, more_upcoming = _first(
        _related(Visit.objects.filter(pk__in=chosen)).upcoming(today, period.days),
        period.limit("upcoming"),
    )
    overdue, more_overdue = _first(
        _visits(staff).overdue(today).order_by("window_end", "due_date", "id"),
        period.limit("overdue"),
    )
    lost, more_lost = _lost(staff, now=now, limit=period.limit("lost"))
    # Checked in on any day with this surgeon, and not completed yet.
    waiting, more_waiting = _first(
        _visits(staff).waiting_to_complete().filter(surgeon_id=surgeon_id),
        LIST_LIMIT,
    )

    def rows(visits: list[Visit], overdue: bool = False) -> list[Row]:
        return review_rows(
            visits, surgeon_id=surgeon_id, now=now, refused=refused, overdue=overdue
        )

    context = {
        "title": "My reviews",
        "lost": lost,
        "more_lost": more_lost,
        "lost_recent_days": LOST_RECENT_DAYS,
        "period": period,
        "today": today,
        "last_day": today + dt.timedelta(days=period.days),
        "upcoming": rows(upcoming),
        "more_upcoming": more_upcoming,
        "overdue": rows(overdue, overdue=True),
        "more_overdue": more_overdue,
        "waiting": rows(waiting),
        "more_waiting": more_waiting,
        "list_limit": LIST_LIMIT,
        "week": week_days(_week(staff, period), period.monday, today),
        "calendar_link": _calendar_link(request, staff),
    }
    return render(request, "web/surgeon/home.html", context, status=status)


@role_required(*SURGEON_ROLES)
def home(request: HttpRequest) -> HttpResponse:
    period = read_period(request.GET, clock.today())
    for notice in period.notices:
        messages.warning(request, notice)
    return _page(request, period)


# --- what the surgeon does ----------------------------------------------------


def _refused(
    request: HttpRequest, period: Period, form: RowForm, status: int
) -> HttpResponse:
    """The page again, the form as typed beside its row, saying why."""
    messages.error(request, form.message)
    return _page(request, period, refused=form, status=status)


def _home(request: HttpRequest, pk: int) -> str:
    """Where a GET of an action's URL goes: the surgeon's page."""
    return reverse("surgeon-home")


@role_required(*SURGEON_ROLES)
@post_or_show(_home)
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    period = read_period(request.POST, clock.today())
    visit = access_visit(request.user, pk, action="complete")
    form = CompleteForm(request.POST, visit_id=pk)
    if not form.is_valid():
        return _refused(request, period, form, 400)
    try:
        services.complete_visit(
            visit_id=visit.pk,
            actor=request.user,  # type: ignore[arg-type]
            now=clock.now(),
            sequence=form.cleaned_data["sequence"],
        )
    except (InvalidInput, Conflict) as error:  # NotFound, Forbidden: web.errors
        # Said above the lists too, which the visit may have left: whose it is.
        form.add_error(None, say_of(visit.procedure.patient.label(), error))
        return _refused(request, period, form, error.status)
    label = visit.procedure.patient.label()
    messages.success(request, f"Saved: {label}'s visit is completed.")
    return HttpResponseRedirect(period.url(f"visit-{pk}"))


@role_required(*SURGEON_ROLES)
@post_or_show(_home)
def end_annual_reviews(request: HttpRequest, pk: int) -> HttpResponse:
    today = clock.today()
    period = read_period(request.POST, today)
    procedure = access_procedure(request.user, pk, action="end_annual_reviews")
    form = EndProgrammeForm(request.POST, procedure_id=pk)
    if not form.is_valid():
        return _refused(request, period, form, 400)
    try:
        result = services.end_annual_reviews(
            procedure_id=procedure.pk,
            end_date=form.cleaned_data["date"],
            reason=form.cleaned_data["reason"],
            today=today,
            actor=request.user,  # type: ignore[arg-type]
            end_overdue=form.cleaned_data["end_overdue"],
            # The page offers the end of a running programme only.
            still_running=True,
        )
    except (InvalidInput, Conflict) as error:  # NotFound, Forbidden: web.errors
        form.add_error(None, say(error))
        return _refused(request, period, form, error.status)
    label = procedure.patient.label()
    ended = result.procedure.annual_reviews_ended_on or form.cleaned_data["date"]
    cancelled = len(result.cancelled)
    said = f"Saved: {label}'s annual reviews end on {formats.date_format(ended)}"
    if cancelled:
        plural = "s" if cancelled != 1 else ""
        said += f"; {cancelled} review{plural} after it cancelled"
    messages.success(request, said + ".")
    # The row may be gone (an ended overdue review): land on the message.
    return HttpResponseRedirect(period.url("announcements"))
