"""Input parsing: a clear message for a person, never a 500.

Every parser returns the value in the form the services take (a date, a UTC
datetime, a TextChoices member, stripped text) or raises `InvalidInput` with
a stable code. The callers parse: the API's serializers, the pages' forms,
the admin and the CSV reader read a value with the same parser, so it reads
the same way everywhere; the services take typed values only.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import TextChoices

from clinic import phones
from clinic.models import (
    RECORD_NUMBER_MAX_LENGTH,
    RECORD_NUMBER_RULE,
    ProcedureKind,
    Reminders,
    validate_record_number,
)
from core.quoting import quoted
from followup.exceptions import InvalidInput

C = TypeVar("C", bound=TextChoices)

EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def parse_date(value: dt.date | str, *, field_name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise InvalidInput(
            f"{field_name} must be a date (YYYY-MM-DD), not a time.",
            params={"field": field_name},
        )
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(
            f"{field_name} {quoted(value)} is not a real date; write it as YYYY-MM-DD.",
            code="invalid_date",
            params={"field": field_name},
        ) from None


def parse_kind(value: str) -> str:
    if value not in ProcedureKind.values:
        known = ", ".join(ProcedureKind.values)
        raise InvalidInput(
            f"Unknown procedure kind {quoted(value)}; use one of: {known}.",
            code="unknown_kind",
        )
    return value


def parse_choice(value: object, choices: type[C], name: str) -> C:
    """One of `choices`, from its value, e.g. a contact attempt's channel."""
    if not isinstance(value, str) or value not in choices.values:
        known = ", ".join(choices.values)
        raise InvalidInput(
            f"Unknown {name} {quoted(value)}; use one of: {known}.",
            code=f"unknown_{name}",
            params={"field": name},
        )
    return choices(value)


def text_only(text: str, *, field_name: str) -> str:
    """`text`, refused if it holds a NUL: no person types one, and PostgreSQL
    cannot store one (it would be a database error, a 500, not a refusal)."""
    if "\x00" in text:
        raise InvalidInput(
            f"{field_name} contains a null character, which is not text; remove it.",
            code="null_character",
            params={"field": field_name},
        )
    return text


def required_text(value: str, *, field_name: str, max_length: int) -> str:
    text = text_only((value or "").strip(), field_name=field_name)
    if not text:
        raise InvalidInput(
            f"{field_name} is required.", code="required", params={"field": field_name}
        )
    if len(text) > max_length:
        raise InvalidInput(
            f"{field_name} is longer than {max_length} characters.",
            code="too_long",
            params={"field": field_name, "max_length": max_length},
        )
    return text


def parse_record_number(value: str, *, field_name: str = "record_number") -> str:
    """A record number in the characters `clinic.models` allows (no formula
    or separator a spreadsheet would act on), everywhere one is entered; in
    capitals, so that "mrn00012" typed by a clerk, an import or the API is
    the patient MRN00012, never a second patient."""
    text = required_text(
        value, field_name=field_name, max_length=RECORD_NUMBER_MAX_LENGTH
    )
    try:
        validate_record_number(text)
    except ValidationError:
        raise InvalidInput(
            f"{field_name} {quoted(text)}: {RECORD_NUMBER_RULE}",
            code="invalid_record_number",
            params={"field": field_name},
        ) from None
    return text.upper()


NAME_MAX_LENGTH = 100


def parse_name(value: str, *, field_name: str) -> str:
    """A patient's given or family name: text holding at least one letter.

    A number (or any text without a letter) is a value typed into the wrong
    column, not a name. Kept composed (NFC): "José" from a file that writes
    the accent apart is the "José" typed at the desk.
    """
    text = required_text(
        unicodedata.normalize("NFC", value or ""),
        field_name=field_name,
        max_length=NAME_MAX_LENGTH,
    )
    if not any(char.isalpha() for char in text):
        raise InvalidInput(
            f"{field_name} {quoted(text)} is not a name: it has no letter.",
            code="invalid_name",
            params={"field": field_name},
        )
    return text


def check_surgery_date(
    surgery_date: dt.date, *, today: dt.date, birth_date: dt.date | None = None
) -> None:
    latest = today + dt.timedelta(days=settings.SURGERY_DATE_MAX_DAYS_AHEAD)
    if surgery_date > latest:
        raise InvalidInput(
            f"Surgery date {surgery_date} is more than "
            f"{settings.SURGERY_DATE_MAX_DAYS_AHEAD} days ahead; check the year.",
            code="surgery_date_too_far",
            params={
                "day": surgery_date,
                "days": settings.SURGERY_DATE_MAX_DAYS_AHEAD,
            },
        )
    if birth_date is not None and surgery_date < birth_date:
        raise InvalidInput(
            f"Surgery date {surgery_date} is before the patient's birth date "
            f"{birth_date}.",
            code="surgery_before_birth",
            params={"day": surgery_date, "birth_date": birth_date},
        )


def parse_aware_datetime(
    value: dt.datetime | str, *, field_name: str = "start"
) -> dt.datetime:
    """An aware datetime, in UTC; a time without a UTC offset is refused."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"{field_name} {quoted(value)} is not a date and time; write it "
                "in ISO 8601 with its UTC offset, like 2027-03-29T09:00:00+02:00.",
                code="invalid_datetime",
                params={"field": field_name},
            ) from None
    else:
        raise InvalidInput(
            f"{field_name} must be an ISO 8601 date and time with its UTC offset.",
            code="invalid_datetime",
            params={"field": field_name},
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{field_name} {value!s} has no UTC offset, so it is ambiguous; add "
            "it, like 2027-03-29T09:00:00+02:00 for 09:00 in Madrid.",
            code="naive_datetime",
            params={"field": field_name},
        )
    return in_range(moment, field_name=field_name)


def require_aware(moment: dt.datetime, *, field_name: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{field_name} must carry a UTC offset.",
            code="naive_datetime",
            params={"field": field_name},
        )
    return in_range(moment, field_name=field_name)


def in_range(moment: dt.datetime, *, field_name: str) -> dt.datetime:
    # Years 1 and 9999 overflow as soon as an offset or a duration is applied.
    try:
        utc = moment.astimezone(dt.UTC)
        if EARLIEST <= utc <= LATEST:
            return utc
    except OverflowError:
        pass
    raise InvalidInput(
        f"{field_name} {moment.isoformat()} is out of range.",
        code="invalid_datetime",
        params={"field": field_name},
    )


def reason_text(value: str, *, field_name: str, required: bool) -> str:
    text = text_only((value or "").strip(), field_name=field_name)
    if required and not text:
        raise InvalidInput(
            f"{field_name} is required.", code="required", params={"field": field_name}
        )
    if len(text) > 500:
        raise InvalidInput(
            f"{field_name} is longer than 500 characters.",
            code="too_long",
            params={"field": field_name, "max_length": 500},
        )
    return text


# --- contact details and consent ---------------------------------------------

EMAIL_MAX_LENGTH = 254


def field_error(field_name: str, message: str, *, code: str) -> InvalidInput:
    """A refusal of one named field: the API lists it under `errors`, a
    page's form shows it on that field."""
    return InvalidInput(
        message, code=code, errors=[{"field": field_name, "error": message}]
    )


def parse_phone(value: str, *, field_name: str = "phone") -> str:
    """A phone number as typed ("612 34 56 78", "+34 612-345-678") in E.164,
    read in the clinic's region (`CLINIC_PHONE_REGION`); "" for none."""
    text = text_only((value or "").strip(), field_name=field_name)
    if not text:
        return ""
    e164 = phones.to_e164(text)
    if e164 is None:
        raise field_error(
            field_name,
            f"{field_name} {quoted(text)} is not a phone "
            "number; write it as dialled in the clinic's country, or with its "
            f"country code (+{phones.country_code()} ...).",
            code="invalid_phone",
        )
    return e164


def parse_email(value: str, *, field_name: str = "email") -> str:
    """An email address, or "" for none."""
    text = text_only((value or "").strip(), field_name=field_name)
    if not text:
        return ""
    try:
        if len(text) > EMAIL_MAX_LENGTH:
            raise ValidationError("too long")
        validate_email(text)
    except ValidationError:
        raise field_error(
            field_name,
            f"{field_name} {quoted(text)} is not an email address.",
            code="invalid_email",
        ) from None
    return text


def parse_reminders(value: str, *, field_name: str = "reminders") -> Reminders:
    text = (value or "").strip().lower()
    if not text:
        return Reminders.NONE
    try:
        return Reminders(text)
    except ValueError:
        known = ", ".join(Reminders.values)
        raise field_error(
            field_name,
            f"{field_name} {quoted(text)} is not a choice; use one of: {known}.",
            code="invalid_reminders",
        ) from None


def check_consent(*, phone: str, email: str, reminders: str) -> None:
    """What the channel the patient agreed to needs: a number that takes
    texts for `sms`, an address for `email`. Refused on the missing field."""
    if reminders == Reminders.SMS and not phone:
        raise field_error(
            "phone",
            "Reminders by SMS need a mobile number, and phone is empty.",
            code="sms_needs_mobile",
        )
    if reminders == Reminders.SMS and not phones.takes_texts(phone):
        raise field_error(
            "phone",
            f"Reminders by SMS need a mobile number; phone "
            f"{phones.for_display(phone)} is a fixed line, which cannot take texts.",
            code="sms_needs_mobile",
        )
    if reminders == Reminders.EMAIL and not email:
        raise field_error(
            "email",
            "Reminders by email need an email address, and email is empty.",
            code="email_needs_address",
        )
