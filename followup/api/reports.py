"""The clinic's follow-up figures: `GET /api/reports/follow-up/`.

The figures are `followup.reports`' (defined there once); this module reads
the query, scopes it to the reader and serialises the answer, as JSON or, with
`?format=csv` (or the `.csv` URL), as CSV written by `core.csv_safety`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.staff import staff_of
from core import api, csv_safety
from core.quoting import quoted
from followup import report_figures, reports
from followup.api.base import MAX_ID, READERS
from followup.models import FollowUpRule


class ReportQuerySerializer(serializers.Serializer):
    # `from` is a Python keyword: the field is declared under its name below.
    to = serializers.DateField(
        help_text="The last day (YYYY-MM-DD) a cohort visit's window may end on."
    )
    rule = serializers.SlugField(
        required=False, max_length=50, help_text="Only this rule's visits (a code)."
    )
    surgeon = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only this surgeon's row (front desk, admin); a surgeon sees "
        "their own row only.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            help_text="The first day (YYYY-MM-DD) a cohort visit's window may end on."
        )
        return {"from": fields.pop("from"), **fields}

    def validate_rule(self, value: str) -> str:
        if not FollowUpRule.objects.filter(code=value).exists():
            raise serializers.ValidationError(
                f"No follow-up rule has code {quoted(value)}."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start: dt.date = attrs["from"]
        end: dt.date = attrs["to"]
        if start > end:
            raise serializers.ValidationError(
                {"to": f"'to' ({end}) is before 'from' ({start})."}
            )
        if (end - start).days > reports.MAX_REPORT_DAYS:
            raise serializers.ValidationError(
                {"to": "A report covers at most 5 years; narrow the dates."}
            )
        return attrs


def _interval(name: str) -> dict[str, serializers.Field]:
    """The two bounds of a rate's 95 % Wilson interval."""
    return {
        f"{name}_ci_{end}": serializers.FloatField(
            allow_null=True,
            help_text=f"The {word} bound, in %, of the 95 % Wilson interval "
            f"of {name}; null with it.",
        )
        for end, word in (("low", "lower"), ("high", "upper"))
    }


def _provided(figure: report_figures.FigureDefinition) -> dict[str, serializers.Field]:
    meaning = figure.meaning[:1].upper() + figure.meaning[1:]
    if figure.kind == "count":
        return {figure.name: serializers.IntegerField(help_text=meaning)}
    field = serializers.FloatField(allow_null=True, help_text=meaning)
    if figure.kind == "number":
        return {figure.name: field}
    return {figure.name: field, **_interval(figure.name)}


class FiguresSerializer(serializers.Serializer):
    """The figures; each is defined in `followup.reports.Figures`, each rate
    with its 95 % Wilson interval beside it; then the figures other apps
    add (`followup.report_figures`), defined where they are measured."""

    def get_fields(self) -> dict[str, serializers.Field]:
        declared = super().get_fields()
        fields: dict[str, serializers.Field] = {}
        for name, field in declared.items():
            fields[name] = field
            if name in reports.RATES:
                fields.update(_interval(name))
        for provider in report_figures.registered():
            for figure in provider.figures:
                fields.update(_provided(figure))
        return fields

    due = serializers.IntegerField(help_text="Cohort visits.")
    completed_in_window = serializers.IntegerField(
        help_text="Completed, the start's clinic-local date inside the window."
    )
    completed_late = serializers.IntegerField(help_text="Completed after the window.")
    lost = serializers.IntegerField(
        help_text="Cancelled (declined, moved away, deceased, or by hand), or "
        "unreachable: still to book after FOLLOWUP_MAX_FAILED_ATTEMPTS "
        "unsuccessful attempts in a row."
    )
    open = serializers.IntegerField(help_text="Neither completed nor lost.")
    pct_in_window = serializers.FloatField(
        allow_null=True, help_text="completed_in_window / due x 100, one decimal."
    )
    median_days_window_open_to_booking = serializers.FloatField(
        allow_null=True,
        help_text="Median days from the window's start to the first booking "
        "(negative when booked before it opened), over the booked visits.",
    )
    pct_contacted_before_close = serializers.FloatField(
        allow_null=True,
        help_text="Visits with a contact attempt or a booking on or before the "
        "window's last day, out of due.",
    )
    pct_returned_within_15_days_of_first_call = serializers.FloatField(
        allow_null=True,
        help_text="Among visits with a contact attempt, those booked or "
        "completed within 15 days of the first attempt.",
    )


class ReportRowSerializer(FiguresSerializer):
    rule = serializers.CharField(help_text="The rule's code.")
    rule_name = serializers.CharField()
    surgeon = serializers.IntegerField(
        help_text="The surgeon the visit is booked with, else its operating surgeon."
    )
    surgeon_name = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    from_ = serializers.DateField()
    to = serializers.DateField()
    rows = ReportRowSerializer(many=True)
    totals = FiguresSerializer()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class CsvRenderer(renderers.BaseRenderer):
    """The report's rows as CSV, through the one CSV writer."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        out = io.StringIO()
        csv_safety.writer(out).writerows(reports.csv_rows(data))
        return out.getvalue().encode("utf-8")


def csv_filename(start: dt.date, end: dt.date) -> str:
    return f"follow-up-{start.isoformat()}-to-{end.isoformat()}.csv"


@extend_schema(
    tags=["reports"],
    summary="The clinic's follow-up figures",
    description=(
        "The cohort is the visits whose window ends within [`from`, `to`]; "
        "visits cancelled because their procedure was cancelled or entered in "
        "error, re-planned away, or whose annual programme ended are left out. "
        "A row per rule x surgeon (the surgeon the visit is booked with, else "
        "the operating surgeon) and the totals over the filtered cohort. A "
        "surgeon sees their own row only. Each rate has its 95 % Wilson "
        "interval beside it (`<rate>_ci_low`, `<rate>_ci_high`); the figures "
        "of reaching the patient (messages) follow follow-up's own. "
        "`?format=csv` (or "
        "`/api/reports/follow-up.csv`) gives the same rows as CSV, totals "
        "last; another `format` is a 404. A report covers at most 5 years."
    ),
    parameters=[ReportQuerySerializer],
    responses={
        (200, "application/json"): ReportSerializer,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV"),
        **api.error_responses(400, 404),
    },
)
class FollowUpReport(APIView):
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]
    roles = {"GET": READERS}

    def get(self, request: Request, format: str | None = None) -> Response:
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        given = query.validated_data
        report = reports.report_for(
            staff_of(request.user),
            start=given["from"],
            end=given["to"],
            rule=given.get("rule"),
            surgeon_id=given.get("surgeon"),
        )
        response = Response(report.as_dict())
        if isinstance(request.accepted_renderer, CsvRenderer):
            name = csv_filename(report.start, report.end)
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        # An error stays JSON ({"detail", "code"}) even when CSV was asked for.
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(
            response.accepted_renderer, CsvRenderer
        ):
            response.accepted_renderer = renderers.JSONRenderer()
            response.accepted_media_type = "application/json"
        return response
