"""Idle sessions end, weak passwords are refused, and
a clinic admin who must use two-factor sign-in passes a TOTP code before
reaching the admin.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from web.middleware import LAST_ACTIVITY_KEY

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"  # the factories' password


def _idle_for(client: Client, minutes: float) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - minutes * 60
    session.save()


def test_a_session_idle_past_the_limit_is_signed_out(
    client: Client, front_desk: User
) -> None:
    client.force_login(front_desk)
    assert client.get("/desk/").status_code == 200

    _idle_for(client, 31)
    response = client.get("/desk/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/desk/"
    assert "_auth_user_id" not in client.session
    # Signed out for good: the next request is anonymous too.
    assert client.get("/desk/").status_code == 302


def test_a_session_used_within_the_limit_stays(
    client: Client, front_desk: User
) -> None:
    client.force_login(front_desk)
    client.get("/desk/")

    _idle_for(client, 29)

    assert client.get("/desk/").status_code == 200
    # ...and the request counted as activity.
    assert time.time() - client.session[LAST_ACTIVITY_KEY] < 5


def test_the_idle_limit_is_a_setting(
    client: Client, front_desk: User, settings: Any
) -> None:
    settings.SESSION_IDLE_MINUTES = 5
    client.force_login(front_desk)
    client.get("/desk/")

    _idle_for(client, 6)

    assert client.get("/desk/").status_code == 302


def test_an_idle_api_session_is_refused(client: Client, front_desk: User) -> None:
    client.force_login(front_desk)
    client.get("/api/patients/")

    _idle_for(client, 31)

    assert client.get("/api/patients/").status_code == 403


def test_sessions_end_within_hours_whatever_happens(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60


@pytest.mark.parametrize(
    "weak",
    [
        "Tr0ub4dor&3",  # 11 characters: long enough before, not now
        "password1234",  # common
        "123456789012345",  # only digits
    ],
)
def test_a_weak_password_is_refused_by_the_change_password_form(
    client: Client, front_desk: User, weak: str
) -> None:
    client.force_login(front_desk)

    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
    )

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    front_desk.refresh_from_db()
    assert front_desk.check_password(PASSWORD)


def test_a_password_like_the_username_is_refused(client: Client) -> None:
    clerk = UserFactory.create(username="receptionist", group="front_desk")
    client.force_login(clerk)

    response = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "receptionist1",
            "new_password2": "receptionist1",
        },
    )

    assert response.status_code == 400
    assert "too similar to the username" in response.content.decode()


def test_a_strong_password_is_taken_and_the_session_kept(
    client: Client, front_desk: User
) -> None:
    client.force_login(front_desk)
    strong = "violet-harbour-lantern-58"

    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": strong, "new_password2": strong},
    )

    assert response.status_code == 302
    front_desk.refresh_from_db()
    assert front_desk.check_password(strong)
    assert client.get("/desk/").status_code == 200


def test_the_admins_own_password_form_keeps_the_policy(
    client: Client, clinic_admin: User
) -> None:
    client.force_login(clinic_admin)

    response = client.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "short-1",
            "new_password2": "short-1",
        },
    )

    assert response.status_code == 200  # the form again, with its errors
    clinic_admin.refresh_from_db()
    assert clinic_admin.check_password(PASSWORD)


# --- two-factor sign-in --------------------------------------------------------


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _log_in(client: Client, user: User) -> None:
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def two_factor_required(settings: Any) -> None:
    settings.ADMIN_TWO_FACTOR_REQUIRED = True
    # A wrong code makes the device wait 1 s, then 2, 4...; these tests try
    # a wrong code then the right one at once (the wait has its own test).
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.mark.usefixtures("two_factor_required")
def test_an_admin_without_a_device_must_enrol_before_the_admin(
    client: Client, clinic_admin: User
) -> None:
    _log_in(client, clinic_admin)

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/?next=%2Fadmin%2F"
    assert client.get("/desk/").status_code == 302
    assert client.get("/api/patients/").status_code == 403

    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=clinic_admin, confirmed=False)
    assert "data:image/svg+xml" in page.content.decode()

    wrong = client.post("/account/two-factor/", {"code": "000000"})
    assert wrong.status_code == 400
    assert client.get("/admin/").status_code == 302

    response = client.post("/account/two-factor/", {"code": _code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


@pytest.mark.usefixtures("two_factor_required")
def test_an_admin_with_a_device_reaches_the_admin_only_after_a_code(
    client: Client, clinic_admin: User
) -> None:
    device = TOTPDevice.objects.create(user=clinic_admin, name="phone")
    _log_in(client, clinic_admin)

    response = client.get("/admin/auth/user/")
    assert response.status_code == 302
    assert response["Location"] == (
        "/account/two-factor/verify/?next=%2Fadmin%2Fauth%2Fuser%2F"
    )
    # The enrolment page cannot replace a device before a code.
    assert client.get("/account/two-factor/")["Location"] == (
        "/account/two-factor/verify/"
    )

    for bad in ("000000", "abcdef", ""):
        refused = client.post("/account/two-factor/verify/", {"code": bad})
        assert refused.status_code == 400, bad
    assert client.get("/admin/").status_code == 302

    response = client.post(
        "/account/two-factor/verify/",
        {"code": _code(device), "next": "/admin/auth/user/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/auth/user/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/api/patients/").status_code == 200


@pytest.mark.usefixtures("two_factor_required")
def test_verification_never_sends_the_admin_to_another_site(
    client: Client, clinic_admin: User
) -> None:
    device = TOTPDevice.objects.create(user=clinic_admin, name="phone")
    _log_in(client, clinic_admin)

    response = client.post(
        "/account/two-factor/verify/",
        {"code": _code(device), "next": "https://elsewhere.example/"},
    )

    assert response["Location"] == "/"


@pytest.mark.usefixtures("two_factor_required")
def test_other_roles_need_no_second_factor(client: Client, front_desk: User) -> None:
    _log_in(client, front_desk)

    assert client.get("/desk/").status_code == 200


def test_in_the_demo_an_admin_without_a_device_goes_straight_in(
    client: Client, clinic_admin: User
) -> None:
    _log_in(client, clinic_admin)

    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_makes_the_next_one_wait(
    client: Client, clinic_admin: User, settings: Any
) -> None:
    settings.ADMIN_TWO_FACTOR_REQUIRED = True
    device = TOTPDevice.objects.create(user=clinic_admin, name="phone")
    _log_in(client, clinic_admin)

    client.post("/account/two-factor/verify/", {"code": "000000"})
    response = client.post("/account/two-factor/verify/", {"code": _code(device)})

    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302
