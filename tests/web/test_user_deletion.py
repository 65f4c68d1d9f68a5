"""A user with history is deactivated, never deleted,
by anyone but a superuser; and when a superuser deletes one, the history
still names them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followup import services
from followup.models import ContactChannel, ContactOutcome, Visit
from tests.factories import TODAY, UserFactory, make_procedure

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
REFUSAL = "has a history in the clinic records: deactivate the account instead"


@pytest.fixture
def admin_client(client: Client, clinic_admin: User) -> Client:
    client.force_login(clinic_admin)
    return client


@pytest.fixture
def visit(front_desk: User) -> Visit:
    """A visit whose history names the clerk: a contact attempt, a cancel."""
    procedure = make_procedure(today=TODAY)
    visit = Visit.objects.filter(procedure=procedure).order_by("due_date").first()
    assert visit is not None
    services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.NO_ANSWER,
        actor=front_desk,
        now=NOW,
    )
    services.cancel_visit(
        visit_id=visit.pk, reason="Patient moved", actor=front_desk, now=NOW
    )
    return visit


@pytest.mark.usefixtures("visit")
def test_a_clinic_admin_is_told_to_deactivate_a_user_with_history(
    admin_client: Client, front_desk: User
) -> None:
    url = f"/admin/auth/user/{front_desk.pk}/delete/"

    for response in (
        admin_client.get(url, follow=True),
        admin_client.post(url, {"post": "yes"}, follow=True),
    ):
        assert response.status_code == 200
        assert REFUSAL in response.content.decode()
    assert User.objects.filter(pk=front_desk.pk).exists()


@pytest.mark.usefixtures("visit")
def test_a_bulk_delete_of_a_user_with_history_is_refused(
    admin_client: Client, front_desk: User
) -> None:
    response = admin_client.post(
        "/admin/auth/user/",
        {
            "action": "delete_selected",
            "_selected_action": [front_desk.pk],
            "post": "yes",
        },
        follow=True,
    )

    assert REFUSAL in response.content.decode()
    assert User.objects.filter(pk=front_desk.pk).exists()


def test_a_clinic_admin_still_deletes_an_account_without_history(
    admin_client: Client,
) -> None:
    typo = UserFactory.create(username="dessk", group="front_desk")

    response = admin_client.post(f"/admin/auth/user/{typo.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=typo.pk).exists()


def test_the_history_names_a_deleted_user(
    client: Client, front_desk: User, clinic_admin: User, visit: Visit
) -> None:
    root = User.objects.create_superuser("root", "", "pw-root-1234")
    client.force_login(root)
    response = client.post(f"/admin/auth/user/{front_desk.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=front_desk.pk).exists()
    client.force_login(clinic_admin)

    events = client.get(f"/api/visits/{visit.pk}/events/").json()
    assert [event["actor"] for event in events if event["action"] == "cancelled"] == [
        "desk"
    ]
    attempts = client.get(f"/api/visits/{visit.pk}/contact-attempts/").json()
    assert [attempt["actor"] for attempt in attempts] == ["desk"]
    page = client.get(f"/desk/patients/{visit.patient_id}/").content.decode()
    assert "<td>desk</td>" in page
    admin_page = client.get(f"/admin/followup/visit/{visit.pk}/change/")
    assert "desk" in admin_page.content.decode()
