"""A link whose issuer was deleted is dead for good.

`created_by` becomes NULL when its user is deleted, and NULL used to mean
"made by a command": the clinic feed went 200, then 404 once its admin was
deactivated, then 200 again after a superuser deleted the account. A link
made by a command now says so (`issued_by_command`), and the link memory of
this process forgets a held link as soon as its issuer is deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from feeds import link_cache, links
from feeds.models import CalendarLink
from tests.factories import PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
NOTICE_SECONDS = 5.0


def issued_through_the_api(user: User, **payload: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.post(
        "/api/calendar-links/", payload, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    url: str = response.json()["url"]
    return "/" + url.split("/", 3)[3]


def poll(path: str) -> int:
    return Client().get(path).status_code


def held(path: str) -> None:
    """Poll until this process serves the link from memory."""
    assert poll(path) == 200
    with CaptureQueriesContext(connection) as read:
        assert poll(path) == 200
    assert not read.captured_queries


def superuser_deletes(user: User) -> None:
    root = User.objects.create_superuser("root", "", "pw-root-1234")
    client = Client()
    client.force_login(root)
    response = client.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content[:300]
    assert not User.objects.filter(pk=user.pk).exists()


@pytest.fixture
def other_process() -> Iterator[psycopg.Connection[Any]]:
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        yield other


def test_the_clinic_link_stays_dead_after_its_deactivated_admin_is_deleted(
    clinic_admin: User,
) -> None:
    path = issued_through_the_api(clinic_admin, scope="clinic")
    held(path)

    clinic_admin.is_active = False
    clinic_admin.save(update_fields=["is_active"])
    assert poll(path) == 404

    superuser_deletes(clinic_admin)

    assert poll(path) == 404
    assert poll(path) == 404  # and not held again


def test_a_patient_link_dies_when_its_active_clerk_is_deleted(
    front_desk: User,
) -> None:
    patient = PatientFactory.create()
    path = issued_through_the_api(front_desk, scope="patient", patient=patient.pk)
    held(path)

    superuser_deletes(front_desk)

    assert poll(path) == 404


def test_a_held_link_goes_when_another_process_deletes_its_issuer(
    clinic_admin: User, other_process: psycopg.Connection[Any]
) -> None:
    path = issued_through_the_api(clinic_admin, scope="clinic")
    held(path)

    # What Django's delete does in another worker: null the link's issuer,
    # then delete the user, in one transaction.
    with other_process.transaction():
        other_process.execute(
            "UPDATE feeds_calendarlink SET created_by_id = NULL"
            " WHERE created_by_id = %(user)s",
            {"user": clinic_admin.pk},
        )
        other_process.execute(
            "UPDATE auditlog_logentry SET actor_id = NULL WHERE actor_id = %(user)s",
            {"user": clinic_admin.pk},
        )
        other_process.execute(
            "DELETE FROM auth_user_groups WHERE user_id = %(user)s",
            {"user": clinic_admin.pk},
        )
        other_process.execute(
            "DELETE FROM auth_user WHERE id = %(user)s", {"user": clinic_admin.pk}
        )

    assert link_cache.links.wait(NOTICE_SECONDS), "no notice arrived"
    assert poll(path) == 404


def test_a_rotated_link_dies_with_the_clerk_who_rotated_it(
    front_desk: User,
) -> None:
    patient = PatientFactory.create()
    issued = links.create_link(scope="patient", patient_id=patient.pk, actor=front_desk)
    colleague = User.objects.create_user("desk2")
    colleague.groups.add(*front_desk.groups.all())
    rotated = links.rotate_link(link_id=issued.link.pk, actor=colleague)
    assert poll(rotated.path) == 200

    superuser_deletes(colleague)

    assert poll(rotated.path) == 404


def test_a_link_made_by_a_command_says_so_and_keeps_serving() -> None:
    issued = links.create_link(scope="clinic", by_command=True)

    assert CalendarLink.objects.get(pk=issued.link.pk).issued_by_command
    assert poll(issued.path) == 200


def test_a_patient_or_clinic_link_names_its_issuer_or_a_command() -> None:
    with pytest.raises(ValueError, match="issued by a user or by a command"):
        links.create_link(scope="clinic")
    assert not CalendarLink.objects.exists()
