"""/admin/ is for clinic admins: the `clinic_admin` group counts, `is_staff`
does not.

Decided: a clinic admin whose "staff status" is not ticked still gets in (the
group is what makes them an admin), and anyone else with it ticked by
mistake gets a 403, on the admin's index and on every model page alike.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Surgeon
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_surgeon_with_staff_status_ticked_gets_no_admin(
    client: Client, surgeon_a: Surgeon
) -> None:
    user = surgeon_a.user
    assert user is not None
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)

    for url in ("/admin/", "/admin/clinic/patient/", "/admin/followup/visit/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "The admin is for clinic admins only." in response.content.decode()


def test_a_front_desk_clerk_with_staff_status_ticked_gets_no_admin(
    client: Client, front_desk: User
) -> None:
    front_desk.is_staff = True
    front_desk.save(update_fields=["is_staff"])
    client.force_login(front_desk)

    assert client.get("/admin/clinic/patient/").status_code == 403


def test_a_clinic_admin_without_staff_status_uses_the_admin(client: Client) -> None:
    admin = UserFactory.create(username="head", group="clinic_admin", is_staff=False)
    client.force_login(admin)

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/clinic/patient/").status_code == 200
    assert client.get("/admin/followup/followuprule/").status_code == 200


def test_a_superuser_uses_the_admin(client: Client) -> None:
    client.force_login(User.objects.create_superuser("root", "", "pw-root-1234"))

    assert client.get("/admin/clinic/patient/").status_code == 200


def test_the_admin_login_page_hands_over_to_the_one_login_page(
    client: Client, clinic_admin: User
) -> None:
    response = client.get("/admin/login/?next=/admin/clinic/patient/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/clinic/patient/"

    client.force_login(clinic_admin)
    response = client.get("/admin/login/?next=/admin/clinic/patient/")
    assert response["Location"] == "/admin/clinic/patient/"


def test_the_admin_login_page_ignores_a_next_to_another_site(
    client: Client,
) -> None:
    response = client.get("/admin/login/?next=https://elsewhere.example/")

    assert response["Location"] == "/login/?next=/admin/"
