"""Deactivating an account ends its sessions and API tokens for good.

Django and knox refuse an inactive user's session and token; these tests
show that reactivating the account does not bring them back: the person
signs in again (clinic.withdrawal).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from tests.web.test_admin_users import _change_form
from tests.withdrawn import create_token, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clerk_deactivated_then_reactivated_must_sign_in_again(
    front_desk: User, clinic_admin: User
) -> None:
    desk = Client()
    sign_in(desk, front_desk)
    token = create_token(front_desk)
    assert desk.get("/desk/").status_code == 200
    api = Client(headers={"Authorization": f"Token {token}"})
    assert api.get("/api/visits/").status_code == 200
    admin = Client()
    admin.force_login(clinic_admin)
    form = _change_form(
        front_desk,
        is_staff="",
        is_superuser="",
        groups=[group.pk for group in front_desk.groups.all()],
    )
    url = f"/admin/auth/user/{front_desk.pk}/change/"

    # The clinic admin switches the account off, then on again.
    off = {key: value for key, value in form.items() if key != "is_active"}
    assert admin.post(url, off).status_code == 302
    assert admin.post(url, form).status_code == 302
    front_desk.refresh_from_db()
    assert front_desk.is_active

    assert desk.get("/desk/").url == "/login/?next=/desk/"  # type: ignore[attr-defined]
    assert api.get("/api/visits/").status_code == 403
    sign_in(desk, front_desk)  # the person signs in afresh, and works on
    assert desk.get("/desk/").status_code == 200


def test_saving_an_active_account_keeps_its_sessions(front_desk: User) -> None:
    desk = Client()
    sign_in(desk, front_desk)
    token = create_token(front_desk)

    front_desk.first_name = "Dani"
    front_desk.save()

    assert desk.get("/desk/").status_code == 200
    api = Client(headers={"Authorization": f"Token {token}"})
    assert api.get("/api/visits/").status_code == 200


def _set_active(how: str, user: User, active: bool) -> None:
    if how == "bulk update":
        User.objects.filter(pk=user.pk).update(is_active=active)
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE auth_user SET is_active = %s WHERE id = %s", [active, user.pk]
            )


@pytest.mark.parametrize("how", ["bulk update", "raw SQL"])
def test_an_account_switched_off_and_on_behind_djangos_back_must_sign_in_again(
    how: str, front_desk: User
) -> None:
    # No save(), so no signal; the database still knows.
    desk = Client()
    sign_in(desk, front_desk)
    token = create_token(front_desk)
    api = Client(headers={"Authorization": f"Token {token}"})
    assert desk.get("/desk/").status_code == 200
    assert api.get("/api/visits/").status_code == 200

    _set_active(how, front_desk, False)
    _set_active(how, front_desk, True)

    assert desk.get("/desk/").url == "/login/?next=/desk/"  # type: ignore[attr-defined]
    assert desk.get("/api/visits/").status_code == 403
    assert api.get("/api/visits/").status_code == 403
    sign_in(desk, front_desk)
    assert desk.get("/desk/").status_code == 200
    fresh = Client(headers={"Authorization": f"Token {create_token(front_desk)}"})
    assert fresh.get("/api/visits/").status_code == 200


def test_a_bulk_update_that_leaves_accounts_active_keeps_their_sessions(
    front_desk: User, clinic_admin: User
) -> None:
    desk = Client()
    sign_in(desk, front_desk)
    token = create_token(front_desk)

    User.objects.filter(pk=clinic_admin.pk).update(is_active=False)
    User.objects.update(is_active=True)

    assert desk.get("/desk/").status_code == 200
    api = Client(headers={"Authorization": f"Token {token}"})
    assert api.get("/api/visits/").status_code == 200
