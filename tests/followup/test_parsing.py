"""The parsers every caller reads typed input with (forms, serializers, the
CSV reader): the services take the typed values they answer."""

from __future__ import annotations

import pytest

from followup.exceptions import InvalidInput
from followup.models import ContactChannel, ContactOutcome
from followup.services.parsing import parse_choice, parse_date, parse_kind


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
