"""Patient, surgeon and procedure JSON, and the inputs of their commands."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from clinic.models import (
    RECORD_NUMBER_MAX_LENGTH,
    Patient,
    Procedure,
    ProcedureKind,
    Surgeon,
    validate_record_number,
)
from followup.api.serializers import EnumChoiceField, VisitSerializer
from followup.models import MriStudy


class RejectUnknownFields:
    """A correction naming a field that cannot change is refused, not ignored:
    a client that sent it believes it changed."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        initial = getattr(self, "initial_data", {}) or {}
        fields = getattr(self, "fields", {})
        unknown = sorted(str(key) for key in initial if key not in fields)
        if unknown:
            raise serializers.ValidationError(
                dict.fromkeys(unknown, "This field cannot be changed here."),
                code="read_only",
            )
        return attrs


class PatientSerializer(serializers.ModelSerializer[Patient]):
    class Meta:
        model = Patient
        fields = [
            "id",
            "record_number",
            "given_name",
            "family_name",
            "birth_date",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PatientCreateSerializer(serializers.Serializer):
    record_number = serializers.CharField(
        max_length=RECORD_NUMBER_MAX_LENGTH, validators=[validate_record_number]
    )
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    birth_date = serializers.DateField()


class PatientPatchSerializer(RejectUnknownFields, serializers.Serializer):
    record_number = serializers.CharField(
        max_length=RECORD_NUMBER_MAX_LENGTH,
        required=False,
        validators=[validate_record_number],
    )
    given_name = serializers.CharField(max_length=100, required=False)
    family_name = serializers.CharField(max_length=100, required=False)
    birth_date = serializers.DateField(required=False)


class PatientQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Part of a name or record number; every word must match.",
    )


class SurgeonSerializer(serializers.ModelSerializer[Surgeon]):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Surgeon
        fields = ["id", "given_name", "family_name", "name", "active"]
        read_only_fields = fields


class ProcedureSerializer(serializers.ModelSerializer[Procedure]):
    visits = VisitSerializer(many=True, read_only=True)

    class Meta:
        model = Procedure
        fields = [
            "id",
            "patient",
            "surgeon",
            "kind",
            "surgery_date",
            "status",
            "status_reason",
            "annual_reviews_ended_on",
            "annual_reviews_end_reason",
            "visits",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProcedureCreateSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    surgeon = serializers.PrimaryKeyRelatedField(queryset=Surgeon.objects.all())
    kind = EnumChoiceField(ProcedureKind)
    surgery_date = serializers.DateField()


class ProcedurePatchSerializer(RejectUnknownFields, serializers.Serializer):
    kind = EnumChoiceField(ProcedureKind, required=False)
    surgery_date = serializers.DateField(required=False)


class ProcedureCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    entered_in_error = serializers.BooleanField(required=False, default=False)


class EndAnnualReviewsSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The last day of the programme.")
    reason = serializers.CharField(max_length=500)


class PlanChangesSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.IntegerField())
    moved = serializers.ListField(child=serializers.IntegerField())
    flagged = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Booked visits whose slot now lies outside their window.",
    )
    cancelled = serializers.ListField(child=serializers.IntegerField())
    reopened = serializers.ListField(child=serializers.IntegerField())


class WindowSerializer(serializers.Serializer):
    due_date = serializers.DateField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()


class VisitChangeSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[
            "created",
            "moved",
            "flagged_for_rebooking",
            "cancelled",
            "reopened",
            "unchanged",
        ]
    )
    visit = serializers.IntegerField(
        source="visit_id", allow_null=True, help_text="Null for a visit to create."
    )
    rule = serializers.CharField()
    occurrence = serializers.IntegerField()
    before = WindowSerializer(allow_null=True, help_text="Null for a new visit.")
    after = WindowSerializer(allow_null=True, help_text="Null for a cancellation.")


class ProcedureChangeSerializer(serializers.Serializer):
    """A procedure after a command, and the visit ids each change touched.

    With `dry_run`, the procedure as it still is, the ids the correction
    would touch, and `preview`: every visit with its dates before and after.
    """

    procedure = ProcedureSerializer()
    changes = PlanChangesSerializer()
    dry_run = serializers.BooleanField(default=False)
    preview = VisitChangeSerializer(many=True, allow_null=True, default=None)


class DryRunQuerySerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Answer what the correction would change, and write nothing.",
    )


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file (UTF-8, header row).")


class ImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    patients_created = serializers.IntegerField()
    procedures_created = serializers.IntegerField()
    visits_created = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class MriStudySerializer(serializers.ModelSerializer[MriStudy]):
    class Meta:
        model = MriStudy
        fields = [
            "id",
            "patient",
            "performed_on",
            "reference",
            "report_received_on",
            "created_at",
        ]
        read_only_fields = fields


class MriStudyCreateSerializer(serializers.Serializer):
    performed_on = serializers.DateField()
    reference = serializers.CharField(
        max_length=64, help_text="The imaging reference, e.g. a PACS accession number."
    )
    report_received_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Empty while the radiologist's report is due.",
    )
