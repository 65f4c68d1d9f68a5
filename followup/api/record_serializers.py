"""Patient, surgeon and procedure JSON, and the inputs of their commands."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from clinic.models import (
    PATIENT_DETAILS,
    RECORD_NUMBER_MAX_LENGTH,
    Patient,
    Procedure,
    ProcedureKind,
    Reminders,
    Surgeon,
    validate_record_number,
)
from clinic.phones import MAX_TYPED_LENGTH
from followup.api.serializers import EnumChoiceField, VisitSerializer
from followup.models import MriStudy
from followup.services.parsing import (
    EMAIL_MAX_LENGTH,
    check_consent,
    parse_email,
    parse_phone,
)
from followup.services.patients import CONTACT_FIELDS, Contact


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
    # Text, "" when none is known (not an `email`-formatted string).
    email = serializers.CharField(read_only=True)
    texts_held = serializers.BooleanField(
        read_only=True,
        help_text="True while `phone` is a number a call or text found to "
        "reach someone else: no text goes to it until it is corrected or a "
        "later call reaches the patient.",
    )

    class Meta:
        model = Patient
        fields = ["id", *PATIENT_DETAILS, "texts_held", "created_at", "updated_at"]
        read_only_fields = fields


class ContactFields(serializers.Serializer):
    """A patient's contact details and consent, read by the services'
    parsers; a refusal names its field (a 400 with it in `errors`)."""

    phone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_TYPED_LENGTH,
        help_text="Any format; read in CLINIC_PHONE_REGION unless it starts "
        "with a country code; stored and answered in E.164. Empty for none.",
    )
    email = serializers.CharField(
        required=False, allow_blank=True, max_length=EMAIL_MAX_LENGTH
    )
    reminders = EnumChoiceField(
        Reminders,
        required=False,
        help_text="The channel the patient agreed to: `sms` needs a mobile "
        "`phone`, `email` an `email`. Default `none`.",
    )

    def validate_phone(self, value: str) -> str:
        return parse_phone(value)

    def validate_email(self, value: str) -> str:
        return parse_email(value)


class PatientCreateSerializer(ContactFields):
    record_number = serializers.CharField(
        max_length=RECORD_NUMBER_MAX_LENGTH, validators=[validate_record_number]
    )
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    birth_date = serializers.DateField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = {name: attrs.pop(name) for name in CONTACT_FIELDS if name in attrs}
        contact = Contact(**given)
        # A consent without what it needs: a 400 naming the missing field.
        check_consent(**contact.as_dict())
        attrs["contact"] = contact
        return attrs


class PatientPatchSerializer(RejectUnknownFields, ContactFields):
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
        help_text="A name (accents and capitals do not matter; every word must "
        "match), part of a record number, a phone number in any format, or a "
        "birth date (YYYY-MM-DD, or as the clinic writes it: 2 Mar 1950).",
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


class ReadAsSerializer(serializers.Serializer):
    separator = serializers.ChoiceField(
        choices=[",", ";"], help_text="As the file's header line uses it."
    )
    dates = serializers.ChoiceField(
        choices=["yyyy-mm-dd", "dd/mm/yyyy"],
        help_text="As the file's dates are written (dd/mm/yyyy: d/m/yyyy too).",
    )


class ImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    patients_created = serializers.IntegerField()
    procedures_created = serializers.IntegerField()
    visits_created = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    read_as = ReadAsSerializer(
        allow_null=True,
        help_text="How the file was read (null for an import made before "
        "this was recorded).",
    )


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
