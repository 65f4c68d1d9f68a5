"""Words for contact attempts and MRI statuses, and patients' phone numbers
as links to call (marked when reported wrong), on the desk, patient and
surgeon pages."""

from __future__ import annotations

from django import template
from django.db.models import TextChoices
from django.utils.html import format_html
from django.utils.safestring import SafeString

from clinic import phones
from clinic.models import Patient
from followup.models import CancelReason, ContactOutcome, MriStatus

register = template.Library()


def _label(choices: type[TextChoices], value: str | None) -> str:
    """The label of one of `choices`, or the value itself when it is none."""
    try:
        return str(choices(value or "").label)
    except ValueError:
        return value or ""


@register.filter
def outcome_label(value: str | None) -> str:
    return _label(ContactOutcome, value)


@register.filter
def mri_label(value: str | None) -> str:
    return _label(MriStatus, value)


@register.filter
def phone_link(e164: str | None) -> SafeString | str:
    """A stored number as the clinic writes it, a `tel:` link a desk phone
    or a mobile dials; "" when there is none."""
    if not e164:
        return ""
    return format_html(
        '<a class="phone" href="tel:{}">{}</a>', e164, phones.for_display(e164)
    )


@register.filter
def patient_phone(patient: Patient) -> SafeString | str:
    """The patient's phone as a link to call, marked when it was reported
    to reach someone else (no text goes to it)."""
    link = phone_link(patient.phone)
    if not link or not patient.texts_held:
        return link
    return format_html(
        '{} <span class="tag tag--wrong-number">Reported wrong</span>', link
    )


# A patient who left the clinic's care, as the mark beside their name says it.
LEFT_CARE_MARKS = {
    CancelReason.MOVED_AWAY: "Moved away",
    CancelReason.DECEASED: "Deceased",
}


@register.filter
def left_care_mark(cause: str | None) -> str:
    return LEFT_CARE_MARKS.get(cause or "", "")  # type: ignore[call-overload]
