"""The parsers every caller reads typed input with (forms, serializers, the
CSV reader): the services take the typed values they answer."""

from __future__ import annotations

import pytest

from clinic.models import Reminders
from followup.exceptions import InvalidInput
from followup.models import ContactChannel, ContactOutcome
from followup.services.parsing import (
    check_consent,
    parse_choice,
    parse_date,
    parse_email,
    parse_kind,
    parse_phone,
    parse_reminders,
)


@pytest.mark.parametrize(
    ("field", "choices", "value", "message"),
    [
        (
            "channel",
            ContactChannel,
            "fax",
            "Unknown channel 'fax'; use one of: phone, sms, email",
        ),
        (
            "outcome",
            ContactOutcome,
            "maybe",
            "Unknown outcome 'maybe'; use one of: no_answer",
        ),
    ],
)
def test_an_unknown_channel_or_outcome_is_refused(
    field: str, choices: type[ContactChannel | ContactOutcome], value: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        parse_choice(value, choices, field)

    assert refused.value.code == f"unknown_{field}"


def test_a_known_channel_is_its_member() -> None:
    assert parse_choice("sms", ContactChannel, "channel") is ContactChannel.SMS


def test_an_impossible_date_is_refused() -> None:
    with pytest.raises(
        InvalidInput, match="'1980-13-01' is not a real date"
    ) as refused:
        parse_date("1980-13-01", field_name="birth_date")

    assert refused.value.code == "invalid_date"


def test_an_unknown_procedure_kind_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Unknown procedure kind 'laser'") as refused:
        parse_kind("laser")

    assert refused.value.code == "unknown_kind"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("612 34 56 78", "+34612345678"),
        ("612-345-678", "+34612345678"),
        ("(+34) 612 345 678", "+34612345678"),
        ("0034 612345678", "+34612345678"),
        ("+351 912 345 678", "+351912345678"),
        ("  ", ""),
    ],
)
def test_a_phone_typed_in_any_format_is_stored_in_e164(typed: str, stored: str) -> None:
    assert parse_phone(typed) == stored


@pytest.mark.parametrize(
    "typed", ["612", "call me", "+34 612 34 56 78 99 99", "6" * 50]
)
def test_what_is_not_a_phone_number_is_refused_on_the_phone_field(typed: str) -> None:
    with pytest.raises(InvalidInput, match="is not a phone number") as refused:
        parse_phone(typed)

    assert refused.value.code == "invalid_phone"
    assert refused.value.errors[0]["field"] == "phone"


def test_an_email_without_a_domain_is_refused_and_a_blank_one_is_none() -> None:
    assert parse_email(" ana@example.es ") == "ana@example.es"
    assert parse_email("") == ""
    with pytest.raises(InvalidInput, match="is not an email address"):
        parse_email("ana@")


@pytest.mark.parametrize(
    ("phone", "email", "reminders", "field"),
    [
        ("", "", Reminders.SMS, "phone"),
        ("+34912345678", "", Reminders.SMS, "phone"),  # a landline
        ("+34612345678", "", Reminders.EMAIL, "email"),
    ],
)
def test_a_consent_without_what_it_needs_is_refused_on_the_missing_field(
    phone: str, email: str, reminders: Reminders, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_consent(phone=phone, email=email, reminders=reminders)

    assert refused.value.errors[0]["field"] == field


def test_a_consent_with_what_it_needs_passes() -> None:
    check_consent(phone="+34612345678", email="", reminders=Reminders.SMS)
    check_consent(phone="", email="ana@example.es", reminders=Reminders.EMAIL)
    check_consent(phone="", email="", reminders=Reminders.NONE)
    assert parse_reminders("") is Reminders.NONE
    assert parse_reminders("SMS") is Reminders.SMS
