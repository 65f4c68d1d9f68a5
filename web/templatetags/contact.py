"""Words for contact attempts and MRI statuses, on the desk, patient and surgeon
pages."""

from __future__ import annotations

from django import template
from django.db.models import TextChoices

from followup.models import ContactOutcome, MriStatus

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
