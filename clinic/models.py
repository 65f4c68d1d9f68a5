"""Who was operated on, by whom, and what was done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from clinic import kinds, search
from core import db

if TYPE_CHECKING:
    from clinic.roles import Staff


def texts_held(prefix: str = "") -> Q:
    """`Patient.texts_held` as a condition, on `prefix` ("patient__")."""
    return Q(**{f"{prefix}phone": models.F(f"{prefix}wrong_phone")}) & ~Q(
        **{f"{prefix}phone": ""}
    )


class PatientQuerySet(models.QuerySet["Patient"]):
    def visible_to(self, staff: Staff) -> PatientQuerySet:
        """Everyone for the front desk and admins; a surgeon's own patients:
        those they operated, and those with a visit booked with them (a
        covering colleague sees the patient they will see)."""
        if staff.sees_everything:
            return self
        if staff.surgeon_id is not None:
            return self.filter(
                pk__in=Procedure.objects.of_surgeon(staff.surgeon_id).values(
                    "patient_id"
                )
            )
        return self.none()

    def search(self, q: str) -> PatientQuerySet:
        """The patients `q` finds: by a name without its accents or capitals,
        a record number, a phone number as typed, or a birth date
        (`clinic.search`)."""
        return self.filter(search.patient_condition(q))


RECORD_NUMBER_MAX_LENGTH = 32
RECORD_NUMBER_RULE = (
    "Record numbers hold letters, digits, and - / . _ or spaces between them "
    "(no other sign)."
)
# What record numbers hold in practice (MRN00001, H-100231, 2024/0031), and
# nothing a spreadsheet could take for a formula or a list separator: the
# number is written into every CSV the clinic exports.
validate_record_number = RegexValidator(
    r"\A[A-Za-z0-9](?:[A-Za-z0-9 ./_-]*[A-Za-z0-9])?\Z",
    RECORD_NUMBER_RULE,
    code="invalid_record_number",
)


class Reminders(models.TextChoices):
    """The channel a patient agreed to be reminded by; none by default."""

    SMS = "sms", "By SMS"
    EMAIL = "email", "By email"
    NONE = "none", "No reminders"


PHONE_MAX_LENGTH = 16  # E.164: "+" and at most 15 digits
# What is typed about a patient, wherever it is (the API, the admin).
PATIENT_DETAILS = (
    "record_number",
    "given_name",
    "family_name",
    "birth_date",
    "phone",
    "email",
    "reminders",
)


class Patient(models.Model):
    record_number = models.CharField(
        max_length=RECORD_NUMBER_MAX_LENGTH,
        unique=True,
        validators=[validate_record_number],
        help_text="The clinic's medical record number.",
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    phone = models.CharField(
        max_length=PHONE_MAX_LENGTH,
        blank=True,
        default="",
        help_text="In E.164 (+34612345678); typed in any format.",
    )
    email = models.EmailField(blank=True, default="")
    reminders = models.CharField(
        max_length=8,
        choices=Reminders.choices,
        default=Reminders.NONE,
        help_text="The channel the patient agreed to be reminded by.",
    )
    # The number a call or a text found to reach someone else, and when. No
    # text goes to it while it is the patient's phone (`texts_held`): a
    # corrected number, or a later call that reaches the patient, lifts it.
    wrong_phone = models.CharField(
        max_length=PHONE_MAX_LENGTH,
        blank=True,
        default="",
        editable=False,
        help_text="Reported to reach someone else; no text goes to it.",
    )
    wrong_phone_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The names folded (`clinic.search.fold`), which the search compares:
    # written from the names on every save, never typed.
    search_name = models.CharField(max_length=201, editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "record_number"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(record_number=""), name="patient_record_number_not_blank"
            ),
            # "mrn00012" is MRN00012: one patient, however the number is typed
            # (`parse_record_number` writes it in capitals, everywhere).
            models.CheckConstraint(
                condition=Q(record_number=Upper("record_number")),
                name="patient_record_number_in_capitals",
            ),
            models.CheckConstraint(
                condition=Q(reminders__in=Reminders.values),
                name="patient_reminders_known",
            ),
            # Consent to a channel needs its address; whether a number takes
            # texts is libphonenumber's to say (`clinic.phones`), not SQL's.
            models.CheckConstraint(
                condition=~Q(reminders=Reminders.SMS, phone=""),
                name="patient_sms_reminders_need_phone",
            ),
            models.CheckConstraint(
                condition=~Q(reminders=Reminders.EMAIL, email=""),
                name="patient_email_reminders_need_email",
            ),
        ]
        indexes = [
            # The search by phone and by birth date (`clinic.search`); names
            # are found through a trigram index on PostgreSQL (migration).
            models.Index(
                fields=["phone"], name="patient_by_phone", condition=~Q(phone="")
            ),
            models.Index(fields=["birth_date"], name="patient_by_birth_date"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.record_number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_name = search.search_name(self.given_name, self.family_name)
        fields = kwargs.get("update_fields")
        if fields is not None and {"given_name", "family_name"} & set(fields):
            kwargs["update_fields"] = {*fields, "search_name"}
        super().save(*args, **kwargs)

    @property
    def texts_held(self) -> bool:
        """Whether the patient's phone is the number reported wrong."""
        return bool(self.phone) and self.phone == self.wrong_phone

    @property
    def initials(self) -> str:
        return "".join(part[:1].upper() for part in (self.given_name, self.family_name))

    def label(self) -> str:
        """The minimum necessary to recognise the patient (calendars, lists)."""
        return settings.PATIENT_LABEL_FORMAT.format(
            initials=self.initials,
            record_number=self.record_number,
            given_name=self.given_name,
            family_name=self.family_name,
        )


class SurgeonQuerySet(models.QuerySet["Surgeon"]):
    def active(self) -> SurgeonQuerySet:
        return self.filter(active=True)


class Surgeon(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surgeon",
        help_text="The login of this surgeon, who then sees their own patients.",
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    objects = SurgeonQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]

    def __str__(self) -> str:
        return f"Dr. {self.given_name} {self.family_name}"


class ProcedureKind(models.TextChoices):
    ENDOSCOPIC = kinds.ENDOSCOPIC, "Endoscopic spine surgery"
    ENDOSCOPIC_STEM_CELL = (
        kinds.ENDOSCOPIC_STEM_CELL,
        "Endoscopic surgery with stem-cell disc implant",
    )


class ProcedureStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class ProcedureQuerySet(models.QuerySet["Procedure"]):
    def active(self) -> ProcedureQuerySet:
        return self.filter(status=ProcedureStatus.ACTIVE)

    def of_surgeon(self, surgeon_id: int) -> ProcedureQuerySet:
        """The procedures a surgeon operated, and those with a visit booked
        with them (holding its slot, as `VisitQuerySet.of_surgeon` says). The
        visits are named by relation (`visits`), since `followup`, which
        defines them, sits above this app."""
        covered = Procedure.objects.filter(
            visits__surgeon_id=surgeon_id, visits__start__isnull=False
        )
        return self.filter(Q(surgeon_id=surgeon_id) | Q(pk__in=covered.values("pk")))

    def visible_to(self, staff: Staff) -> ProcedureQuerySet:
        """Every procedure for the front desk and admins; a surgeon's own."""
        if staff.sees_everything:
            return self
        if staff.surgeon_id is not None:
            return self.of_surgeon(staff.surgeon_id)
        return self.none()

    def with_annual_programme(self) -> ProcedureQuerySet:
        """Active stem-cell procedures whose annual reviews still run."""
        return self.active().filter(
            kind=ProcedureKind.ENDOSCOPIC_STEM_CELL, annual_reviews_ended_on=None
        )


class Procedure(models.Model):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="procedures"
    )
    surgeon = models.ForeignKey(
        Surgeon, on_delete=models.PROTECT, related_name="procedures"
    )
    kind = models.CharField(max_length=32, choices=ProcedureKind.choices)
    surgery_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=ProcedureStatus.choices, default=ProcedureStatus.ACTIVE
    )
    status_reason = models.CharField(max_length=500, blank=True)
    annual_reviews_ended_on = models.DateField(null=True, blank=True)
    annual_reviews_end_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        ordering = ["-surgery_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=kinds.KINDS), name="procedure_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ProcedureStatus.values),
                name="procedure_status_known",
            ),
        ]
        indexes = [
            # A surgeon's operated procedures as ids, from the index alone:
            # `VisitQuerySet.of_surgeon` hashes them once per list, and a
            # surgeon with ten years of history has ten thousand of them.
            models.Index(fields=["surgeon", "id"], name="procedure_ids_by_surgeon"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.surgery_date} ({self.patient})"

    def get_additional_data(self) -> dict[str, int]:
        """Stored with each audit entry, so a patient's trail finds it."""
        return {"patient_id": self.patient_id}

    def is_active(self) -> bool:
        return self.status == ProcedureStatus.ACTIVE


class PatientViewChannel(models.TextChoices):
    PAGE = "page", "Patient page"
    API = "api", "API"
    ADMIN = "admin", "Admin"


class PatientView(models.Model):
    """A member of staff read a patient's record: who, whom, when, how.

    Append-only: written by `clinic.audit.record_patient_view`, never
    changed. The names are copied so that the row still says who and whom
    if either account or record is ever deleted.
    """

    patient = models.ForeignKey(
        Patient, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    record_number = models.CharField(max_length=32)
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    viewer_username = models.CharField(max_length=150)
    channel = models.CharField(max_length=8, choices=PatientViewChannel.choices)
    viewed_at = models.DateTimeField()

    class Meta:
        ordering = ["-viewed_at", "-id"]
        indexes = [
            models.Index(
                fields=["patient", "viewed_at"], name="patient_view_by_patient"
            ),
            models.Index(fields=["viewer", "viewed_at"], name="patient_view_by_viewer"),
        ]

    def __str__(self) -> str:
        return f"{self.viewer_username} viewed {self.record_number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("A record of a patient view is never changed.")
        super().save(*args, **kwargs)


class PatientReadKind(models.TextChoices):
    API_PATIENTS = "api_patients", "API: patient list or search"
    API_MRI_STUDIES = "api_mri_studies", "API: a patient's MRI studies"
    API_CONTACT_ATTEMPTS = "api_contact_attempts", "API: a visit's contact attempts"
    API_MESSAGES = "api_messages", "API: messages to and from patients"
    DESK_SEARCH = "desk_search", "Desk: worklist search"
    DESK_CSV = "desk_csv", "Desk: worklist CSV"
    ADMIN_PATIENTS = "admin_patients", "Admin: patient list or search"
    REPLAN_CSV = "replan_csv", "Admin: re-plan CSV"


class PatientReadQuerySet(models.QuerySet["PatientRead"]):
    def including(self, patient_id: int) -> PatientReadQuerySet:
        """The reads whose results held `patient_id`.

        PostgreSQL answers from a GIN index over the list (made by the
        migration `patient_read`); SQLite, the embedded demo, scans
        (`core.db.holding`), which small clinics afford.
        """
        return db.holding(self, "patient_ids", patient_id)


class PatientRead(models.Model):
    """A member of staff read several rows of patient data at once: a list,
    a search, a patient's MRI studies or contact attempts, an export.

    Who, when, through what (`kind` and `query`, the path and its query
    string), how many rows, and which patients. One row per request, its
    patients a JSON list written by the same insert: a through table would
    be a second statement, and PostgreSQL's ArrayField does not exist on
    SQLite. Append-only, like `PatientView`; ids only, since a patient with
    a procedure is never deleted (`Procedure.patient` protects it).
    """

    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reader_username = models.CharField(max_length=150)
    kind = models.CharField(max_length=24, choices=PatientReadKind.choices)
    query = models.CharField(max_length=1000, blank=True)
    count = models.PositiveIntegerField()
    patient_ids = models.JSONField(default=list)
    read_at = models.DateTimeField()

    objects = PatientReadQuerySet.as_manager()

    class Meta:
        ordering = ["-read_at", "-id"]
        indexes = [
            models.Index(fields=["reader", "read_at"], name="patient_read_by_reader"),
            models.Index(fields=["read_at"], name="patient_read_by_time"),
        ]

    def __str__(self) -> str:
        return f"{self.reader_username} read {self.count} ({self.get_kind_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("A record of a patient read is never changed.")
        super().save(*args, **kwargs)


class CredentialsEpoch(models.Model):
    """How many times an account was deactivated.

    Counted by a database trigger on `auth_user` (migration
    `credentials_end_on_deactivation`), however `is_active` went from true
    to false: a save, a bulk `update()`, raw SQL. The same trigger deletes
    the account's API tokens. A session remembers the count it signed in
    under (`clinic.withdrawal`) and ends when the count moved on, so nothing
    issued before a deactivation works after a reactivation. No row: never
    deactivated since the trigger exists (count 0).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="credentials_epoch",
    )
    epoch = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Credentials epoch {self.epoch} of user {self.user_id}"
