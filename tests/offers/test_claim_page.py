"""Claiming an offer on the booking page: its link opens the page with the
offered slot first; the first claim books it, the others read that it was
taken with their other free slots; bad input is refused in words and
changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from booking_links import services as links
from followup import services
from followup.models import Visit, VisitEvent, VisitStatus
from offers.models import Offer, OfferStatus
from tests.booking_links.conftest import patient_client
from tests.messaging.conftest import Clock
from tests.offers.conftest import NOW, SLOT, Clinic, offer_of, waiting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


class Patient:
    """A patient on their phone, with their visit's link and offer."""

    def __init__(self, visit: Visit) -> None:
        self.visit = visit
        self.token = links.issue_link(visit_id=visit.pk, actor=None, now=NOW).token
        self.client: Client = patient_client()

    @property
    def url(self) -> str:
        return f"/p/{self.token}/"

    @property
    def offer(self) -> Offer:
        return offer_of(self.visit)

    def open(self, offer: object | None = None) -> str:
        offer = self.offer.pk if offer is None else offer
        response = self.client.get(f"{self.url}?offer={offer}")
        assert response.status_code == 200
        return response.content.decode()

    def form(self) -> dict[str, str]:
        """The offered slot's form, as the page serves it."""
        return offer_form(self.open())

    def claim(self, **changed: str) -> Any:
        return self.client.post(self.url, {**self.form(), **changed})


def offer_form(page: str) -> dict[str, str]:
    """The offered slot's form on `page`."""
    found = re.search(r'<section class="booking__offer".*?</section>', page, flags=re.S)
    assert found is not None, "no offer on the page"
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', found.group(0)))


@pytest.fixture
def offered(clinic: Clinic, front_desk: User) -> list[Patient]:
    visits = [waiting(clinic.surgeon, name=n) for n in ("Ada", "Bea", "Cai")]
    services.unbook_visit(visit_id=clinic.giver.pk, actor=front_desk, now=NOW)
    return [Patient(visit) for visit in visits]


def state() -> tuple[object, ...]:
    """What "nothing changed" means: the visits, their history, the offers."""
    return (
        list(Visit.objects.order_by("pk").values()),
        VisitEvent.objects.count(),
        list(Offer.objects.order_by("pk").values_list("status", "closed_at")),
    )


def test_the_offer_link_opens_the_page_with_the_offered_slot_first(
    offered: list[Patient],
) -> None:
    page = offered[0].open()

    assert "A time has come free" in page
    assert "Fri 27 Nov 2026, 09:00" in page
    assert "This offer ends at 12:00" in page
    assert page.index("A time has come free") < page.index("Free times")
    assert offered[0].form()["start"] == SLOT.isoformat()
    assert "Sanz" in page  # the surgeon; never the patient's family name
    assert offered[0].visit.patient.family_name not in page


def test_the_first_claim_books_the_slot_and_closes_the_others(
    offered: list[Patient],
) -> None:
    ada, bea, cai = offered

    response = ada.claim()

    assert response.status_code == 303
    visit = Visit.objects.get(pk=ada.visit.pk)
    assert (visit.status, visit.start) == (VisitStatus.BOOKED, SLOT)
    event = VisitEvent.objects.filter(visit=visit).latest("id")
    assert (event.action, event.actor_name) == ("booked", "patient (link)")
    assert ada.offer.status == OfferStatus.CLAIMED
    assert {bea.offer.status, cai.offer.status} == {OfferStatus.TAKEN}
    done = ada.client.get(response["Location"]).content.decode()
    assert "Booked. See you then." in done


def test_a_later_claim_reads_that_it_was_taken_with_its_other_slots(
    offered: list[Patient],
) -> None:
    ada, bea, _ = offered
    form = bea.form()  # Bea opened her offer before Ada booked
    ada.claim()

    response = bea.client.post(bea.url, form)

    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone else booked that time, Fri 27 Nov 2026, 09:00, a moment" in page
    assert "Free times" in page
    assert 'value="2026-11-27T09:20:00+01:00"' in page  # her other free slots
    assert Visit.objects.get(pk=bea.visit.pk).status == VisitStatus.TO_BOOK
    assert bea.offer.status == OfferStatus.TAKEN
    # Opened again, the offer says so.
    assert "Someone else booked Fri 27 Nov 2026, 09:00 first" in bea.open()


def test_an_expired_offer_books_nothing_and_says_when_it_ended(
    offered: list[Patient], pinned: Clock
) -> None:
    ada = offered[0]
    form = ada.form()
    pinned.moment = NOW + dt.timedelta(minutes=121)
    before = state()

    response = ada.client.post(ada.url, form)

    assert response.status_code == 409
    assert "This offer of Fri 27 Nov 2026, 09:00 has ended" in response.content.decode()
    after = state()
    assert after[:2] == before[:2]
    assert ada.offer.status == OfferStatus.EXPIRED  # closed, as the sweep would
    assert "ended at 12:00" in ada.open()


@pytest.mark.parametrize(
    ("changed", "status", "said"),
    [
        ({"offer": "999999"}, 400, "That offer is not one made to you."),
        ({"offer": "12a"}, 400, "That was not understood."),
        ({"offer": "-1"}, 400, "That was not understood."),
        ({"offer": "9" * 19}, 400, "That was not understood."),
        ({"offer": "1\x00"}, 400, "That was not understood."),
        ({"offer": "\u00b2"}, 400, "That was not understood."),
        ({"start": "2026-11-27T09:20:00+01:00"}, 400, "That is not the time offered."),
        ({"start": "2026-11-27T09:00:00"}, 400, "That time cannot be booked."),
        ({"start": "Friday at nine"}, 400, "That time cannot be booked."),
        ({"start": "2026-11-27T09:00:00+01:00\x00"}, 400, "That was not understood."),
        ({"start": "2026-11-20T09:00:00+01:00"}, 400, "That is not the time offered."),
        ({"start": "2026-12-20T09:00:00+01:00"}, 400, "That is not the time offered."),
        ({"form_token": "forged"}, 400, "This page was open too long"),
    ],
)
def test_bad_input_on_a_claim_is_refused_in_words_and_changes_nothing(
    offered: list[Patient], changed: dict[str, str], status: int, said: str
) -> None:
    ada = offered[0]
    before = state()

    response = ada.claim(**changed)

    assert response.status_code == status
    assert said in response.content.decode()
    assert state() == before


def test_another_patients_offer_is_refused_and_not_shown(
    offered: list[Patient],
) -> None:
    ada, bea, _ = offered
    before = state()

    response = ada.claim(offer=str(bea.offer.pk))

    assert response.status_code == 400
    assert "That offer is not one made to you." in response.content.decode()
    assert state() == before
    page = ada.client.get(f"{ada.url}?offer={bea.offer.pk}").content.decode()
    assert "A time has come free" not in page


def test_a_replayed_claim_changes_nothing(offered: list[Patient]) -> None:
    ada = offered[0]
    form = ada.form()
    assert ada.client.post(ada.url, form).status_code == 303
    before = state()

    response = ada.client.post(ada.url, form)

    assert response.status_code == 409
    assert "You have booked that time already." in response.content.decode()
    assert state() == before


def test_a_malformed_offer_in_the_address_shows_the_page_without_it(
    offered: list[Patient],
) -> None:
    # A superscript two and an Arabic-Indic one: digits to `isdigit`, not ids.
    for value in ("abc", "-3", "9" * 40, "1.0", "\u00b2", "\u0661"):
        page = offered[0].client.get(f"{offered[0].url}?offer={value}")
        assert page.status_code == 200
        assert "A time has come free" not in page.content.decode()
    # A NUL in any page's address is refused before the page is read.
    assert offered[0].client.get(f"{offered[0].url}?offer=%00").status_code == 400


def _links(page: str) -> dict[str, str]:
    """The page's paging links by their words, as a browser follows them."""
    found = re.findall(r'<a href="([^"]+)">(Later times|Earliest times)</a>', page)
    return {words: href.replace("&amp;", "&") for href, words in found}


def test_later_and_earliest_times_keep_the_offer_on_the_page(
    offered: list[Patient],
) -> None:
    ada = offered[0]
    first = ada.open()

    later = ada.client.get(_links(first)["Later times"]).content.decode()
    earliest = ada.client.get(_links(later)["Earliest times"]).content.decode()

    free = later[later.index("Free times") :]
    assert "2026-11-27T09:00" not in free  # a later page, not the first again
    for page in (later, earliest):
        assert "A time has come free" in page
        assert page.index("A time has come free") < page.index("Free times")
    # Claimed from the later page, the offer books its slot.
    assert ada.client.post(ada.url, offer_form(later)).status_code == 303
    assert ada.offer.status == OfferStatus.CLAIMED


def test_a_refused_booking_of_another_time_keeps_the_offer_on_the_page(
    offered: list[Patient], front_desk: User, clinic: Clinic
) -> None:
    ada, bea, _ = offered
    page = ada.open()
    action = re.findall(r'<form method="post" action="([^"]+)"', page)[-1]
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', page))
    # While the page is open, the desk gives 09:20 to Bea.
    taken = SLOT + dt.timedelta(minutes=20)
    services.book_visit(
        visit_id=bea.visit.pk,
        start=taken,
        surgeon_id=clinic.surgeon.pk,
        actor=front_desk,
        now=NOW,
    )
    before = state()

    response = ada.client.post(
        action.replace("&amp;", "&"),
        {
            "form_token": fields["form_token"],
            "sequence": fields["sequence"],
            "start": taken.isoformat(),
        },
    )

    refused = response.content.decode()
    assert response.status_code == 409
    assert "has just been taken" in refused
    assert "A time has come free" in refused
    assert "Book this time" in refused
    assert state() == before


def test_a_closed_or_malformed_offer_is_not_carried_by_the_paging_links(
    offered: list[Patient], pinned: Clock
) -> None:
    ada = offered[0]
    junk = ada.client.get(f"{ada.url}?offer=12a").content.decode()
    pinned.moment = NOW + dt.timedelta(minutes=121)  # the offer has ended
    ended = ada.open()

    for page in (junk, ended):
        later = _links(page)["Later times"]
        assert "offer=" not in later
        assert "offer=" not in re.findall(r'action="([^"]+)"', page)[-1]
        assert ada.client.get(later).status_code == 200
    assert "ended at 12:00" in ended
