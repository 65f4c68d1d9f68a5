"""`/reports/`: the clinic's follow-up figures, as a table and two charts.

The figures are `followup.reports`' (the API's own); this page reads the
filter (`forms.ReportForm`), asks `reports.report_for` (which scopes a
surgeon to their own row), writes each rate with its 95 % interval in words
and draws the charts as SVG on the server (`rows`). Each section another
app adds (`followup.report_figures`: the messages' figures) is a table of
its own, with its definitions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from clinic import clock
from clinic.models import Surgeon
from followup import reports
from followup.access import staff_of
from web.reports.forms import ReportForm, with_defaults
from web.reports.rows import (
    BAR_HEIGHT,
    CHART_WIDTH,
    FIGURE_HEADERS,
    LABEL_WIDTH,
    OUTCOMES,
    TABLE_COLUMNS,
    SectionRow,
    chart_height,
    core_cells,
    outcome_bars,
    pct_bars,
    section_tables,
)
from web.roles import DESK_ROLES, SURGEON_ROLES, role_required


@role_required(*DESK_ROLES, *SURGEON_ROLES)
def reports_page(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request.user)
    # A surgeon's only choice is themselves: asking for another is refused.
    surgeons = Surgeon.objects.order_by("family_name", "given_name")
    if not staff.sees_everything:
        surgeons = surgeons.filter(pk=staff.surgeon_id or 0)
    form = ReportForm(with_defaults(request.GET, clock.today()), surgeons=surgeons)
    context: dict[str, Any] = {
        "title": "Follow-up figures",
        "form": form,
        "sees_everything": staff.sees_everything,
        "outcomes": OUTCOMES,
        "figure_headers": FIGURE_HEADERS,
        "table_columns": TABLE_COLUMNS,
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
    csv_url = reverse("report-follow-up-csv")
    context.update(
        report=report,
        table_rows=[
            SectionRow(row.rule_name, row.surgeon_name, core_cells(row.figures))
            for row in report.rows
        ],
        table_totals=core_cells(report.totals),
        sections=section_tables(report),
        outcome_bars=outcome_bars(by_rule),
        outcome_height=chart_height(len(by_rule)),
        pct_bars=pct_bars(by_surgeon),
        pct_height=chart_height(len(by_surgeon)),
        csv_url=f"{csv_url}?{urlencode(form.api_query())}",
    )
    return render(request, "web/reports/page.html", context)
