"""A clinic admin who is not a superuser cannot change
one (password, groups, flags), delete one, or make anyone a superuser; and
the procedures' *Re-plan* action keeps to the clinic's rules.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from clinic.models import Surgeon
from followup.models import Visit
from tests.factories import TODAY, make_procedure

pytestmark = pytest.mark.django_db

PASSWORD = "pw-root-1234"


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser("root", "root@clinic.example", PASSWORD)


@pytest.fixture
def admin_client(client: Client, clinic_admin: User) -> Client:
    client.force_login(clinic_admin)
    return client


def _change_form(user: User, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
        "groups": [],
        "user_permissions": [],
    }
    data.update(overrides)
    return data


def test_a_clinic_admin_cannot_change_a_superusers_password(
    admin_client: Client, root: User
) -> None:
    url = f"/admin/auth/user/{root.pk}/password/"

    assert admin_client.get(url).status_code == 403
    response = admin_client.post(
        url,
        {"password1": "a-new-long-password-9", "password2": "a-new-long-password-9"},
    )

    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password(PASSWORD)


def test_a_clinic_admin_cannot_change_a_superusers_flags_or_groups(
    admin_client: Client, root: User
) -> None:
    url = f"/admin/auth/user/{root.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200  # they may look
    assert 'name="is_superuser"' not in page.content.decode()

    desk = Group.objects.get(name="front_desk")
    response = admin_client.post(
        url, _change_form(root, is_active="", is_staff="", groups=[desk.pk])
    )

    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_active and root.is_staff and root.is_superuser
    assert not root.groups.exists()


def test_a_clinic_admin_cannot_delete_a_superuser(
    admin_client: Client, root: User
) -> None:
    response = admin_client.post(f"/admin/auth/user/{root.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403

    response = admin_client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [root.pk], "post": "yes"},
    )
    assert response.status_code == 403
    assert User.objects.filter(pk=root.pk).exists()


def test_a_clinic_admin_cannot_make_anyone_superuser(
    admin_client: Client, clinic_admin: User, front_desk: User
) -> None:
    for user in (front_desk, clinic_admin):
        response = admin_client.post(
            f"/admin/auth/user/{user.pk}/change/",
            _change_form(user, groups=list(user.groups.values_list("pk", flat=True))),
        )
        assert response.status_code == 302, user.username
        user.refresh_from_db()
        assert not user.is_superuser, user.username


def test_a_clinic_admin_still_manages_other_users(
    admin_client: Client, front_desk: User
) -> None:
    response = admin_client.post(
        f"/admin/auth/user/{front_desk.pk}/change/",
        _change_form(front_desk, is_active=""),
    )

    assert response.status_code == 302
    front_desk.refresh_from_db()
    assert not front_desk.is_active


def test_a_superuser_may_change_another_superuser(client: Client, root: User) -> None:
    other = User.objects.create_superuser("root2", "", "pw-root2-1234")
    client.force_login(root)

    response = client.post(
        f"/admin/auth/user/{other.pk}/change/", _change_form(other, is_superuser="")
    )

    assert response.status_code == 302
    other.refresh_from_db()
    assert not other.is_superuser


def test_a_surgeon_with_staff_status_and_procedure_rights_cannot_replan(
    client: Client, surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    procedure = make_procedure(surgeon=surgeon_b)
    user = surgeon_a.user
    assert user is not None
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_procedure", "change_procedure"])
    )
    visits = Visit.objects.filter(procedure=procedure)
    before = sorted(visits.values_list("pk", "status", "due_date"))
    client.force_login(user)

    response = client.post(
        "/admin/clinic/procedure/",
        {"action": "replan_visits", "_selected_action": [procedure.pk]},
    )

    assert response.status_code == 403
    assert sorted(visits.values_list("pk", "status", "due_date")) == before


def test_a_clinic_admin_replans_from_the_admin(
    admin_client: Client, surgeon_b: Surgeon
) -> None:
    procedure = make_procedure(surgeon=surgeon_b, today=TODAY)

    response = admin_client.post(
        "/admin/clinic/procedure/",
        {"action": "replan_visits", "_selected_action": [procedure.pk]},
    )

    assert response.status_code == 302
