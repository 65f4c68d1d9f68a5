"""The offer's text, sent through Twilio's stand-in on loopback, carries the
visit's live booking link with the offer: the patient opens it, sees the
freed slot first, and books it. The database holds the link's placeholder,
never its token."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings as SettingsWrapper

from followup import services
from followup.models import Visit, VisitStatus
from messaging.models import Direction, Intent, Status
from messaging.replies import receive_sms
from messaging.schedule import LINK_PLACEHOLDER
from messaging.services import send_due_messages
from offers.models import OfferStatus
from tests.booking_links.conftest import patient_client
from tests.messaging import stand_ins
from tests.messaging.conftest import twilio  # noqa: F401
from tests.offers.conftest import NOW, SLOT, Clinic, offer_of, waiting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
SITE = "https://followup.clinic.example"


def test_the_offer_text_carries_the_claim_link_that_books_the_slot(
    clinic: Clinic,
    front_desk: User,
    settings: SettingsWrapper,
    twilio: stand_ins.TwilioStandIn,  # noqa: F811
) -> None:
    settings.SITE_URL = SITE
    visit = waiting(clinic.surgeon, name="Ada")
    services.unbook_visit(visit_id=clinic.giver.pk, actor=front_desk, now=NOW)
    offer = offer_of(visit)

    send_due_messages(now=NOW)

    # Ada's invitation to book goes too; the offer is the text with the slot.
    to_ada = [c for c in twilio.requests if c["To"] == visit.patient.phone]
    [call] = [c for c in to_ada if "has come free" in c["Body"]]
    found = re.search(
        re.escape(SITE) + r"(/p/[A-Za-z0-9_-]+/\?offer=(\d+))", call["Body"]
    )
    assert found is not None, call["Body"]
    assert int(found.group(2)) == offer.pk
    offer.refresh_from_db()
    assert offer.message is not None
    assert offer.message.status == Status.SENT
    assert f"{LINK_PLACEHOLDER}?offer={offer.pk}" in offer.message.text
    client = patient_client()
    page = client.get(found.group(1)).content.decode()
    assert "A time has come free" in page
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token is not None
    path = found.group(1).split("?")[0]

    response = client.post(
        path,
        {
            "form_token": token.group(1),
            "sequence": str(Visit.objects.get(pk=visit.pk).sequence),
            "offer": str(offer.pk),
            "start": SLOT.isoformat(),
        },
    )

    assert response.status_code == 303
    booked = Visit.objects.get(pk=visit.pk)
    assert (booked.status, booked.start) == (VisitStatus.BOOKED, SLOT)


@pytest.mark.parametrize("body", ["YES", "C", "X"])
def test_a_yes_or_no_to_an_offer_text_is_recorded_for_the_desk_and_changes_nothing(
    clinic: Clinic, front_desk: User, body: str
) -> None:
    visit = waiting(clinic.surgeon, name="Ada")
    services.unbook_visit(visit_id=clinic.giver.pk, actor=front_desk, now=NOW)
    send_due_messages(now=NOW)
    offer = offer_of(visit)
    assert offer.message is not None and offer.message.status == Status.SENT

    # The latest text to Ada is the offer: her answer answers it.
    reply = receive_sms(
        number=visit.patient.phone, body=body, sid="SM" + "7" * 32, now=NOW
    )

    reply.refresh_from_db()
    assert (reply.direction, reply.intent, reply.visit_id) == (
        Direction.IN,
        Intent.UNCLEAR,
        visit.pk,
    )
    assert "offered a free time" in reply.outcome
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.TO_BOOK
    offer.refresh_from_db()
    assert offer.status == OfferStatus.PENDING  # still hers to claim by the link
