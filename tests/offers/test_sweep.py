"""Unclaimed offers expire after OFFER_HOLD_MINUTES and the next batch is
offered while the slot is still far enough ahead; a booking of the slot,
by anyone, closes its offers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from followup import services
from followup.models import Visit
from messaging.models import Kind, Message, Status
from messaging.services import send_due_messages
from offers.models import FreedSlot, Offer, OfferStatus
from offers.sweep import sweep_offers
from offers.tasks import sweep_offers as sweep_task
from tests.followup.world import book
from tests.messaging.conftest import Clock
from tests.offers.conftest import NOW, SLOT, Clinic, offer_of, waiting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LATER = NOW + dt.timedelta(minutes=121)


def seven_waiting_then_freed(clinic: Clinic, desk: User) -> list[int]:
    visits = [waiting(clinic.surgeon) for _ in range(7)]
    services.unbook_visit(visit_id=clinic.giver.pk, actor=desk, now=NOW)
    return [visit.pk for visit in visits]


def pending_visits() -> list[int]:
    return sorted(Offer.objects.pending().values_list("visit_id", flat=True))


def test_unclaimed_offers_expire_and_the_next_batch_is_offered(
    clinic: Clinic, front_desk: User
) -> None:
    visits = seven_waiting_then_freed(clinic, front_desk)
    assert pending_visits() == visits[:3]

    report = sweep_offers(now=LATER)

    assert (report.expired, report.offered) == (3, 3)
    assert pending_visits() == visits[3:6]
    first = Offer.objects.filter(visit_id__in=visits[:3])
    assert set(first.values_list("status", flat=True)) == {OfferStatus.EXPIRED}
    # Never sent (no sender ran): their messages are cancelled, not sent late.
    statuses = first.values_list("message__status", flat=True)
    assert set(statuses) == {Status.CANCELLED}
    assert set(Offer.objects.pending().values_list("batch", flat=True)) == {2}


def test_nothing_expires_before_its_time(clinic: Clinic, front_desk: User) -> None:
    seven_waiting_then_freed(clinic, front_desk)

    report = sweep_offers(now=NOW + dt.timedelta(minutes=119))

    assert (report.expired, report.offered) == (0, 0)
    assert Offer.objects.pending().count() == 3


def test_sweeping_twice_at_once_offers_the_next_batch_once(
    clinic: Clinic, front_desk: User
) -> None:
    seven_waiting_then_freed(clinic, front_desk)

    sweep_offers(now=LATER)
    again = sweep_offers(now=LATER)

    assert (again.expired, again.offered) == (0, 0)
    assert Offer.objects.count() == 6


def test_a_slot_nearer_than_the_lead_is_offered_no_more(
    clinic: Clinic, front_desk: User
) -> None:
    seven_waiting_then_freed(clinic, front_desk)
    day_before = SLOT - dt.timedelta(hours=23)

    report = sweep_offers(now=day_before)

    assert (report.expired, report.offered, report.ended) == (3, 0, 1)
    assert FreedSlot.objects.get().offers_ended_at == day_before


def test_the_beat_task_sweeps_on_the_clinics_clock(
    clinic: Clinic, front_desk: User, pinned: Clock
) -> None:
    seven_waiting_then_freed(clinic, front_desk)
    pinned.moment = LATER

    assert sweep_task() == "expired=3 offered=3 ended=0"


def test_a_clerk_booking_the_slot_for_anyone_closes_its_offers_as_taken(
    clinic: Clinic, front_desk: User
) -> None:
    visits = seven_waiting_then_freed(clinic, front_desk)
    walk_in = waiting(clinic.surgeon)

    book(walk_in, SLOT, actor=front_desk, now=NOW)

    assert Offer.objects.filter(status=OfferStatus.TAKEN).count() == 3
    freed = FreedSlot.objects.get()
    assert (freed.refilled_at, freed.refilled_by_id) == (NOW, walk_in.pk)
    assert sweep_offers(now=LATER).offered == 0
    assert Offer.objects.get(visit_id=visits[0]).closed_at == NOW


def test_a_clerk_booking_an_offered_patient_into_the_slot_counts_as_claimed(
    clinic: Clinic, front_desk: User
) -> None:
    visits = seven_waiting_then_freed(clinic, front_desk)
    chosen = Visit.objects.get(pk=visits[1])

    book(chosen, SLOT, actor=front_desk, now=NOW)

    assert offer_of(chosen).status == OfferStatus.CLAIMED
    statuses = Offer.objects.exclude(visit=chosen).values_list("status", flat=True)
    assert set(statuses) == {OfferStatus.TAKEN}


def test_booking_another_time_withdraws_the_patients_offer(
    clinic: Clinic, front_desk: User
) -> None:
    visits = seven_waiting_then_freed(clinic, front_desk)
    ada = Visit.objects.get(pk=visits[0])

    book(ada, SLOT + dt.timedelta(hours=2), actor=front_desk, now=NOW)

    assert offer_of(ada).status == OfferStatus.WITHDRAWN
    assert Offer.objects.pending().count() == 2


def test_an_offer_text_is_never_sent_after_its_offer_ends_even_before_the_sweep(
    clinic: Clinic, front_desk: User
) -> None:
    visits = seven_waiting_then_freed(clinic, front_desk)
    [offer, *_] = Offer.objects.pending()
    # The sender's worker was down until the offers ended, and it runs before
    # the sweep: "whoever books it first, until 12:00" must not go at 12:00.
    send_due_messages(now=offer.expires_at)

    texts = Message.objects.filter(kind=Kind.OFFER, visit_id__in=visits)
    assert texts.count() == 3
    assert set(texts.values_list("status", "error")) == {
        (Status.CANCELLED, "What it offers had ended before it could be sent.")
    }
