"""`/surgeon/`: a surgeon's home. Their reviews, their week, and the two
things they do from it: complete a visit, end an annual-review programme.

Reads go through `Visit.objects.visible_to(staff)`, the one rule of who a
surgeon's patients are; writes go through the services behind the API's own
access checks, so another surgeon's visit is a 404 and the programme of a
patient one only covers is a 403. Each list is one query, its first
`FIRST_ROWS` rows, or up to `LIST_LIMIT` once "Show up to 50" asked for it
(`?show=upcoming`, kept by every action), so the page runs the same queries
whatever the data size.

A refused action renders the page again with the service's message beside
its row, the input kept and nothing changed; a done one redirects back to
the same period, week and row, with "Saved" in the live region.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import QueryDict
from django.shortcuts import render
from django.utils import formats
from django.views.decorators.http import require_POST

from clinic import clock
from clinic.clock import local_date, start_of_day
from clinic.models import ProcedureKind
from feeds import links
from feeds.models import CalendarLink, LinkScope
from followup import services
from followup.access import Forbidden, Staff, access_procedure, access_visit, staff_of
from followup.exceptions import DomainError, NotFound
from followup.models import (
    ContactAttempt,
    Visit,
    VisitQuerySet,
    VisitStatus,
)
from web.roles import SURGEON_ROLES, role_required

PAGE_URL = "/surgeon/"
DAY_CHOICES = (7, 14, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366  # the API's own bound for `days`
# Rows per list: more than a surgeon reads between operations, as many as the
# desk's page. Rendering a row costs more than reading it: at 200 a list, a
# large clinic's page spent most of its time writing 400 rows of HTML.
LIST_LIMIT = 50
# Rows a list shows at first: the next reviews, the longest overdue, what a
# surgeon glances at between operations. "Show all" lists up to LIST_LIMIT,
# so a busy surgeon's page is not a hundred rows long before they ask.
FIRST_ROWS = 10
LISTS = ("upcoming", "overdue", "lost")
# How far the week view travels from today; past it a typo, not a plan.
WEEK_REACH = dt.timedelta(days=5 * 366)
WORKING_DAYS = 5
# "Lost to follow-up" also lists the visits cancelled as lost (declined, moved
# away, deceased) in this many days: long enough to notice, short enough to act.
LOST_RECENT_DAYS = 90


# --- what the page was asked for ----------------------------------------------


@dataclass(frozen=True)
class Period:
    """The upcoming list's length and the week shown, read from the query."""

    days: int
    monday: dt.date
    this_monday: dt.date
    notices: tuple[str, ...] = ()
    # The lists shown whole (up to LIST_LIMIT), in `LISTS` order.
    shown_all: tuple[str, ...] = ()

    def query(
        self, *, monday: dt.date | None = None, show: tuple[str, ...] = ()
    ) -> str:
        """The page's query string for this period, defaults left out."""
        monday = monday or self.monday
        params: list[tuple[str, str]] = []
        if self.days != DEFAULT_DAYS:
            params.append(("days", str(self.days)))
        if monday != self.this_monday:
            params.append(("week", monday.isoformat()))
        shown = set(self.shown_all) | set(show)
        params.extend(("show", name) for name in LISTS if name in shown)
        return "?" + urlencode(params) if params else ""

    def limit(self, name: str) -> int:
        """How many rows the list `name` shows."""
        return LIST_LIMIT if name in self.shown_all else FIRST_ROWS

    @property
    def show_all(self) -> dict[str, str]:
        """Each list's "Show all" link, back at the list."""
        return {name: f"{PAGE_URL}{self.query(show=(name,))}#{name}" for name in LISTS}

    @property
    def previous_week(self) -> str:
        return PAGE_URL + self.query(monday=self.monday - dt.timedelta(days=7))

    @property
    def next_week(self) -> str:
        return PAGE_URL + self.query(monday=self.monday + dt.timedelta(days=7))

    @property
    def this_week(self) -> str:
        return PAGE_URL + self.query(monday=self.this_monday)

    @property
    def day_choices(self) -> list[int]:
        return sorted({*DAY_CHOICES, self.days})


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def read_period(given: QueryDict, today: dt.date) -> Period:
    """`days` (1 to 366) and `week` (any date of it); a value that cannot be
    read falls back to the default, and the page says so."""
    notices: list[str] = []
    days = DEFAULT_DAYS
    raw_days = given.get("days", "").strip()
    if raw_days:
        if re.fullmatch(r"[0-9]{1,3}", raw_days) and 1 <= int(raw_days) <= MAX_DAYS:
            days = int(raw_days)
        else:
            notices.append(
                f"“{raw_days[:20]}” is not a number of days from 1 to {MAX_DAYS}; "
                f"showing the next {DEFAULT_DAYS} days."
            )
    this_monday = monday_of(today)
    monday = this_monday
    raw_week = given.get("week", "").strip()
    if raw_week:
        try:
            asked = dt.date.fromisoformat(raw_week)
        except ValueError:
            notices.append(
                f"“{raw_week[:20]}” is not a date (YYYY-MM-DD); showing this week."
            )
        else:
            if abs(asked - today) > WEEK_REACH:
                notices.append(
                    "That week is more than five years away; showing this week."
                )
            else:
                monday = monday_of(asked)
    shown = set(given.getlist("show"))
    return Period(
        days=days,
        monday=monday,
        this_monday=this_monday,
        notices=tuple(notices),
        shown_all=tuple(name for name in LISTS if name in shown),
    )


# --- what the page shows ------------------------------------------------------


@dataclass
class EndProgrammeForm:
    """The end-of-programme form of one row: its values, kept on a refusal."""

    date: str
    reason: str = ""
    error: str = ""

    @property
    def open(self) -> bool:
        return bool(self.error or self.reason)


@dataclass
class Row:
    """One review as a surgeon reads it."""

    visit: Visit
    surgeon_id: int
    now: dt.datetime
    error: str = ""
    end_form: EndProgrammeForm | None = None

    @property
    def kind(self) -> str:
        return self.visit.kind_label()

    @property
    def is_booked(self) -> bool:
        return self.visit.start is not None and self.visit.status in (
            VisitStatus.BOOKED,
            VisitStatus.CHECKED_IN,
            VisitStatus.COMPLETED,
        )

    @property
    def mri_flag(self) -> str:
        flag = self.visit.mri_flag(self.today)
        return flag.flag_text if flag else ""

    @cached_property
    def today(self) -> dt.date:
        return local_date(self.now)

    @cached_property
    def moves(self) -> frozenset[str]:
        return services.allowed_moves(self.visit, self.now)

    @property
    def can_complete(self) -> bool:
        return "complete" in self.moves

    @property
    def days_overdue(self) -> int:
        return (self.today - self.visit.window_end).days

    @property
    def is_today(self) -> bool:
        return self.visit.start is not None and local_date(self.visit.start) == (
            self.today
        )

    @property
    def whose(self) -> str:
        """Whose patient or whose slot, when it is not simply this surgeon's."""
        visit = self.visit
        operated_by = visit.procedure.surgeon
        if visit.surgeon_id is not None and visit.surgeon_id != self.surgeon_id:
            return f"Booked with {visit.surgeon}"
        if operated_by.pk != self.surgeon_id:
            return f"Covering for {operated_by}"
        return ""

    @property
    def programme_ends_here(self) -> bool:
        """An annual review of a running programme this surgeon operated."""
        procedure = self.visit.procedure
        return (
            self.visit.requires_mri
            and procedure.surgeon_id == self.surgeon_id
            and procedure.kind == ProcedureKind.ENDOSCOPIC_STEM_CELL
            and procedure.is_active()
            and procedure.annual_reviews_ended_on is None
        )


@dataclass(frozen=True)
class Day:
    date: dt.date
    is_today: bool
    visits: list[Visit]


@dataclass
class Refusal:
    """What a refused action leaves on the page: the message and the input."""

    visit_id: int | None = None
    procedure_id: int | None = None
    message: str = ""
    values: dict[str, str] = field(default_factory=dict)


def surgeon_id_of(staff: Staff) -> int:
    """The surgeon this page is about (the surgeon role implies one)."""
    if staff.surgeon_id is None:
        raise PermissionDenied("Your login is not linked to a surgeon.")
    return staff.surgeon_id


def _related(visits: VisitQuerySet) -> VisitQuerySet:
    return visits.select_related(
        "rule", "procedure__patient", "procedure__surgeon", "surgeon"
    ).with_mri_status()


def _visits(staff: Staff) -> VisitQuerySet:
    return _related(Visit.objects.visible_to(staff))


def _lost(
    staff: Staff, *, now: dt.datetime, today: dt.date, limit: int
) -> tuple[list[Row], bool]:
    """Lost to follow-up: the unreachable visits, longest overdue first, then
    those cancelled as lost in the last `LOST_RECENT_DAYS` days; each with its
    contact attempts. One query, and one for the attempts when there are rows."""
    attempts = Prefetch(
        "contact_attempts",
        queryset=ContactAttempt.objects.select_related("actor").order_by("id"),
    )
    found = list(
        _visits(staff)
        .lost_to_follow_up(since=now - dt.timedelta(days=LOST_RECENT_DAYS))
        .prefetch_related(attempts)[: limit + 1]
    )
    surgeon_id = surgeon_id_of(staff)
    rows = [Row(visit=visit, surgeon_id=surgeon_id, now=now) for visit in found[:limit]]
    return rows, len(found) > limit


def _rows(
    visits: VisitQuerySet,
    *,
    staff: Staff,
    now: dt.datetime,
    refusal: Refusal | None,
    limit: int,
) -> tuple[list[Row], bool]:
    """The list's rows (at most `limit`) and whether more were left off."""
    found = list(visits[: limit + 1])
    rows = []
    for visit in found[:limit]:
        row = Row(visit=visit, surgeon_id=surgeon_id_of(staff), now=now)
        today = row.today
        if row.programme_ends_here:
            row.end_form = EndProgrammeForm(date=today.isoformat())
        if refusal is not None:
            if refusal.visit_id == visit.pk:
                row.error = refusal.message
            if row.end_form is not None and refusal.procedure_id == visit.procedure_id:
                row.end_form = EndProgrammeForm(
                    date=refusal.values.get("date", ""),
                    reason=refusal.values.get("reason", ""),
                    error=refusal.message,
                )
        rows.append(row)
    return rows, len(found) > limit


def _week(staff: Staff, period: Period, today: dt.date) -> list[Day]:
    """Monday to Friday, and the weekend when something is booked on it."""
    end = period.monday + dt.timedelta(days=7)
    booked = _visits(staff).booked_with(
        surgeon_id_of(staff), start_of_day(period.monday), start_of_day(end)
    )
    by_day: dict[dt.date, list[Visit]] = {}
    for visit in booked:
        if visit.start is not None:  # always, for a held slot
            by_day.setdefault(local_date(visit.start), []).append(visit)
    days = []
    for offset in range(7):
        date = period.monday + dt.timedelta(days=offset)
        if offset >= WORKING_DAYS and date not in by_day:
            continue
        days.append(Day(date=date, is_today=date == today, visits=by_day.get(date, [])))
    return days


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
    refusal: Refusal | None = None,
    status: int = 200,
) -> HttpResponse:
    staff = staff_of(request.user)
    now = clock.now()
    today = local_date(now)
    visits = _visits(staff)
    # The list's candidates first, each kind stopped at the list's length.
    chosen = Visit.objects.visible_to(staff).upcoming_first(
        today, period.days, period.limit("upcoming") + 1
    )
    upcoming, more_upcoming = _rows(
        _related(Visit.objects.filter(pk__in=chosen)).upcoming(today, period.days),
        staff=staff,
        now=now,
        refusal=refusal,
        limit=period.limit("upcoming"),
    )
    overdue, more_overdue = _rows(
        visits.overdue(today).order_by("window_end", "due_date", "id"),
        staff=staff,
        now=now,
        refusal=refusal,
        limit=period.limit("overdue"),
    )
    lost, more_lost = _lost(staff, now=now, today=today, limit=period.limit("lost"))
    context = {
        "title": "My reviews",
        "lost": lost,
        "more_lost": more_lost,
        "lost_recent_days": LOST_RECENT_DAYS,
        "period": period,
        "today": today,
        "last_day": today + dt.timedelta(days=period.days),
        "upcoming": upcoming,
        "more_upcoming": more_upcoming,
        "overdue": overdue,
        "more_overdue": more_overdue,
        "list_limit": LIST_LIMIT,
        "week": _week(staff, period, today),
        "week_end": period.monday + dt.timedelta(days=6),
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


def _back(period: Period, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{PAGE_URL}{period.query()}#{anchor}")


def _raise_for_scope(error: DomainError) -> None:
    """Another surgeon's object is not found; one merely covered is refused."""
    if isinstance(error, NotFound):
        raise Http404(error.message)
    if isinstance(error, Forbidden):
        raise PermissionDenied(error.message)


@require_POST
@role_required(*SURGEON_ROLES)
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    period = read_period(request.POST, clock.today())
    try:
        visit = access_visit(request.user, pk, action="complete")
        services.complete_visit(
            visit_id=visit.pk,
            actor=request.user,  # type: ignore[arg-type]
            now=clock.now(),
        )
    except DomainError as error:
        _raise_for_scope(error)
        messages.error(request, error.message)
        refusal = Refusal(visit_id=pk, message=error.message)
        return _page(request, period, refusal=refusal, status=error.status)
    label = visit.procedure.patient.label()
    messages.success(request, f"Saved: {label}'s visit is completed.")
    return _back(period, f"visit-{pk}")


@require_POST
@role_required(*SURGEON_ROLES)
def end_annual_reviews(request: HttpRequest, pk: int) -> HttpResponse:
    today = clock.today()
    period = read_period(request.POST, today)
    values = {
        "date": request.POST.get("date", "").strip(),
        "reason": request.POST.get("reason", "").strip(),
    }
    try:
        procedure = access_procedure(request.user, pk, action="end_annual_reviews")
        result = services.end_annual_reviews(
            procedure_id=procedure.pk,
            end_date=values["date"],
            reason=values["reason"],
            today=today,
            actor=request.user,  # type: ignore[arg-type]
        )
    except DomainError as error:
        _raise_for_scope(error)
        message = error.message[:1].upper() + error.message[1:]
        messages.error(request, message)
        refusal = Refusal(procedure_id=pk, message=message, values=values)
        return _page(request, period, refusal=refusal, status=error.status)
    label = procedure.patient.label()
    ended = result.procedure.annual_reviews_ended_on or values["date"]
    cancelled = len(result.cancelled)
    said = f"Saved: {label}'s annual reviews end on {formats.date_format(ended)}"
    if cancelled:
        plural = "s" if cancelled != 1 else ""
        said += f"; {cancelled} review{plural} after it cancelled"
    messages.success(request, said + ".")
    return _back(period, "upcoming")
