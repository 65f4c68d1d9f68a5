"""`/reports/`: the clinic's follow-up figures, as a table and two charts.

The figures are `followup.reports`' (the API's own); this page reads the
date range and filters, asks `reports.report_for` (which scopes a surgeon to
their own row) and draws the charts as SVG on the server: no script, no
chart library, and the table beside each chart carries the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic import clock
from clinic.models import Surgeon
from followup import reports
from followup.access import staff_of
from followup.api.base import MAX_ID
from followup.models import FollowUpRule
from followup.rules import add_months
from web.roles import DESK_ROLES, SURGEON_ROLES, role_required

CSV_URL = "/api/reports/follow-up.csv"
# The stacked bar's parts, in order: (figure, label, CSS class).
OUTCOMES = (
    ("completed_in_window", "Seen in window", "seg--in"),
    ("completed_late", "Seen late", "seg--late"),
    ("lost", "Lost", "seg--lost"),
    ("open", "Open", "seg--open"),
)
CHART_WIDTH = 640
LABEL_WIDTH = 190
BAR_HEIGHT = 22
ROW_GAP = 14


class ReportForm(forms.Form):
    start = forms.DateField(
        label="Windows ending from",
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )
    end = forms.DateField(
        label="to",
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )
    rule = forms.ChoiceField(label="Rule", required=False)
    surgeon = forms.TypedChoiceField(
        label="Surgeon", required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, surgeons: Iterable[Surgeon], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rule_field = cast(forms.ChoiceField, self.fields["rule"])
        surgeon_field = cast(forms.ChoiceField, self.fields["surgeon"])
        rule_field.choices = [("", "All rules")] + [
            (rule.code, rule.name) for rule in FollowUpRule.objects.order_by("name")
        ]
        surgeon_field.choices = [("", "All surgeons")] + [
            (str(surgeon.pk), str(surgeon)) for surgeon in surgeons
        ]

    def clean_surgeon(self) -> int | None:
        value = self.cleaned_data.get("surgeon")
        if value is not None and not 1 <= value <= MAX_ID:
            raise forms.ValidationError("Choose a surgeon from the list.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                self.add_error("end", f"The end ({end}) is before the start ({start}).")
            elif (end - start).days > reports.MAX_REPORT_DAYS:
                self.add_error("end", "A report covers at most 5 years.")
        return data


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months, today included."""
    return add_months(today, -12) + dt.timedelta(days=1), today


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    css: str
    label: str
    count: int


@dataclass(frozen=True)
class OutcomeBar:
    name: str
    y: int
    due: int
    segments: list[Segment]
    summary: str

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT // 2 + 5


@dataclass(frozen=True)
class PctBar:
    name: str
    y: int
    width: float
    value: float | None
    summary: str

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT // 2 + 5

    @property
    def value_x(self) -> float:
        return LABEL_WIDTH + self.width + 6


def _plot_width() -> int:
    return CHART_WIDTH - LABEL_WIDTH - 60


def outcome_bars(groups: list[tuple[str, reports.Figures]]) -> list[OutcomeBar]:
    """A bar per rule: seen in window, late, lost and open as parts of due."""
    bars = []
    plot = _plot_width()
    for index, (name, figures) in enumerate(groups):
        x = float(LABEL_WIDTH)
        segments = []
        for figure, label, css in OUTCOMES:
            count = getattr(figures, figure)
            width = plot * count / figures.due if figures.due else 0.0
            segments.append(Segment(round(x, 1), round(width, 1), css, label, count))
            x += width
        summary = ", ".join(f"{s.label.lower()} {s.count}" for s in segments)
        bars.append(
            OutcomeBar(
                name=name,
                y=index * (BAR_HEIGHT + ROW_GAP),
                due=figures.due,
                segments=segments,
                summary=f"{name}: {figures.due} due; {summary}.",
            )
        )
    return bars


def pct_bars(groups: list[tuple[str, reports.Figures]]) -> list[PctBar]:
    """A bar per surgeon: the share of visits seen in their window."""
    bars = []
    for index, (name, figures) in enumerate(groups):
        value = figures.pct_in_window
        shown = "no visit due" if value is None else f"{value}%"
        bars.append(
            PctBar(
                name=name,
                y=index * (BAR_HEIGHT + ROW_GAP),
                width=round(_plot_width() * (value or 0) / 100, 1),
                value=value,
                summary=f"{name}: {shown} seen in window.",
            )
        )
    return bars


def _height(count: int) -> int:
    return max(count, 1) * (BAR_HEIGHT + ROW_GAP)


@role_required(*DESK_ROLES, *SURGEON_ROLES)
def reports_page(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request.user)
    # A surgeon's only choice is themselves: asking for another is refused.
    surgeons = Surgeon.objects.order_by("family_name", "given_name")
    if not staff.sees_everything:
        surgeons = surgeons.filter(pk=staff.surgeon_id or 0)
    start, end = default_range(clock.today())
    given = request.GET.copy()
    given.setdefault("start", start.isoformat())
    given.setdefault("end", end.isoformat())
    form = ReportForm(given, surgeons=surgeons)
    context: dict[str, Any] = {
        "title": "Follow-up figures",
        "form": form,
        "sees_everything": staff.sees_everything,
        "outcomes": OUTCOMES,
        "chart_width": CHART_WIDTH,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
    }
    if not form.is_valid():
        return render(request, "web/reports/page.html", context, status=400)
    data = form.cleaned_data
    report = reports.report_for(
        staff,
        start=data["start"],
        end=data["end"],
        rule=data["rule"] or None,
        surgeon_id=data["surgeon"],
    )
    by_rule = report.by_rule()
    by_surgeon = report.by_surgeon()
    query = {"from": data["start"].isoformat(), "to": data["end"].isoformat()}
    if data["rule"]:
        query["rule"] = data["rule"]
    if data["surgeon"] is not None:
        query["surgeon"] = str(data["surgeon"])
    context.update(
        report=report,
        outcome_bars=outcome_bars(by_rule),
        outcome_height=_height(len(by_rule)),
        pct_bars=pct_bars(by_surgeon),
        pct_height=_height(len(by_surgeon)),
        csv_url=f"{CSV_URL}?{urlencode(query)}",
    )
    return render(request, "web/reports/page.html", context)
