"""The surgeon's action forms read their fields with the services' parsers,
in the services' words, and keep what was typed."""

from __future__ import annotations

import datetime as dt

import pytest

from web.surgeon.forms import CompleteForm, EndProgrammeForm


def test_an_end_form_reads_the_date_and_the_reason() -> None:
    form = EndProgrammeForm(
        {"date": " 2026-11-25 ", "reason": " Healed "}, procedure_id=7
    )

    assert form.is_valid()
    assert form.cleaned_data == {
        "date": dt.date(2026, 11, 25),
        "reason": "Healed",
        "end_overdue": False,
    }
    assert form.procedure_id == 7


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"date": "2026-02-30", "reason": "Healed"},
            "Date is not a real date.",
        ),
        ({"date": "2026-11-25", "reason": "  "}, "Reason is required."),
        (
            {"date": "2026-11-25", "reason": "x" * 501},
            "Reason is longer than 500 characters.",
        ),
    ],
)
def test_an_end_form_says_what_the_services_parsers_say(
    given: dict[str, str], message: str
) -> None:
    form = EndProgrammeForm(given, procedure_id=7)

    assert not form.is_valid()
    assert form.message == message
    assert form["date"].value() == given["date"]


def test_a_service_refusal_is_the_forms_message() -> None:
    form = CompleteForm({}, visit_id=3)
    form.is_valid()
    form.add_error(None, "Visit 3 is booked, not checked in.")

    assert form.message == "Visit 3 is booked, not checked in."
    assert form.visit_id == 3


def test_an_unbound_end_form_offers_today_and_is_not_refused() -> None:
    form = EndProgrammeForm(initial={"date": "2026-11-25"}, procedure_id=7)

    assert form["date"].value() == "2026-11-25"
    assert not form.errors
    assert form.message == ""


def test_a_nul_in_the_reason_is_the_parsers_refusal_with_the_text_kept() -> None:
    form = EndProgrammeForm({"date": "2026-11-25", "reason": "a\x00b"}, procedure_id=7)

    assert not form.is_valid()
    assert "contains a null character" in form.message
    assert form["reason"].value() == "a\x00b"
