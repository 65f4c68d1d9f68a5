"""Patients: registration and correction.

A correction of a name or record number re-publishes the patient's visits,
since calendars show the patient's label.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from clinic.models import Patient, Procedure, Reminders
from followup.changes import visits_changed
from followup.exceptions import Conflict, InvalidInput, NotFound
from followup.models import OPEN_STATUSES, Visit
from followup.services.parsing import (
    check_consent,
    parse_email,
    parse_name,
    parse_phone,
    parse_record_number,
    parse_reminders,
)
from followup.services.republish import republish

CONTACT_FIELDS = ("phone", "email", "reminders")


@dataclass(frozen=True)
class Contact:
    """A patient's contact details and the reminders they agreed to."""

    phone: str = ""
    email: str = ""
    reminders: Reminders = Reminders.NONE

    @classmethod
    def parse(cls, *, phone: str = "", email: str = "", reminders: str = "") -> Contact:
        """What a form, a serializer or a CSV row typed, checked as a whole:
        each field's parser, then what the consent needs (`check_consent`)."""
        contact = cls(
            phone=parse_phone(phone),
            email=parse_email(email),
            reminders=parse_reminders(reminders),
        )
        check_consent(**contact.as_dict())
        return contact

    def as_dict(self) -> dict[str, str]:
        return {"phone": self.phone, "email": self.email, "reminders": self.reminders}

    @classmethod
    def of(cls, patient: Patient) -> Contact:
        return cls(
            phone=patient.phone,
            email=patient.email,
            reminders=Reminders(patient.reminders),
        )

    def fingerprint(self) -> str:
        """These details as a page showed them, to tell whether they changed
        since (`correct_patient`'s `contact_seen`)."""
        values = "\n".join(f"{n}={v}" for n, v in self.as_dict().items())
        return hashlib.sha256(values.encode()).hexdigest()[:32]


NO_CONTACT = Contact()


def check_birth_date(
    birth_date: dt.date, *, today: dt.date, patient_id: int | None = None
) -> None:
    """What `create_patient` and `correct_patient` refuse of a birth date,
    so that a form can ask before saving: not in the future, not before 1900,
    and for an existing patient, not after their first surgery."""
    if birth_date > today:
        raise InvalidInput(
            f"Birth date {birth_date} is in the future.",
            code="birth_date_in_future",
            params={"day": birth_date},
        )
    if birth_date.year < 1900:
        raise InvalidInput(
            f"Birth date {birth_date} is before 1900; check the year.",
            code="birth_date_too_early",
            params={"day": birth_date},
        )
    if patient_id is None:
        return
    first = (
        Procedure.objects.filter(patient_id=patient_id)
        .order_by("surgery_date")
        .values_list("surgery_date", flat=True)
        .first()
    )
    if first is not None and birth_date > first:
        raise InvalidInput(
            f"Birth date {birth_date} is after the patient's surgery on {first}.",
            code="birth_after_surgery",
            params={"day": birth_date, "surgery_date": first},
        )


@transaction.atomic
def create_patient(
    *,
    record_number: str,
    given_name: str,
    family_name: str,
    birth_date: dt.date,
    today: dt.date,
    contact: Contact = NO_CONTACT,
) -> Patient:
    record_number = parse_record_number(record_number)
    born = birth_date
    check_birth_date(born, today=today)
    check_consent(**contact.as_dict())
    if Patient.objects.filter(record_number=record_number).exists():
        raise InvalidInput(
            f"A patient with record number {record_number} already exists.",
            code="duplicate_record_number",
        )
    patient = Patient(
        record_number=record_number,
        given_name=parse_name(given_name, field_name="given_name"),
        family_name=parse_name(family_name, field_name="family_name"),
        birth_date=born,
        **contact.as_dict(),
    )
    try:
        with transaction.atomic():
            patient.save(force_insert=True)
    except IntegrityError:
        # Another clerk registered the same number between our check and insert.
        raise InvalidInput(
            f"A patient with record number {record_number} already exists.",
            code="duplicate_record_number",
        ) from None
    return patient


@transaction.atomic
def correct_patient(
    *,
    patient_id: int,
    today: dt.date,
    record_number: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    birth_date: dt.date | None = None,
    phone: str | None = None,
    email: str | None = None,
    reminders: Reminders | None = None,
    contact_seen: str | None = None,
) -> Patient:
    """Correct a patient's details, and set their contact details and
    consent; the fields left None stay as they are. The consent is checked
    against the details the patient will have.

    `contact_seen` is the `Contact.fingerprint()` of the details as the page
    showed them: changed since (another clerk's correction), the new ones
    are refused (409 `contact_changed`) rather than written over it."""
    patient = _locked_patient(patient_id)
    fields: list[str] = []
    typed = {"phone": phone, "email": email, "reminders": reminders}
    contact = {name: value for name, value in typed.items() if value is not None}
    if contact_seen is not None:
        _check_contact_seen(patient, contact, contact_seen)
    if contact:
        fields.extend(_set_contact(patient, contact))
    if record_number is not None:
        number = parse_record_number(record_number)
        taken = Patient.objects.filter(record_number=number).exclude(pk=patient.pk)
        if taken.exists():
            raise InvalidInput(
                f"A patient with record number {number} already exists.",
                code="duplicate_record_number",
            )
        patient.record_number = number
        fields.append("record_number")
    for name, value in (("given_name", given_name), ("family_name", family_name)):
        if value is not None:
            setattr(patient, name, parse_name(value, field_name=name))
            fields.append(name)
    if birth_date is not None:
        check_birth_date(birth_date, today=today, patient_id=patient.pk)
        patient.birth_date = birth_date
        fields.append("birth_date")
    if fields:
        patient.save(update_fields=[*fields, "updated_at"])
    if set(fields) & {"record_number", "given_name", "family_name"}:
        _republish_visits_of(patient)
    elif contact:
        # Whoever writes to the patient (the outbox) reads the new consent
        # and address; the calendars show neither, so no sequence rises.
        visits = Visit.objects.filter(patient=patient, status__in=OPEN_STATUSES)
        visits_changed(list(visits.values_list("pk", flat=True)))
    return patient


def _check_contact_seen(patient: Patient, given: dict[str, str], seen: str) -> None:
    """Refuse details typed over ones changed since they were shown; the
    same ones (a second click, or both clerks agreeing) go through."""
    now = Contact.of(patient)
    if seen == now.fingerprint() or all(
        getattr(now, name) == value for name, value in given.items()
    ):
        return
    raise Conflict(
        "The patient's contact details changed after this page was shown.",
        code="contact_changed",
    )


def _set_contact(patient: Patient, given: dict[str, str]) -> list[str]:
    """Sets the contact details given, the consent checked with the rest of
    them as they will be; returns the fields set."""
    contact = {name: getattr(patient, name) for name in CONTACT_FIELDS} | given
    check_consent(**contact)
    for name, value in given.items():
        setattr(patient, name, value)
    return list(given)


def _republish_visits_of(patient: Patient) -> None:
    # Calendars show the patient's label: re-render every entry of theirs.
    republish(Visit.objects.filter(patient=patient))


def _locked_patient(patient_id: int) -> Patient:
    try:
        return Patient.objects.select_for_update(no_key=True).get(pk=patient_id)
    except Patient.DoesNotExist:
        raise NotFound(f"Patient {patient_id} does not exist.") from None
