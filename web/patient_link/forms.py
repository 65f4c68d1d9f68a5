"""The booking page's one form: `start` (one of the offered slots, ISO 8601
with its offset) books or moves the visit; `action=cancel` gives the time
up. `sequence` is the visit's as the page showed it, so a form sent again
after the visit changed (a replay, a second tab) changes nothing.

Refusals are said to the patient: never a field code, a visit's id or a
member of staff's login (`words`).
"""

from __future__ import annotations

from typing import Any

from django import forms

from followup.exceptions import DomainError, InvalidInput
from followup.services.parsing import parse_aware_datetime
from web.refusals import say, when

CANCEL = "cancel"
CHOOSE = "Choose one of the times below."


def words(error: DomainError) -> str:
    """A refusal as the patient reads it."""
    if error.code in ("slot_taken", "slot_not_offered"):
        start = error.params.get("start")
        said = f"That time, {when(start)}," if start else "That time"
        return f"{said} has just been taken or is no longer free. {CHOOSE}"
    if error.code == "stale":
        return (
            "Your visit changed after this page was shown, so nothing was done. "
            "Here it is as it is now."
        )
    if error.code in ("invalid_datetime", "naive_datetime", "start_in_past"):
        return f"That time cannot be booked. {CHOOSE}"
    return say(error)


class SlotForm(forms.Form):
    start = forms.CharField(required=False, max_length=40)
    action = forms.CharField(required=False, max_length=20)
    sequence = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            raise forms.ValidationError(f"That was not understood. {CHOOSE}")
        if data.get("action") == CANCEL:
            data["start"] = None
            return data
        if data.get("action") or not data.get("start"):
            raise forms.ValidationError(CHOOSE)
        try:
            data["start"] = parse_aware_datetime(data["start"], field_name="start")
        except InvalidInput as error:
            raise forms.ValidationError(words(error)) from None
        return data

    @property
    def message(self) -> str:
        return " ".join(str(error) for error in self.non_field_errors())

    def refuse(self, error: DomainError) -> None:
        self.add_error(None, words(error))
