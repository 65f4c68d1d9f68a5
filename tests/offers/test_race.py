"""Fifty patients claim one offered slot at the same moment (PostgreSQL,
each its own connection, released together): one booking, and forty-nine
pages saying the time was taken. And a claim racing a clerk's booking of
the same slot for someone else: one booking, the loser told in words."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings as SettingsWrapper

from followup import services
from followup.exceptions import Conflict
from followup.models import SLOT_HOLDING_STATUSES, Visit
from offers.models import Offer, OfferStatus
from tests.offers.conftest import NOW, SLOT, Clinic, waiting
from tests.offers.test_claim_page import Patient
from tests.racing import race_results

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLAIMERS = 50
TAKEN = "Someone else booked that time, Fri 27 Nov 2026, 09:00, a moment before you"


def held_at_the_slot(clinic: Clinic) -> list[int]:
    return list(
        Visit.objects.filter(
            surgeon_id=clinic.surgeon.pk, start=SLOT, status__in=SLOT_HOLDING_STATUSES
        ).values_list("pk", flat=True)
    )


def test_fifty_patients_claiming_one_slot_at_once_give_one_booking(
    clinic: Clinic, front_desk: User, settings: SettingsWrapper
) -> None:
    settings.OFFER_BATCH = CLAIMERS
    visits = [waiting(clinic.surgeon) for _ in range(CLAIMERS)]
    services.unbook_visit(visit_id=clinic.giver.pk, actor=front_desk, now=NOW)
    assert Offer.objects.pending().count() == CLAIMERS
    patients = [Patient(visit) for visit in visits]
    forms = [patient.form() for patient in patients]

    def claim(patient: Patient, form: dict[str, str]) -> tuple[int, str]:
        response = patient.client.post(patient.url, form)
        return response.status_code, response.content.decode()

    results, errors = race_results(
        [
            lambda p=patient, f=form: claim(p, f)  # type: ignore[misc]
            for patient, form in zip(patients, forms, strict=True)
        ]
    )

    assert errors == []
    codes = sorted(code for code, _ in results)
    assert codes == [303] + [409] * (CLAIMERS - 1)
    assert sum(TAKEN in page for _, page in results) == CLAIMERS - 1
    [winner] = held_at_the_slot(clinic)
    statuses = dict(Offer.objects.values_list("visit_id", "status"))
    assert statuses.pop(winner) == OfferStatus.CLAIMED
    assert set(statuses.values()) == {OfferStatus.TAKEN}


def test_a_claim_and_a_clerks_booking_of_the_slot_give_one_booking(
    clinic: Clinic, front_desk: User
) -> None:
    ada = Patient(waiting(clinic.surgeon))
    services.unbook_visit(visit_id=clinic.giver.pk, actor=front_desk, now=NOW)
    walk_in = waiting(clinic.surgeon, reminders="none")
    form = ada.form()

    def patient() -> Any:
        return ada.client.post(ada.url, form).status_code

    def clerk() -> Any:
        try:
            services.book_visit(
                visit_id=walk_in.pk,
                start=SLOT,
                surgeon_id=clinic.surgeon.pk,
                actor=front_desk,
                now=NOW,
            )
        except Conflict as refused:
            return refused.code
        return "booked"

    results, errors = race_results([patient, clerk])

    assert errors == []
    assert sorted(map(str, results)) in (["303", "slot_taken"], ["409", "booked"])
    [held] = held_at_the_slot(clinic)
    offer = Offer.objects.get(visit=ada.visit)
    expected = OfferStatus.CLAIMED if held == ada.visit.pk else OfferStatus.TAKEN
    assert offer.status == expected
