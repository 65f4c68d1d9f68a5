"""The booking page's one form: `start` (one of the offered slots, ISO 8601
with its offset) books or moves the visit; `action=cancel` gives the time
up. `sequence` is the visit's as the page showed it, so a form sent again
after the visit changed (a replay, a second tab) changes nothing. `offer`
(with `start`) claims an offer of a freed slot (`offers.claims`).

The form is protected by a token of its own rather than Django's CSRF
check: the page is sent with `Referrer-Policy: no-referrer`, under which
browsers post `Origin: null`, which Django's check refuses. `form_token`
is the link's id signed with a time stamp (`TimestampSigner`): a POST must
come from a page served for this very link within `FORM_TOKEN_MAX_AGE`. A
site that wanted to post for the patient would need the link's own secret
token, in its URL, to get one.

Refusals are said to the patient: never a field code, a visit's id or a
member of staff's login (`words`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import signing

from followup.exceptions import DomainError, InvalidInput
from followup.services.parsing import parse_aware_datetime
from web.refusals import say, when

CANCEL = "cancel"
CHOOSE = "Choose one of the times below."
FORM_TOKEN_MAX_AGE = 24 * 60 * 60
FORM_SALT = "web.patient_link.form"
_SIGNER = signing.TimestampSigner(salt=FORM_SALT)
STALE_PAGE = f"This page was open too long, so nothing was done. {CHOOSE}"


def form_token(link_id: int) -> str:
    """What the page's form carries to show it was served for this link."""
    return _SIGNER.sign(str(link_id))


def _from_this_link(value: str, link_id: int) -> bool:
    try:
        signed = _SIGNER.unsign(value, max_age=FORM_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    return signed == str(link_id)


# An offer's refusals (`offers.claims`), by code; `{when}` the time offered.
OFFER_WORDS = {
    "offer_taken": "Someone else booked that time, {when}, a moment before you, "
    "so this offer is closed. Your other free times are below.",
    "offer_expired": "This offer of {when} has ended, so nothing was booked. " + CHOOSE,
    "offer_claimed": "You have booked that time already.",
    "offer_closed": "This offer is closed, so nothing was booked. " + CHOOSE,
    "offer_unknown": "That offer is not one made to you. " + CHOOSE,
    "offer_other_slot": "That is not the time offered. " + CHOOSE,
}


def words(error: DomainError) -> str:
    """A refusal as the patient reads it."""
    if error.code in OFFER_WORDS:
        start = error.params.get("start")
        return OFFER_WORDS[error.code].format(when=when(start) if start else "")
    if error.code in ("slot_taken", "slot_not_offered"):
        start = error.params.get("start")
        said = f"That time, {when(start)}," if start else "That time"
        return f"{said} has just been taken or is no longer free. {CHOOSE}"
    if error.code == "stale":
        return (
            "Your visit changed after this page was shown, so nothing was done. "
            "Here it is as it is now."
        )
    if error.code == "time_passed":
        return (
            f"Your time, {when(error.params['start'])}, has passed, so it can no "
            "longer be changed here. Please call the clinic."
        )
    if error.code in ("invalid_datetime", "naive_datetime", "start_in_past"):
        return f"That time cannot be booked. {CHOOSE}"
    return say(error)


class SlotForm(forms.Form):
    form_token = forms.CharField(required=False, max_length=200)
    start = forms.CharField(required=False, max_length=40)
    action = forms.CharField(required=False, max_length=20)
    sequence = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    # The offer claimed (`?offer=` of an offer's link): digits.
    offer = forms.RegexField(required=False, regex=r"^[0-9]{1,18}$", max_length=18)

    def __init__(self, *args: Any, link_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.link_id = link_id

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not _from_this_link(data.get("form_token") or "", self.link_id):
            raise forms.ValidationError(STALE_PAGE)
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
