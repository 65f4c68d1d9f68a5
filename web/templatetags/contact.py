"""Words for contact attempts and MRI statuses, on the desk, patient and surgeon
pages."""

from __future__ import annotations

from django import template

from followup.models import ContactOutcome, MriStatus

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
