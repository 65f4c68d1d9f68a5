"""A patient booking through the link and a clerk booking the same slot for
another patient at the same moment (PostgreSQL, each its own connection):
one booking, and the loser's answer is a refusal, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followup import services
from followup.exceptions import Conflict
from followup.models import SLOT_HOLDING_STATUSES, Visit
from tests.api.conftest import FREE_SLOT, NOW, World
from tests.booking_links.conftest import Linked, form_token_of, patient_client
from tests.racing import race_results

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_link_booking_and_a_clerks_booking_of_one_slot_give_one_booking(
    linked: Linked, world: World, front_desk: User
) -> None:
    client: Client = patient_client()
    token = form_token_of(client, linked.url)
    surgeon_id = linked.visit.procedure.surgeon_id
    # Patient B becomes surgeon A's too, so that both want A's 09:00.
    Visit.objects.filter(pk=world.visit_b.pk).update(surgeon_id=surgeon_id)

    def patient() -> int:
        response = client.post(
            linked.url,
            {
                "form_token": token,
                "sequence": str(linked.visit.sequence),
                "start": FREE_SLOT.isoformat(),
            },
        )
        return int(response.status_code)

    def clerk() -> Any:
        try:
            services.book_visit(
                visit_id=world.visit_b.pk,
                start=FREE_SLOT,
                surgeon_id=surgeon_id,
                actor=front_desk,
                now=NOW,
            )
        except Conflict as refused:
            return refused.code
        return "booked"

    results, errors = race_results([patient, clerk])

    assert errors == []
    assert sorted(map(str, results)) in (["303", "slot_taken"], ["409", "booked"])
    held = Visit.objects.filter(
        surgeon_id=surgeon_id, start=FREE_SLOT, status__in=SLOT_HOLDING_STATUSES
    )
    assert held.count() == 1
