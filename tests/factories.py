"""factory_boy factories for the clinic's objects.

Procedures are created through the service, as the front desk would, so
their visits exist; use `ProcedureFactory(...)` for that.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.contrib.auth.models import Group, User

from clinic.models import Patient, Procedure, ProcedureKind, Surgeon
from followup import services
from followup.models import ConsultationSession

TODAY = dt.date(2026, 11, 25)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-only")

    @factory.post_generation
    def group(obj: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if create and extracted:
            obj.groups.add(Group.objects.get(name=extracted))


class SurgeonFactory(factory.django.DjangoModelFactory[Surgeon]):
    class Meta:
        model = Surgeon

    given_name = factory.Sequence(lambda n: f"Surgeon{n}")
    family_name = "Test"


def surgeon_with_login(**fields: Any) -> Surgeon:
    """A surgeon whose login is active and in the `surgeon` group: their
    calendar link lives only while both hold."""
    login = UserFactory.create(group="surgeon")
    return SurgeonFactory.create(user=login, **fields)


class ConsultationSessionFactory(
    factory.django.DjangoModelFactory[ConsultationSession]
):
    """Monday 09:00-14:00 in 10-minute slots unless told otherwise."""

    class Meta:
        model = ConsultationSession

    surgeon = factory.SubFactory(SurgeonFactory)
    weekday = 0
    start_time = dt.time(9)
    end_time = dt.time(14)
    slot_minutes = 10


class PatientFactory(factory.django.DjangoModelFactory[Patient]):
    class Meta:
        model = Patient

    record_number = factory.Sequence(lambda n: f"T{n:06d}")
    given_name = "Maria"
    family_name = "Garcia"
    birth_date = dt.date(1970, 5, 17)


def make_procedure(
    *,
    surgery_date: dt.date = dt.date(2026, 11, 2),
    kind: ProcedureKind = ProcedureKind.ENDOSCOPIC,
    today: dt.date = TODAY,
    patient: Patient | None = None,
    surgeon: Surgeon | None = None,
) -> Procedure:
    result = services.create_procedure(
        patient=patient or PatientFactory.create(),
        surgeon=surgeon or SurgeonFactory.create(),
        kind=kind,
        surgery_date=surgery_date,
        today=today,
    )
    return result.procedure
