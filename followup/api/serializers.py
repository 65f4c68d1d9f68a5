"""Visit JSON, its history, slots, and the inputs of the visit commands."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import TextChoices
from django.utils.dateparse import parse_date
from rest_framework import serializers

from clinic.clock import start_of_day
from clinic.models import Surgeon
from followup.exceptions import InvalidInput
from followup.models import (
    FHIR_STATUS,
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    MriStatus,
    Visit,
    VisitEvent,
)
from followup.services.parsing import parse_aware_datetime

OFFSET_EXAMPLE = "2026-12-01T09:00:00+01:00"
# The calendars' export states (feeds.models.ExportState), named here so the
# visit API reads them without importing the layer above; a test checks
# that the two agree. A visit the calendars have not seen yet is pending.
EXPORT_STATES = ("pending", "exported", "failed", "nothing_to_push")


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its UTC offset.

    A wall time without an offset is ambiguous on the night clocks go back, so
    it is refused rather than guessed. Read by the services' own parser, so
    the API and the services refuse the same values with the same words.
    """

    def to_internal_value(self, value: Any) -> dt.datetime:
        if not isinstance(value, dt.datetime | str):
            value = str(value)
        try:
            return parse_aware_datetime(value, field_name=self.field_name or "value")
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None


class EnumChoiceField(serializers.ChoiceField):
    """A choice of a `TextChoices`, read as its member: the services take the
    enum, not the text."""

    def __init__(self, enum: type[TextChoices], **kwargs: Any) -> None:
        self.enum = enum
        super().__init__(choices=enum.choices, **kwargs)

    def to_internal_value(self, data: Any) -> TextChoices:
        return self.enum(super().to_internal_value(data))


class VisitSerializer(serializers.ModelSerializer[Visit]):
    patient = serializers.IntegerField(source="patient_id", read_only=True)
    patient_label = serializers.CharField(
        source="procedure.patient.label", read_only=True
    )
    rule = serializers.CharField(source="rule.code", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    fhir_status = serializers.ChoiceField(
        choices=sorted(set(FHIR_STATUS.values())), read_only=True
    )
    export_state = serializers.ChoiceField(
        choices=EXPORT_STATES,
        source="export_state_value",
        read_only=True,
        help_text="Where the visit's calendar entry stands on its way to the "
        "surgeon's CalDAV calendar.",
    )
    mri_status = serializers.ChoiceField(
        choices=MriStatus.values,
        read_only=True,
        help_text="For a visit that requires an MRI: `done` (a study with its "
        "report, performed at most MRI_VALID_DAYS before the visit, or before "
        "its window's end while unbooked), `report_pending`, `missing`; "
        "`not_needed` otherwise.",
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "procedure",
            "patient",
            "patient_label",
            "rule",
            "rule_name",
            "occurrence",
            "status",
            "fhir_status",
            "due_date",
            "window_start",
            "window_end",
            "duration_minutes",
            "requires_mri",
            "mri_status",
            "start",
            "end",
            "surgeon",
            "needs_rebooking",
            "late_by_days",
            "confirmed",
            "confirmed_at",
            "sequence",
            "cancel_reason",
            "export_state",
            "updated_at",
        ]
        read_only_fields = fields


class VisitEventSerializer(serializers.ModelSerializer[VisitEvent]):
    # The name kept at write time: the history names a deleted account too.
    actor = serializers.CharField(
        source="actor_name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = VisitEvent
        fields = [
            "id",
            "at",
            "action",
            "actor",
            "from_status",
            "to_status",
            "reason",
            "start_before",
            "end_before",
            "start_after",
            "end_after",
            "details",
        ]
        read_only_fields = fields


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    surgeon = serializers.IntegerField(source="surgeon_id")
    late = serializers.BooleanField(
        help_text="After the visit's window: an overdue visit booked late."
    )


class SlotListSerializer(serializers.Serializer):
    results = SlotSerializer(many=True, source="slots")
    detail = serializers.CharField(
        allow_null=True,
        help_text="Why there is no slot, when `results` is empty; else null.",
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["detail"] = data["detail"] or None
        return data


class SequenceSerializer(serializers.Serializer):
    """The optional `sequence` every visit command takes: the one the client
    last read. A visit changed since answers 409 `stale`, changing nothing."""

    sequence = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=2**31 - 1,
        help_text="The visit's `sequence` as last read; when given and the "
        "visit has changed since, 409 `stale` and nothing changes.",
    )


class BookingSerializer(SequenceSerializer):
    start = AwareDateTimeField(help_text=f"With its UTC offset, e.g. {OFFSET_EXAMPLE}.")
    surgeon = serializers.PrimaryKeyRelatedField(queryset=Surgeon.objects.all())
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        default="",
        help_text="Why the visit is booked outside its window (needs permission).",
    )


class UnbookSerializer(SequenceSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default=""
    )


class CancelVisitSerializer(SequenceSerializer):
    reason = serializers.CharField(max_length=500)


class ReopenVisitSerializer(CancelVisitSerializer):
    """Why a cancelled visit is reopened; the history keeps it."""


class SlotQuerySerializer(serializers.Serializer):
    # `from` is a Python keyword: the field is declared after the class.
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)
    surgeon = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Another surgeon than the visit's own.",
    )

    def validate_from(self, value: str) -> dt.datetime:
        text = value.strip()
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is not None:
            return start_of_day(day)
        return AwareDateTimeField().to_internal_value(text)


SlotQuerySerializer._declared_fields["from"] = serializers.CharField(
    required=False,
    help_text=(
        "Propose slots from this date (YYYY-MM-DD, clinic time) or datetime "
        f"with offset ({OFFSET_EXAMPLE}) on."
    ),
)


class ReviewQuerySerializer(serializers.Serializer):
    surgeon = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Whose patients (front desk, admin); a surgeon sees their own.",
    )


class UpcomingQuerySerializer(ReviewQuerySerializer):
    days = serializers.IntegerField(
        required=False, default=30, min_value=1, max_value=366
    )


class ContactAttemptSerializer(serializers.ModelSerializer[ContactAttempt]):
    """A contact attempt, note included: staff only, never a feed."""

    # The name kept at write time: the history names a deleted account too.
    actor = serializers.CharField(
        source="actor_name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = ContactAttempt
        fields = [
            "id",
            "visit",
            "at",
            "actor",
            "channel",
            "outcome",
            "note",
            "call_back_on",
        ]
        read_only_fields = fields


def _choice_field(choices: type[ContactChannel | ContactOutcome], name: str) -> Any:
    known = ", ".join(choices.values)
    return EnumChoiceField(
        choices,
        error_messages={
            "invalid_choice": f'Unknown {name} "{{input}}"; use one of: {known}.'
        },
    )


class ContactAttemptInputSerializer(serializers.Serializer):
    channel = _choice_field(ContactChannel, "channel")
    outcome = _choice_field(ContactOutcome, "outcome")
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="Staff-only: never in a calendar, a feed or a log.",
    )
    call_back_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="With call_back_later only: the date (after today) to call "
        "back; the visit leaves the call list until then.",
    )
