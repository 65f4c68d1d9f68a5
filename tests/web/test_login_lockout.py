"""Wrong passwords are throttled per username and address (django-axes)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

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
