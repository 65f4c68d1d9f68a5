"""What the pages' forms share: each field is read by the services' own
parsers and checks, and the contact attempt's form, recorded on several pages.

A form never decides what is valid on its own: `parse_date`,
`check_birth_date`, `check_surgery_date`, `parse_kind` and `required_text`
give the same answer, in the same words, as the API, the admin and the CSV
import. The service called on save checks everything again, inside its
transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.template.defaultfilters import pluralize
from django.utils.formats import date_format

from clinic import phones
from followup import services
from followup.exceptions import DomainError, InvalidInput
from followup.models import ContactAttempt, ContactChannel, ContactOutcome, Visit
from followup.services.outreach import care_ending
from followup.services.parsing import parse_choice, parse_date, text_only
from web.query_text import whole_number
from web.refusals import say


class DateInput(forms.DateInput):
    # The browser's date picker, which submits YYYY-MM-DD: the services' format.
    input_type = "date"


def checked(check: Any, *args: Any, **kwargs: Any) -> Any:
    """A service check's refusal as the field's error, in the page's words."""
    try:
        return check(*args, **kwargs)
    except DomainError as error:
        raise forms.ValidationError(say(error), code=error.code) from None


def raw_text(**kwargs: Any) -> forms.CharField:
    """A field read as typed: the services' parsers say what is required,
    and refuse a NUL in their own words, in place of Django's checks."""
    field = forms.CharField(**{"required": False, "strip": False, **kwargs})
    field.validators = []
    return field


def sequence_seen(raw: str) -> int | None:
    """The visit's `sequence` a row was shown with (a hidden field): None
    when the form carries none, else a whole number, which the service
    compares with the visit's own (`followup.services.staleness`)."""
    if not raw:
        return None
    sequence = whole_number(raw)
    if sequence is None or sequence < 0:
        raise forms.ValidationError(
            "This page's copy of the visit is unreadable; reload the page."
        )
    return sequence


class ContactAttemptForm(forms.Form):
    """A contact attempt, wherever one is recorded (the desk's rows, the
    patient page). The channel and the outcome are the service's lists, and
    a call-back date's fit with the outcome its rule: both are checked there."""

    channel = raw_text()
    outcome = raw_text()
    note = raw_text()
    call_back_on = raw_text()
    # The visit's sequence as the page showed it (`sequence_seen`).
    sequence = raw_text()

    def clean_sequence(self) -> int | None:
        return sequence_seen(self.cleaned_data["sequence"])

    def clean_channel(self) -> ContactChannel:
        channel = self.cleaned_data["channel"]
        return checked(parse_choice, channel, ContactChannel, "channel")  # type: ignore[no-any-return]

    def clean_outcome(self) -> ContactOutcome:
        outcome = self.cleaned_data["outcome"]
        return checked(parse_choice, outcome, ContactOutcome, "outcome")  # type: ignore[no-any-return]

    def clean_note(self) -> str:
        return str(checked(text_only, self.cleaned_data["note"], field_name="note"))

    def clean_call_back_on(self) -> dt.date | None:
        day = self.cleaned_data["call_back_on"].strip()
        if not day:
            return None
        return required_date(day, "call_back_on")

    def record(self, *, visit_id: int, actor: User, now: dt.datetime) -> ContactAttempt:
        """Record the attempt. A `sequence` posted with it (the visit as the
        page showed it) lets the service refuse a "declined" from a page
        older than the visit as stale."""
        return services.record_contact_attempt(
            visit_id=visit_id,
            channel=self.cleaned_data["channel"],
            outcome=self.cleaned_data["outcome"],
            note=self.cleaned_data["note"],
            call_back_on=self.cleaned_data["call_back_on"],
            actor=actor,
            now=now,
            sequence=self.cleaned_data.get("sequence"),
        )


def attempt_said(attempt: ContactAttempt) -> str:
    """What a page says of an attempt it recorded: "Phone attempt recorded:
    wrong number; no text goes to 612 34 56 78 until it is corrected."."""
    said = f"{attempt.get_channel_display()} attempt recorded: "
    said += attempt.get_outcome_display().lower()
    if attempt.call_back_on:
        said += f", to call back on {date_format(attempt.call_back_on)}"
    patient = attempt.visit.patient
    if attempt.outcome == ContactOutcome.WRONG_NUMBER and patient.texts_held:
        number = phones.for_display(patient.phone)
        said += f"; no text goes to {number} until it is corrected"
    return f"{said}."


class ConfirmationNeeded(DomainError):
    """An outcome that ends care, typed on a page but not yet confirmed: the
    form comes back as typed, saying what it would cancel; nothing changes.
    Not an error, so a page answers it with 200."""

    status = 200
    default_code = "confirm"


def confirm_care_ending(form: forms.Form, visit: Visit) -> None:
    """Refuse (`ConfirmationNeeded`) a declined, moved-away or deceased
    outcome posted without `confirm=yes`, leaving on the form (`ending`) the
    visits and programmes it would end. The API records them at once."""
    if form.data.get("confirm") == "yes":
        return
    ending = care_ending(visit=visit, outcome=form.cleaned_data["outcome"])
    if ending is None:
        return
    form.ending = ending  # type: ignore[attr-defined]
    visits = len(ending.visits)
    said = f"“{ending.outcome_label}” cancels {visits} open visit{pluralize(visits)}"
    if ending.programmes:
        said += " and ends the annual reviews"
    raise ConfirmationNeeded(
        f"{said}. Check the list below and confirm, or choose another outcome.",
    )


def required_date(value: str, label: str) -> dt.date:
    """A date typed in a form, read by the services' parser; empty is refused."""
    if not value.strip():
        raise forms.ValidationError(f"{label} is required.", code="required")
    try:
        return parse_date(value, field_name=label)
    except InvalidInput as error:
        raise forms.ValidationError(say(error), code=error.code) from None
