"""Wrong passwords are throttled per username and address (django-axes)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 3
PASSWORD = "pw-for-tests-only"


@pytest.fixture(autouse=True)
def _low_limit(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT


def log_in(client: Client, username: str, password: str, address: str) -> Any:
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_the_right_password_logs_in(client: Client, front_desk: User) -> None:
    response = log_in(client, "desk", PASSWORD, "10.0.0.1")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_after_the_limit_one_user_from_one_address_is_locked_out(
    client: Client, front_desk: User, surgeon_a: Any
) -> None:
    for _ in range(LIMIT - 1):
        response = log_in(client, "desk", "wrong", "10.0.0.1")
        assert response.status_code == 200
        assert (
            "Please enter a correct username and password" in response.content.decode()
        )

    locking = log_in(client, "desk", "wrong", "10.0.0.1")
    # The right password no longer helps from that address.
    after = log_in(client, "desk", PASSWORD, "10.0.0.1")

    for response in (locking, after):
        assert response.status_code == 429
        text = response.content.decode()
        assert "Too many failed log-ins" in text
        assert f"After {LIMIT} wrong passwords in a row" in text
        assert "Try again in 15 minutes" in text
    assert "_auth_user_id" not in client.session
    # The same person from another computer, and another person from this
    # one, still log in.
    assert log_in(Client(), "desk", PASSWORD, "10.0.0.2").status_code == 302
    assert log_in(Client(), "surgeon_a", PASSWORD, "10.0.0.1").status_code == 302


def test_a_successful_login_resets_the_count(client: Client, front_desk: User) -> None:
    for _ in range(LIMIT - 1):
        log_in(client, "desk", "wrong", "10.0.0.1")
    assert log_in(client, "desk", PASSWORD, "10.0.0.1").status_code == 302
    client.post("/logout/")

    for _ in range(LIMIT - 1):
        assert log_in(client, "desk", "wrong", "10.0.0.1").status_code == 200
    assert log_in(client, "desk", PASSWORD, "10.0.0.1").status_code == 302


def test_logout_is_post_only(client: Client, front_desk: User) -> None:
    client.force_login(front_desk)

    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get("/desk/").status_code == 302


PROXY = "10.9.9.9"


def log_in_behind_proxy(client: Client, username: str, password: str, ip: str) -> Any:
    return client.post(
        "/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"198.51.100.77, {ip}",
    )


@pytest.fixture
def _one_proxy(settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


@pytest.mark.usefixtures("_one_proxy")
def test_behind_the_proxy_one_client_cannot_lock_the_account_for_another(
    front_desk: User,
) -> None:
    attacker = Client()
    for _ in range(LIMIT):
        log_in_behind_proxy(attacker, "desk", "wrong", "203.0.113.5")
    assert (
        log_in_behind_proxy(attacker, "desk", PASSWORD, "203.0.113.5").status_code
        == 429
    )

    # The clinic's own desk, through the same proxy, still logs in.
    response = log_in_behind_proxy(Client(), "desk", PASSWORD, "203.0.113.6")
    assert response.status_code == 302
    # The record names the client, not the proxy.
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "203.0.113.5"
    }


def test_password_spraying_from_one_address_is_locked_out(
    settings: Any, front_desk: User
) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURES_PER_ADDRESS_HOUR = 20
    for n in range(6):
        UserFactory.create(username=f"sprayed{n}")

    statuses = [
        log_in(Client(), f"sprayed{n}", f"guess{attempt}", "10.0.0.66").status_code
        for attempt in range(4)
        for n in range(6)
    ]

    # No account saw 5 failures, but the address is stopped at its 20th.
    assert statuses[:19] == [200] * 19
    assert set(statuses[19:]) == {429}
    refused = log_in(Client(), "desk", PASSWORD, "10.0.0.66")
    assert refused.status_code == 429
    text = refused.content.decode()
    assert "Too many failed log-ins from this address" in text
    assert "20 wrong passwords within an hour" in text
    # Everyone else still logs in.
    assert log_in(Client(), "desk", PASSWORD, "10.0.0.67").status_code == 302
    # An admin unlocks the address sooner.
    call_command("axes_reset_ip", "10.0.0.66", stdout=io.StringIO())
    assert log_in(Client(), "desk", PASSWORD, "10.0.0.66").status_code == 302


def test_a_forged_address_before_the_proxy_count_is_not_stored(
    settings: Any, front_desk: User
) -> None:
    """A request that reaches the app without the proxy and forges a header
    is counted by its own address, not by a string the database refuses."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 2}
    response = Client().post(
        "/login/",
        {"username": "desk", "password": "wrong"},
        REMOTE_ADDR="10.0.0.8",
        HTTP_X_FORWARDED_FOR="not-an-address",
    )

    assert response.status_code == 200
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [
        "10.0.0.8"
    ]
