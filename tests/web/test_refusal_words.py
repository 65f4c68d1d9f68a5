"""The refusals the pages show are in the clinic's words (`web.refusals`).

Every refusal a page can show, provoked through the services themselves,
is said without a field code (`call_back_on`), without a visit's id
("visit 52": possibly another patient's) and without an ISO date: dates
are the clinic's ("Fri 27 Nov 2026, 09:00"). The API keeps its codes and
messages (tests/api).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Patient, ProcedureKind, Surgeon
from feeds import links
from followup import services
from followup.exceptions import Conflict, DomainError
from followup.models import ContactChannel, ContactOutcome, Visit
from followup.services.parsing import (
    parse_aware_datetime,
    parse_choice,
    parse_date,
    parse_kind,
)
from tests.factories import PatientFactory, SurgeonFactory, make_procedure
from tests.followup.world import FRIDAY_9, NOW, book, madrid, other_postop, postop
from web.refusals import say

pytestmark = pytest.mark.django_db

TODAY = NOW.date()
CALL_BACK = ContactOutcome.CALL_BACK_LATER
CODE_WORD = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
VISIT_ID = re.compile(r"\bvisit \d+", re.IGNORECASE)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def in_words(text: str) -> list[str]:
    """What is wrong with `text` as a page's refusal (nothing, if all well)."""
    return [
        found.group()
        for pattern in (CODE_WORD, VISIT_ID, ISO_DATE)
        if (found := pattern.search(text))
    ]


class World:
    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.surgeon = SurgeonFactory.create()
        self.held = postop(surgeon=self.surgeon)  # another patient's, booked
        book(self.held, actor=actor)
        self.visit = postop(surgeon=self.surgeon)
        self.patient = self.visit.patient
        # The same patient's other visit, with another surgeon, booked.
        self.own = other_postop(self.patient, surgeon=SurgeonFactory.create())
        book(self.own, madrid(2026, 11, 27, 11), actor=actor)
        self.cancelled = postop(surgeon=self.surgeon)
        services.cancel_visit(
            visit_id=self.cancelled.pk, reason="Not needed", actor=actor, now=NOW
        )
        self.stem = make_procedure(kind=ProcedureKind.ENDOSCOPIC_STEM_CELL)
        self.study = services.record_mri_study(
            patient_id=self.patient.pk,
            performed_on=dt.date(2026, 11, 1),
            reference="MR-1",
            actor=actor,
            today=TODAY,
        )

    def book(self, start: dt.datetime, *, surgeon: int | None = None) -> Visit:
        return services.book_visit(
            visit_id=self.visit.pk,
            start=start,
            surgeon_id=surgeon or self.surgeon.pk,
            actor=self.actor,
            now=NOW,
        )

    def contact(self, **given: object) -> object:
        fields: dict[str, object] = {
            "channel": ContactChannel.PHONE,
            "outcome": ContactOutcome.NO_ANSWER,
        }
        return services.record_contact_attempt(
            visit_id=given.pop("visit", self.visit.pk),  # type: ignore[arg-type]
            **{**fields, **given},  # type: ignore[arg-type]
            actor=self.actor,
            now=NOW,
        )

    def patient_with(self, **given: object) -> Patient:
        fields = {
            "record_number": "MRN-NEW-1",
            "given_name": "Ana",
            "family_name": "Ruiz",
            "birth_date": dt.date(1970, 1, 1),
        }
        return services.create_patient(**{**fields, **given}, today=TODAY)  # type: ignore[arg-type]

    def procedure(
        self, surgery_date: dt.date, kind: ProcedureKind = ProcedureKind.ENDOSCOPIC
    ) -> object:
        return services.create_procedure(
            patient=self.patient,
            surgeon=self.surgeon,
            kind=kind,
            surgery_date=surgery_date,
            today=TODAY,
        )

    def study_on(
        self, performed_on: dt.date, reference: str = "MR-2", **more: object
    ) -> object:
        return services.record_mri_study(
            patient_id=self.patient.pk,
            performed_on=performed_on,
            reference=reference,
            actor=self.actor,
            today=TODAY,
            **more,  # type: ignore[arg-type]
        )


def refusals(w: World, admin: User) -> dict[str, Callable[[], object]]:
    """Every refusal a page can show, by what the person did."""
    v = w.visit.pk
    actor = w.actor
    return {
        # Booking and rescheduling (the desk's slot panel)
        "surgeon busy": lambda: w.book(FRIDAY_9),
        "patient busy": lambda: w.book(madrid(2026, 11, 27, 11)),
        "in the past": lambda: w.book(madrid(2026, 11, 24, 9)),
        "outside the window": lambda: w.book(madrid(2027, 3, 1, 9)),
        "no session that day": lambda: w.book(madrid(2026, 11, 28, 9)),
        "off the grid": lambda: w.book(madrid(2026, 11, 27, 9, 5)),
        "unknown surgeon": lambda: w.book(FRIDAY_9, surgeon=999999),
        "reschedule a visit to book": lambda: services.reschedule_visit(
            visit_id=v, start=FRIDAY_9, surgeon_id=w.surgeon.pk, actor=actor, now=NOW
        ),
        "book a booked visit": lambda: services.book_visit(
            visit_id=w.held.pk,
            start=madrid(2026, 11, 30, 9),
            surgeon_id=w.surgeon.pk,
            actor=actor,
            now=NOW,
        ),
        "slots of a cancelled visit": lambda: services.propose_slots(
            visit=Visit.objects.get(pk=w.cancelled.pk), now=NOW
        ),
        "check in on another day": lambda: services.check_in_visit(
            visit_id=w.held.pk, actor=actor, now=NOW
        ),
        "no-show too early": lambda: services.mark_no_show(
            visit_id=w.held.pk, actor=actor, now=NOW
        ),
        "a time that is not one": lambda: parse_aware_datetime("yesterday"),
        "a time without offset": lambda: parse_aware_datetime("2026-11-27T09:00"),
        # Cancelling
        "cancel without a reason": lambda: services.cancel_visit(
            visit_id=v, reason="  ", actor=actor, now=NOW
        ),
        # Contact attempts
        "call back without a date": lambda: w.contact(outcome=CALL_BACK),
        "call back today": lambda: w.contact(outcome=CALL_BACK, call_back_on=TODAY),
        "call back in two years": lambda: w.contact(
            outcome=CALL_BACK, call_back_on=dt.date(2028, 11, 25)
        ),
        "call-back date not a date": lambda: parse_date(
            "2026-02-30", field_name="call_back_on"
        ),
        "a date with another outcome": lambda: w.contact(
            call_back_on=dt.date(2026, 12, 1)
        ),
        "unknown channel": lambda: parse_choice("", ContactChannel, "channel"),
        "unknown outcome": lambda: parse_choice("maybe", ContactOutcome, "outcome"),
        "note too long": lambda: w.contact(note="x" * 5000),
        "null in the note": lambda: w.contact(note="a\x00b"),
        "contact on a cancelled visit": lambda: w.contact(visit=w.cancelled.pk),
        # Registration
        "given name without letters": lambda: w.patient_with(given_name="123"),
        "family name without letters": lambda: w.patient_with(family_name="--"),
        "record number with a formula": lambda: w.patient_with(record_number="=1+1"),
        "record number taken": lambda: w.patient_with(
            record_number=w.patient.record_number
        ),
        "birth date not a date": lambda: parse_date(
            "1970-02-30", field_name="birth_date"
        ),
        "birth date in the future": lambda: w.patient_with(
            birth_date=dt.date(2030, 1, 1)
        ),
        "birth date before 1900": lambda: w.patient_with(
            birth_date=dt.date(1850, 1, 1)
        ),
        "birth date after surgery": lambda: services.correct_patient(
            patient_id=w.patient.pk, today=TODAY, birth_date=dt.date(2026, 11, 24)
        ),
        "surgery years ahead": lambda: w.procedure(dt.date(2036, 1, 1)),
        "surgery before birth": lambda: w.procedure(dt.date(1900, 1, 1)),
        "unknown kind": lambda: parse_kind("knee"),
        # MRI studies
        "scan in the future": lambda: w.study_on(dt.date(2026, 12, 24)),
        "scan before birth": lambda: w.study_on(dt.date(1900, 1, 2)),
        "report before the scan": lambda: w.study_on(
            dt.date(2026, 11, 10), report_received_on=dt.date(2026, 11, 9)
        ),
        "report in the future": lambda: services.record_mri_report(
            study_id=w.study.pk, received_on=dt.date(2026, 12, 24), today=TODAY
        ),
        "study recorded twice": lambda: w.study_on(
            dt.date(2026, 11, 1), reference="MR-1"
        ),
        # Annual programmes (the surgeon's page)
        "no programme to end": lambda: services.end_annual_reviews(
            procedure_id=w.visit.procedure_id,
            end_date=dt.date(2027, 1, 1),
            reason="Stable",
            today=TODAY,
        ),
        "end before surgery": lambda: services.end_annual_reviews(
            procedure_id=w.stem.pk,
            end_date=dt.date(2000, 1, 1),
            reason="Stable",
            today=TODAY,
        ),
        # Calendar links
        "unknown calendar": lambda: links.create_link(scope="nope", actor=admin),
        "a patient no longer there": lambda: links.create_link(
            scope="patient", patient_id=999999, actor=admin
        ),
        "a date typed wrong": lambda: parse_date("31/12/2026", field_name="date"),
    }


def test_every_refusal_a_page_shows_is_in_the_clinics_words(
    front_desk: User, clinic_admin: User
) -> None:
    world = World(front_desk)
    wrong = {}
    for name, call in refusals(world, clinic_admin).items():
        with pytest.raises(DomainError) as refused:
            call()
        said = say(refused.value)
        assert said, name
        if problems := in_words(said):
            wrong[name] = (said, problems)

    assert wrong == {}


def test_a_busy_slot_is_said_as_taken_with_the_time_not_the_other_visit(
    front_desk: User,
) -> None:
    world = World(front_desk)

    with pytest.raises(Conflict) as refused:
        world.book(FRIDAY_9)

    # The API keeps its words, the other visit's id included.
    assert f"(visit {world.held.pk})" in refused.value.message
    assert say(refused.value) == (
        f"That time, Fri 27 Nov 2026, 09:00, is taken: {world.surgeon} already "
        "has a visit then. Choose another slot."
    )


def test_a_refusal_without_words_of_its_own_never_shows_codes_or_ids() -> None:
    unknown = DomainError("Visit 52 is held by import_job 2026-12-08.", code="odd")

    said = say(unknown)

    assert in_words(said) == []
    assert "Visit 52" not in said


# --- on the pages ----------------------------------------------------------------


@pytest.fixture
def desk(client: Client, front_desk: User, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)
    client.force_login(front_desk)
    return client


def test_the_desk_says_a_call_back_without_a_date_in_words(desk: Client) -> None:
    visit = postop(surgeon=Surgeon.objects.first() or SurgeonFactory.create())

    response = desk.post(
        f"/desk/visits/{visit.pk}/contact/",
        {"channel": "phone", "outcome": "call_back_later", "back": "tab=all"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "“Call back later” needs the day to call the patient back" in page
    assert "needs call_back_on" not in page


def test_the_desk_asks_why_a_visit_is_cancelled(desk: Client) -> None:
    visit = postop()

    response = desk.post(
        f"/desk/visits/{visit.pk}/cancel/", {"reason": " ", "back": "tab=all"}
    )

    assert response.status_code == 400
    assert "Say why the visit is no longer needed." in response.content.decode()


def test_registration_says_a_name_without_letters_beside_the_field(
    desk: Client,
) -> None:
    surgeon = SurgeonFactory.create()
    response = desk.post(
        "/desk/patients/new/",
        {
            "record_number": "MRN-77",
            "given_name": "123",
            "family_name": "Ruiz",
            "birth_date": "1970-01-01",
            "surgeon": surgeon.pk,
            "kind": ProcedureKind.ENDOSCOPIC,
            "surgery_date": "2026-11-20",
        },
    )

    assert response.context["form"].errors["given_name"] == [
        "Given name needs letters."
    ]
    assert "given_name &#x27;123&#x27;" not in response.content.decode()
    assert not Patient.objects.filter(record_number="MRN-77").exists()


def test_the_patient_page_says_a_scan_in_the_future_with_the_clinics_date(
    desk: Client,
) -> None:
    patient = PatientFactory.create()
    make_procedure(patient=patient)

    response = desk.post(
        f"/desk/patients/{patient.pk}/mri-studies/",
        {"performed_on": "2026-12-24", "reference": "MR-9"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "The scan date, Thu 24 Dec 2026, is in the future" in page
    assert "performed_on" not in re.sub(r'(name|id|for)="[^"]*"', "", page)
