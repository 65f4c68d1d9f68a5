"""The surgeon's two actions as forms: complete a visit, end an annual-review
programme.

Each field is read by the services' own parsers, in their words; the service
called on save checks everything again inside its transaction, and its
refusal becomes the form's error (`add_error(None, message)`). A form knows
the object it acts on, so that a refused one goes back to its own row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from followup.services.parsing import parse_date, required_text
from web.forms import checked, raw_text, sequence_seen

REASON_MAX_LENGTH = 500  # the service's own bound


class RowForm(forms.Form):
    """An action of one row; `message` is what a refusal says beside it."""

    @property
    def message(self) -> str:
        return " ".join(
            str(error) for errors in self.errors.values() for error in errors
        )


class CompleteForm(RowForm):
    """Completing a visit: nothing to type, only the visit, as the row
    showed it (its `sequence`: a visit changed since is refused as stale)."""

    sequence = raw_text()

    def clean_sequence(self) -> int | None:
        return sequence_seen(self.cleaned_data["sequence"])

    def __init__(self, *args: Any, visit_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.visit_id = visit_id


class EndProgrammeForm(RowForm):
    """Ending the annual-review programme of a procedure on a date, and why."""

    date = raw_text(label="End date", strip=True)
    reason = raw_text(label="Reason", strip=True)
    # Its overdue reviews end too: due before the end date, the plan keeps them.
    end_overdue = forms.BooleanField(required=False)

    def __init__(self, *args: Any, procedure_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.procedure_id = procedure_id

    def clean_date(self) -> dt.date:
        return checked(parse_date, self.cleaned_data["date"], field_name="Date")

    def clean_reason(self) -> str:
        return checked(
            required_text,
            self.cleaned_data["reason"],
            field_name="Reason",
            max_length=REASON_MAX_LENGTH,
        )
