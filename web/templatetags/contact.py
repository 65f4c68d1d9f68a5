"""Words for contact attempts and MRI statuses, on the desk, patient and surgeon
pages."""

from __future__ import annotations

from django import template

from followup.models import CancelReason, ContactOutcome, MriStatus

register = template.Library()


@register.filter
def outcome_label(value: str | None) -> str:
    try:
        return str(ContactOutcome(value or "").label)
    except ValueError:
        return value or ""


@register.filter
def mri_label(value: str | None) -> str:
    try:
        return str(MriStatus(value or "").label)
    except ValueError:
        return value or ""


# A patient who left the clinic's care, as the mark beside their name says it.
LEFT_CARE_MARKS = {
    CancelReason.MOVED_AWAY: "Moved away",
    CancelReason.DECEASED: "Deceased",
}


@register.filter
def left_care_mark(cause: str | None) -> str:
    return LEFT_CARE_MARKS.get(cause or "", "")  # type: ignore[call-overload]
