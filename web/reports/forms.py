"""The report's filter as a form: the range of window ends, and a rule and a
surgeon to narrow it to. The page's query is this form's data; the same
bounds as the API's (`reports.MAX_REPORT_DAYS`, `MAX_ID`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.http.request import QueryDict

from clinic.models import Surgeon
from followup import reports
from followup.api.base import MAX_ID
from followup.models import FollowUpRule
from followup.rules import add_months


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

    def api_query(self) -> dict[str, str]:
        """The same report's query for the API (`from`, `to`, `rule`,
        `surgeon`), for the CSV link."""
        data = self.cleaned_data
        query = {"from": data["start"].isoformat(), "to": data["end"].isoformat()}
        if data["rule"]:
            query["rule"] = data["rule"]
        if data["surgeon"] is not None:
            query["surgeon"] = str(data["surgeon"])
        return query


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months, today included."""
    return add_months(today, -12) + dt.timedelta(days=1), today


def with_defaults(given: QueryDict, today: dt.date) -> QueryDict:
    """The page's query, the dates it leaves out filled with `default_range`."""
    start, end = default_range(today)
    given = given.copy()
    given.setdefault("start", start.isoformat())
    given.setdefault("end", end.isoformat())
    return given
