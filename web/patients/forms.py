"""The patient pages' forms: each field is read by the services' own parsers and checks.

A form never decides what is valid on its own: `parse_date`,
`check_birth_date`, `check_surgery_date`, `parse_kind` and `required_text`
give the same answer, in the same words, as the API, the admin and the CSV
import. The service called on save checks everything again, inside its
transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django import forms
from django.utils.formats import date_format

from clinic.models import Patient, ProcedureKind, Reminders, Surgeon
from clinic.phones import MAX_TYPED_LENGTH
from followup.exceptions import DomainError
from followup.services.import_file import COLUMNS, OPTIONAL_COLUMNS
from followup.services.parsing import (
    EMAIL_MAX_LENGTH,
    check_consent,
    check_surgery_date,
    parse_date,
    parse_email,
    parse_kind,
    parse_name,
    parse_phone,
    parse_record_number,
    parse_reminders,
    reason_text,
    required_text,
)
from followup.services.patients import Contact, check_birth_date
from web.forms import (
    ContactAttemptForm,
    DateInput,
    checked,
    raw_text,
    required_date,
    sequence_seen,
)
from web.refusals import say


class ProcedureFields(forms.Form):
    """A procedure for a patient whose birth date is known (or being typed)."""

    surgeon = forms.TypedChoiceField(
        label="Surgeon",
        coerce=int,
        empty_value=None,
        help_text="Who operated. Only active surgeons are listed.",
    )
    kind = forms.ChoiceField(
        label="Kind of surgery",
        choices=ProcedureKind.choices,
        widget=forms.RadioSelect,
        help_text="A stem-cell implant adds a yearly MRI review.",
    )
    surgery_date = forms.CharField(
        label="Surgery date",
        widget=DateInput,
        help_text="The day of the operation.",
    )

    def __init__(
        self,
        *args: Any,
        today: dt.date,
        birth_date: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.known_birth_date = birth_date
        for bound in self.fields.values():
            bound.error_messages["required"] = f"{bound.label} is required."
        self.surgeons = {s.pk: s for s in Surgeon.objects.active()}
        surgeon_field = self.fields["surgeon"]
        assert isinstance(surgeon_field, forms.TypedChoiceField)  # noqa: S101
        surgeon_field.choices = [("", "Choose a surgeon")] + [
            (pk, str(surgeon)) for pk, surgeon in self.surgeons.items()
        ]
        surgeon_field.error_messages["invalid_choice"] = (
            "Choose one of the clinic's active surgeons from the list."
        )
        surgeon_field.error_messages["required"] = "Choose the surgeon who operated."
        self.fields["kind"].error_messages["invalid_choice"] = (
            "Choose one of the procedure kinds listed."
        )
        self.fields["kind"].error_messages["required"] = "Choose the procedure kind."

    def clean_kind(self) -> ProcedureKind:
        return ProcedureKind(checked(parse_kind, self.cleaned_data["kind"]))

    def clean_surgery_date(self) -> dt.date:
        operated = required_date(self.cleaned_data["surgery_date"], "Surgery date")
        born = self.known_birth_date or self.cleaned_data.get("birth_date")
        checked(check_surgery_date, operated, today=self.today, birth_date=born)
        return operated

    def chosen_surgeon(self) -> Surgeon:
        return self.surgeons[self.cleaned_data["surgeon"]]

    def fingerprint(self) -> str:
        """What the preview showed, so that Save saves that and nothing else."""
        values = [f"{name}={self.cleaned_data[name]}" for name in sorted(self.fields)]
        return hashlib.sha256("\n".join(values).encode()).hexdigest()[:32]


class ContactDetailsFields(forms.Form):
    """A patient's phone, email and the reminders they agreed to, read by the
    services' parsers; a consent without what it needs is refused on the
    field that is missing (`check_consent`)."""

    phone = forms.CharField(
        label="Phone",
        required=False,
        max_length=MAX_TYPED_LENGTH,
        help_text="Any format: 612 34 56 78, or with the country code. A mobile "
        "for reminders by SMS.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label="Email",
        required=False,
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "off"}),
        help_text="Needed for reminders by email.",
    )
    reminders = forms.ChoiceField(
        label="Reminders",
        required=False,
        choices=Reminders.choices,
        initial=Reminders.NONE,
        widget=forms.RadioSelect,
        help_text="Only what the patient agreed to. No reminders: no message is sent.",
    )

    def clean_phone(self) -> str:
        return str(checked(parse_phone, self.cleaned_data["phone"], field_name="Phone"))

    def clean_email(self) -> str:
        return str(checked(parse_email, self.cleaned_data["email"], field_name="Email"))

    def clean_reminders(self) -> Reminders:
        return Reminders(checked(parse_reminders, self.cleaned_data["reminders"]))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if all(name in cleaned for name in ("phone", "email", "reminders")):
            try:
                check_consent(
                    phone=cleaned["phone"],
                    email=cleaned["email"],
                    reminders=cleaned["reminders"],
                )
            except DomainError as error:
                self.add_error(field_of(error), say(error))
        return cleaned

    def contact(self) -> Contact:
        data = self.cleaned_data
        return Contact(
            phone=data["phone"], email=data["email"], reminders=data["reminders"]
        )


def field_of(error: DomainError) -> str | None:
    """The field a refusal names (`parsing.field_error`), if it names one."""
    return str(error.errors[0]["field"]) if error.errors else None


class RegistrationForm(ContactDetailsFields, ProcedureFields):
    """A new patient, their contact details and their procedure, in one form."""

    record_number = forms.CharField(
        label="Record number",
        help_text="The patient's medical record number.",
        max_length=200,
    )
    given_name = forms.CharField(
        label="Given name", max_length=400, help_text="As on their ID."
    )
    family_name = forms.CharField(
        label="Family name", max_length=400, help_text="Both, if they have two."
    )
    birth_date = forms.CharField(
        label="Birth date", widget=DateInput, help_text="Pick or type the date."
    )

    # The patient a duplicate record number belongs to, to offer their page.
    existing_patient: Patient | None = None

    # The CSV import's columns, in the same order.
    field_order = [*COLUMNS, *OPTIONAL_COLUMNS]

    def clean_record_number(self) -> str:
        number = str(
            checked(
                parse_record_number,
                self.cleaned_data["record_number"],
                field_name="Record number",
            )
        )
        self.existing_patient = Patient.objects.filter(record_number=number).first()
        if self.existing_patient is not None:
            raise forms.ValidationError(
                f"A patient with record number {number} already exists. "
                "Open their page to add a procedure.",
                code="duplicate_record_number",
            )
        return number

    # A birth date this long ago is saved only once confirmed (the page's
    # "Yes, born on …" box, sent as `confirm_birth_date` holding the date):
    # a slipped year, not a patient of 112.
    CONFIRM_AGE_YEARS = 110

    # The birth date the page asks to confirm (set by `clean_birth_date`).
    birth_date_to_confirm: dt.date | None = None

    def clean_given_name(self) -> str:
        return _name(self.cleaned_data["given_name"], "Given name")

    def clean_family_name(self) -> str:
        return _name(self.cleaned_data["family_name"], "Family name")

    def clean_birth_date(self) -> dt.date:
        born = required_date(self.cleaned_data["birth_date"], "Birth date")
        checked(check_birth_date, born, today=self.today)
        if born < _years_before(self.today, self.CONFIRM_AGE_YEARS):
            self.birth_date_to_confirm = born
            if not self.birth_date_confirmed:
                raise forms.ValidationError(
                    f"{date_format(born)} is more than {self.CONFIRM_AGE_YEARS} "
                    "years ago: check the year, or tick “Yes, born on "
                    f"{date_format(born)}”.",
                    code="birth_date_to_confirm",
                )
        return born

    @property
    def birth_date_confirmed(self) -> bool:
        born = self.birth_date_to_confirm
        return born is not None and self.data.get("confirm_birth_date") == str(born)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _name(value: str, label: str) -> str:
    """A name as the API checks it: refused without a letter, as it is typed."""
    return str(checked(parse_name, value, field_name=label))


class RowForm(forms.Form):
    """A form of one of the page's many cards or rows: `key` says which one,
    so that a refused form is shown again in its place, with what was typed."""

    def __init__(self, *args: Any, key: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = key

    @property
    def message(self) -> str:
        """Every refusal of this form, in the services' words."""
        return " ".join(
            str(error) for errors in self.errors.values() for error in errors
        )

    def refuse(self, error: DomainError) -> None:
        """A service's refusal, beside the form."""
        self.add_error(None, say(error))


class ContactForm(RowForm, ContactAttemptForm):
    """A contact attempt recorded on a visit of the patient's timeline."""


class PatientContactForm(RowForm, ContactDetailsFields):
    """The patient page's contact details and consent."""

    KEY = "contact-details"

    # The details as the page showed them (`Contact.fingerprint`): another
    # clerk's change since is refused, not written over.
    shown = raw_text()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, key=self.KEY, auto_id="details-%s", **kwargs)
        for name, field in self.fields.items():
            # The help and the message `_field.html` shows beside the field.
            field.widget.attrs["aria-describedby"] = f"help-{name} error-{name}"

    def refuse(self, error: DomainError) -> None:
        self.add_error(field_of(error), say(error))


class ReopenForm(RowForm):
    """A clinic admin's reopening of a visit cancelled by mistake: why, and
    the visit as the page showed it (`sequence_seen`)."""

    reason = raw_text()
    sequence = raw_text()

    def clean_sequence(self) -> int | None:
        return sequence_seen(self.cleaned_data["sequence"])

    def clean_reason(self) -> str:
        return str(
            checked(
                reason_text,
                self.cleaned_data["reason"],
                # Not a cancel's reason: the refusal says what this one is for.
                field_name="reopen_reason",
                required=True,
            )
        )


class MriStudyForm(RowForm):
    performed_on = raw_text()
    reference = raw_text()
    report_received_on = raw_text()

    def clean_performed_on(self) -> dt.date:
        value = self.cleaned_data["performed_on"]
        return checked(parse_date, value.strip(), field_name="performed_on")  # type: ignore[no-any-return]

    def clean_reference(self) -> str:
        value = self.cleaned_data["reference"]
        return str(checked(required_text, value, field_name="reference", max_length=64))

    def clean_report_received_on(self) -> dt.date | None:
        value = self.cleaned_data["report_received_on"]
        return _optional_date(value, "report_received_on")


class MriReportForm(RowForm):
    report_received_on = raw_text()

    def clean_report_received_on(self) -> dt.date:
        day = _optional_date(
            self.cleaned_data["report_received_on"], "report_received_on"
        )
        if day is None:
            raise forms.ValidationError("Give the day the report arrived.")
        return day


def _optional_date(value: str, field_name: str) -> dt.date | None:
    if not value.strip():
        return None
    return checked(parse_date, value.strip(), field_name=field_name)  # type: ignore[no-any-return]


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with a header row; all rows are imported, or none.",
        error_messages={
            "required": "Choose a CSV file to import.",
            "empty": "The file is empty; it needs a header row and some rows.",
        },
    )
