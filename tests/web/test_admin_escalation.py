"""A clinic admin who is not a superuser cannot give
themselves a permission, read or replace anyone's TOTP secret, or erase the
login history.

The clinic admin here has passed 2FA (a confirmed device, a verified
session), as in production: what they are refused is refused to the
person, not to a half-signed-in session.
"""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.web.test_admin_users import _change_form

pytestmark = pytest.mark.django_db

OTP_PERMISSIONS = ("view_totpdevice", "change_totpdevice", "delete_totpdevice")


def _verified(client: Client, user: User) -> Client:
    """Signed in with a confirmed TOTP device, and this session passed it."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def two_factor_required(settings: Any) -> None:
    settings.ADMIN_TWO_FACTOR_REQUIRED = True


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser("root", "root@clinic.example", "pw-root-1234")


@pytest.fixture
def admin_client(two_factor_required: None, clinic_admin: User) -> Client:
    client = _verified(Client(), clinic_admin)
    assert client.get("/admin/").status_code == 200
    return client


@pytest.fixture
def root_client(two_factor_required: None, root: User) -> Client:
    return _verified(Client(), root)


def _own_form(user: User, **overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "is_superuser": "",
        "groups": list(user.groups.values_list("pk", flat=True)),
        **overrides,
    }
    return _change_form(user, **fields)


def _permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


def test_a_clinic_admin_cannot_grant_themselves_a_permission(
    admin_client: Client, clinic_admin: User
) -> None:
    wanted = [_permission(codename).pk for codename in OTP_PERMISSIONS]
    url = f"/admin/auth/user/{clinic_admin.pk}/change/"
    assert 'name="user_permissions"' not in admin_client.get(url).content.decode()

    admin_client.post(url, _own_form(clinic_admin, user_permissions=wanted))

    assert not clinic_admin.user_permissions.exists()
    assert not User.objects.get(pk=clinic_admin.pk).has_perm("otp_totp.view_totpdevice")


def test_a_clinic_admin_cannot_change_their_own_groups_or_active_flag(
    admin_client: Client, clinic_admin: User, root: User
) -> None:
    desk = Group.objects.get(name="front_desk")
    url = f"/admin/auth/user/{clinic_admin.pk}/change/"

    admin_client.post(
        url, _own_form(clinic_admin, groups=[desk.pk], is_active="", is_staff="")
    )

    clinic_admin.refresh_from_db()
    assert list(clinic_admin.groups.values_list("name", flat=True)) == ["clinic_admin"]
    assert clinic_admin.is_active


def test_a_clinic_admin_cannot_give_anyone_user_permissions(
    admin_client: Client, front_desk: User
) -> None:
    wanted = [_permission("view_totpdevice").pk]
    response = admin_client.post(
        f"/admin/auth/user/{front_desk.pk}/change/",
        _own_form(front_desk, user_permissions=wanted, first_name="Dani"),
    )

    assert response.status_code == 302  # the rest of the form is saved
    front_desk.refresh_from_db()
    assert front_desk.first_name == "Dani"
    assert not front_desk.user_permissions.exists()


def test_a_clinic_admin_cannot_add_permissions_to_their_own_group(
    admin_client: Client,
) -> None:
    group = Group.objects.get(name="clinic_admin")
    before = set(group.permissions.values_list("pk", flat=True))
    wanted = [_permission(codename).pk for codename in OTP_PERMISSIONS]

    admin_client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": group.name, "permissions": [*before, *wanted]},
    )

    assert set(group.permissions.values_list("pk", flat=True)) == before


def test_the_clinic_admin_group_holds_no_permission_rights() -> None:
    group = Group.objects.get(name="clinic_admin")
    held = group.permissions.filter(content_type__app_label="auth").values_list(
        "codename", flat=True
    )

    assert not [codename for codename in held if codename.endswith("_permission")]


def test_a_clinic_admin_cannot_read_or_touch_anyones_totp_device(
    admin_client: Client, clinic_admin: User, root: User
) -> None:
    device = TOTPDevice.objects.create(user=root, name="root's phone", confirmed=True)
    # Even holding the device rights (given by SQL, say), they are refused.
    clinic_admin.user_permissions.add(
        *[_permission(codename) for codename in OTP_PERMISSIONS]
    )
    base = "/admin/otp_totp/totpdevice/"

    for url in (base, f"{base}{device.pk}/change/", f"{base}add/"):
        response = admin_client.get(url)
        assert response.status_code == 403, url
        assert device.key not in response.content.decode()
    response = admin_client.post(f"{base}{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert "otp_totp" not in admin_client.get("/admin/").content.decode()


def test_a_superuser_manages_totp_devices_without_seeing_the_key(
    root_client: Client, clinic_admin: User
) -> None:
    device = TOTPDevice.objects.create(user=clinic_admin, name="phone", confirmed=True)
    url = f"/admin/otp_totp/totpdevice/{device.pk}/change/"

    page = root_client.get(url)
    assert page.status_code == 200
    assert device.key not in page.content.decode()

    response = root_client.post(
        f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


@pytest.mark.parametrize("who", ["clinic_admin", "root"])
def test_nobody_deletes_or_edits_the_login_history(
    who: str, admin_client: Client, root_client: Client, clinic_admin: User
) -> None:
    client = admin_client if who == "clinic_admin" else root_client
    clinic_admin.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="axes")
    )
    records = {
        "accesslog": AccessLog.objects.create(username="x", ip_address="10.0.0.9"),
        "accessattempt": AccessAttempt.objects.create(
            username="x", ip_address="10.0.0.9", failures_since_start=5
        ),
        "accessfailurelog": AccessFailureLog.objects.create(
            username="x", ip_address="10.0.0.9"
        ),
    }

    for name, record in records.items():
        base = f"/admin/axes/{name}/"
        assert client.get(base).status_code == 200, name  # they may read it
        delete = client.post(f"{base}{record.pk}/delete/", {"post": "yes"})
        assert delete.status_code == 403, name
        chosen = {"_selected_action": [record.pk], "post": "yes"}
        bulk = client.post(base, {"action": "delete_selected", **chosen})
        assert bulk.status_code in (200, 302), name
        change = client.post(f"{base}{record.pk}/change/", {"username": "y"})
        assert change.status_code == 403, name
        assert client.get(f"{base}add/").status_code == 403, name
        assert type(record).objects.filter(pk=record.pk, username="x").exists(), name
