"""A freed slot is offered, in the transaction that frees it, to the
patients whose window holds it: overdue first, then the window closing
soonest, three at a time, once a day and one pending offer each."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from booking_links import services as links
from clinic.models import Patient, Reminders
from followup import changes, services
from followup.models import ContactChannel, ContactOutcome
from messaging.models import Channel, Kind, SmsOptOut, Status
from messaging.replies import receive_sms
from messaging.services import send_due_messages
from offers import freeing
from offers.models import FreedSlot, Offer, OfferStatus
from tests.factories import SurgeonFactory
from tests.followup.world import book, madrid
from tests.offers.conftest import (
    CLOSING_SOONER,
    NOW,
    OVERDUE,
    SLOT,
    Clinic,
    offer_messages,
    offer_of,
    offered_visits,
    waiting,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def unbook(clinic: Clinic, desk: User, *, now: dt.datetime = NOW) -> None:
    services.unbook_visit(
        visit_id=clinic.giver.pk, actor=desk, now=now, reason="Rang: cannot come"
    )


def test_a_freed_slot_is_offered_to_three_overdue_first_then_closing_soonest(
    clinic: Clinic, front_desk: User
) -> None:
    sol = clinic.surgeon
    late = waiting(sol, surgery=OVERDUE)
    soon = waiting(sol, surgery=CLOSING_SOONER)
    later = [waiting(sol), waiting(sol)]

    unbook(clinic, front_desk)

    assert offered_visits() == sorted([late.pk, soon.pk, later[0].pk])
    offer = offer_of(soon)
    assert (offer.status, offer.batch, offer.freed_slot.start) == (
        OfferStatus.PENDING,
        1,
        SLOT,
    )
    assert offer.expires_at == NOW + dt.timedelta(minutes=120)
    freed = FreedSlot.objects.get()
    assert (freed.surgeon_id, freed.action, freed.offered) == (sol.pk, "unbooked", True)


def test_the_offer_message_says_the_slot_and_carries_the_claim_link(
    clinic: Clinic, front_desk: User
) -> None:
    by_text = waiting(clinic.surgeon, name="Ada")
    by_email = waiting(clinic.surgeon, name="Eva", reminders=Reminders.EMAIL)

    unbook(clinic, front_desk)

    [text] = offer_messages(by_text)
    offer = offer_of(by_text)
    assert (text.channel, text.status, text.to) == (
        Channel.SMS,
        Status.QUEUED,
        by_text.patient.phone,
    )
    assert text.scheduled_for == NOW
    assert "Ada" in text.text
    assert "27 Nov 2026, 09:00 with Dr. Sol Sanz" in text.text
    assert "until 12:00" in text.text
    assert f"?offer={offer.pk}" in text.text
    assert offer.message_id == text.pk
    [mail] = offer_messages(by_email)
    assert (mail.channel, mail.to) == (Channel.EMAIL, by_email.patient.email)
    assert mail.subject == "A time has come free for your Post-operative control"
    assert f"?offer={offer_of(by_email).pk}" in mail.text


def test_the_offer_message_is_sent_by_the_outbox(
    clinic: Clinic, front_desk: User
) -> None:
    visit = waiting(clinic.surgeon)
    unbook(clinic, front_desk)

    send_due_messages(now=NOW)

    [sent] = offer_messages(visit)
    assert (sent.kind, sent.status, sent.sent_at) == (Kind.OFFER, Status.SENT, NOW)


def test_who_is_not_offered_the_slot(clinic: Clinic, front_desk: User) -> None:
    sol = clinic.surgeon
    no_consent = waiting(sol, reminders=Reminders.NONE)
    stopped = waiting(sol)
    SmsOptOut.objects.create(phone=stopped.patient.phone, at=NOW)
    another_surgeons = waiting(SurgeonFactory.create())
    window_opens_later = waiting(sol, surgery=dt.date(2026, 11, 25))  # 2-10 Dec
    booked = waiting(sol)
    book(booked, madrid(2026, 11, 30, 9), actor=front_desk, now=NOW)
    # Gil's own other visit, were it to book, is not offered Gil's time.
    gil_again = waiting(sol)
    gil_again.patient = clinic.giver.patient
    gil_again.save(update_fields=["patient"])
    # The desk rang this one's number and reached someone else.
    wrong = waiting(sol)
    Patient.objects.filter(pk=wrong.patient_id).update(
        wrong_phone=wrong.patient.phone, wrong_phone_at=NOW
    )

    unbook(clinic, front_desk)

    assert offered_visits() == []
    assert not Offer.objects.filter(
        visit__in=[
            no_consent,
            stopped,
            another_surgeons,
            window_opens_later,
            booked,
            wrong,
        ]
    ).exists()
    assert FreedSlot.objects.get().offered


def test_a_slot_freed_less_than_24_hours_ahead_is_recorded_but_not_offered(
    clinic: Clinic, front_desk: User, pinned: object
) -> None:
    waiting(clinic.surgeon)
    day_before = SLOT - dt.timedelta(hours=23)

    unbook(clinic, front_desk, now=day_before)

    freed = FreedSlot.objects.get()
    assert (freed.offered, freed.offers_ended_at) == (False, day_before)
    assert Offer.objects.count() == 0


def test_the_lead_is_read_when_used(
    clinic: Clinic, front_desk: User, settings: object
) -> None:
    waiting(clinic.surgeon)
    settings.OFFER_MIN_LEAD_HOURS = 48  # type: ignore[attr-defined]

    unbook(clinic, front_desk)  # 47 hours ahead

    assert Offer.objects.count() == 0


@pytest.mark.parametrize(
    "cause", ["cancel", "reschedule", "reply_x", "link", "procedure_cancelled"]
)
def test_every_way_of_giving_a_slot_back_offers_it(
    clinic: Clinic, front_desk: User, cause: str
) -> None:
    visit = waiting(clinic.surgeon)
    giver = clinic.giver
    if cause == "cancel":
        services.cancel_visit(
            visit_id=giver.pk, reason="Moved away", actor=front_desk, now=NOW
        )
    elif cause == "reschedule":
        services.reschedule_visit(
            visit_id=giver.pk,
            start=madrid(2026, 12, 1, 11),
            surgeon_id=clinic.surgeon.pk,
            actor=front_desk,
            now=NOW,
        )
    elif cause == "reply_x":
        send_due_messages(now=NOW)  # the reminder, due 2 days before
        receive_sms(number=giver.patient.phone, body="X", sid="SM" + "1" * 32, now=NOW)
    elif cause == "link":
        link = links.issue_link(visit_id=giver.pk, actor=None, now=NOW).link
        links.give_up_through_link(link=link, now=NOW, sequence=None)
    else:
        services.cancel_procedure(
            procedure_id=giver.procedure_id, reason="Entered twice", actor=front_desk
        )

    assert offered_visits() == [visit.pk]


def test_a_booking_gives_no_slot_back(clinic: Clinic, front_desk: User) -> None:
    waiting(clinic.surgeon)
    assert FreedSlot.objects.count() == 0
    assert Offer.objects.count() == 0


def test_the_same_freeing_told_twice_makes_one_batch(
    clinic: Clinic, front_desk: User
) -> None:
    sol = clinic.surgeon
    for _ in range(6):
        waiting(sol)
    unbook(clinic, front_desk)
    giver = clinic.giver
    giver.refresh_from_db()
    told = changes.FreedSlot(
        visit_id=giver.pk,
        patient_id=giver.patient_id,
        sequence=giver.sequence,
        surgeon_id=sol.pk,
        start=SLOT,
        end=SLOT + dt.timedelta(minutes=20),
        at=NOW,
        action="unbooked",
    )

    freeing.slot_freed(told)
    with transaction.atomic():
        freeing.slot_freed(told)

    assert FreedSlot.objects.count() == 1
    assert Offer.objects.count() == 3


def test_a_patient_holds_one_pending_offer_and_one_offer_a_day(
    clinic: Clinic, front_desk: User
) -> None:
    sol = clinic.surgeon
    ada = waiting(sol)
    # A second booked slot of Sol's, freed after the first.
    otto = waiting(sol, name="Otto")
    ten = madrid(2026, 11, 27, 10)
    book(otto, ten, actor=front_desk, now=NOW)
    unbook(clinic, front_desk)
    assert offered_visits() == [ada.pk]

    services.unbook_visit(visit_id=otto.pk, actor=front_desk, now=NOW)

    # Ada's pending offer keeps the second from her (Gil, free again, has it).
    second = FreedSlot.objects.get(start=ten)
    assert not second.offers.filter(visit=ada).exists()
    Offer.objects.filter(visit=ada).update(status=OfferStatus.EXPIRED)
    book(otto, ten, actor=front_desk, now=NOW)
    services.unbook_visit(visit_id=otto.pk, actor=front_desk, now=NOW)
    # Expired, but offered within the day: still none for Ada.
    third = FreedSlot.objects.filter(start=ten).latest("pk")
    assert third != second
    assert not third.offers.filter(visit=ada).exists()
    assert Offer.objects.filter(visit=ada).count() == 1


def test_a_queued_offer_in_quiet_hours_goes_and_holds_from_the_morning(
    clinic: Clinic, front_desk: User
) -> None:
    visit = waiting(clinic.surgeon)
    evening = madrid(2026, 11, 25, 21)

    unbook(clinic, front_desk, now=evening)

    offer = offer_of(visit)
    morning = madrid(2026, 11, 26, 9)
    assert offer.message is not None
    assert offer.message.scheduled_for == morning
    assert offer.expires_at == morning + dt.timedelta(minutes=120)


def test_an_offer_is_withdrawn_when_its_visit_is_cancelled(
    clinic: Clinic, front_desk: User
) -> None:
    visit = waiting(clinic.surgeon)
    unbook(clinic, front_desk)

    services.cancel_visit(
        visit_id=visit.pk, reason="Seen elsewhere", actor=front_desk, now=NOW
    )

    offer = offer_of(visit)
    assert (offer.status, offer.closed_at) == (OfferStatus.WITHDRAWN, NOW)
    assert offer.message is not None
    assert offer.message.status == Status.CANCELLED


def test_an_offer_is_withdrawn_when_its_number_is_found_to_reach_someone_else(
    clinic: Clinic, front_desk: User
) -> None:
    visit = waiting(clinic.surgeon)
    unbook(clinic, front_desk)

    services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.WRONG_NUMBER,
        actor=front_desk,
        now=NOW,
    )

    offer = offer_of(visit)
    assert (offer.status, offer.closed_at) == (OfferStatus.WITHDRAWN, NOW)
    assert offer.message is not None
    assert offer.message.status == Status.CANCELLED
    assert offer.message.error == (
        "The offer no longer applies: the visit, the patient's consent or "
        "their number changed."
    )
