"""API tokens: hashed, expiring, shown once; failed checks throttled per address.

Tokens come from `manage.py create_api_token` and travel as
`Authorization: Token <key>` (SPEC section 7).
"""

from __future__ import annotations

import datetime as dt
import io
import secrets

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.api.conftest import World
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def create_token(username: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", username, *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def token_client(key: str, address: str = "198.51.100.7") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- the token ---------------------------------------------------------------


def test_create_api_token_prints_a_working_token_once(
    world: World, front_desk: User
) -> None:
    key, message = create_token("desk")

    assert len(key) == 64
    assert "valid until" in message
    assert "shown only now" in message
    response = token_client(key).get(f"/api/visits/{world.visit_a.pk}/")
    assert response.status_code == 200


def test_only_a_digest_of_the_token_is_stored(front_desk: User) -> None:
    key, _ = create_token("desk")

    stored = AuthToken.objects.get(user=front_desk)
    assert stored.digest != key
    assert key not in stored.digest
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        row = cursor.fetchone()
    assert not any(key == value for value in row)


def test_a_token_expires_after_the_days_asked(world: World, front_desk: User) -> None:
    key, _ = create_token("desk", "--days", "7")
    stored = AuthToken.objects.get(user=front_desk)
    expected = timezone.now() + dt.timedelta(days=7)

    assert abs(stored.expiry - expected) < dt.timedelta(minutes=1)

    AuthToken.objects.filter(pk=stored.pk).update(
        expiry=timezone.now() - dt.timedelta(seconds=1)
    )
    response = token_client(key).get("/api/visits/")
    assert response.status_code == 403
    assert response.json()["code"] == "authentication_failed"


def test_tokens_expire_by_default(front_desk: User) -> None:
    create_token("desk")

    stored = AuthToken.objects.get(user=front_desk)
    expected = timezone.now() + dt.timedelta(days=settings.API_TOKEN_DAYS)
    assert abs(stored.expiry - expected) < dt.timedelta(minutes=1)


def test_a_deactivated_users_token_stops_working(
    world: World, front_desk: User
) -> None:
    key, _ = create_token("desk")
    front_desk.is_active = False
    front_desk.save(update_fields=["is_active"])

    assert token_client(key).get("/api/visits/").status_code == 403


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "There is no active user 'nobody'."),
        (["desk", "--days", "0"], "--days must be from 1 to 365."),
        (["desk", "--days", "366"], "--days must be from 1 to 365."),
        (["norole"], "norole holds no clinic role"),
    ],
)
def test_create_api_token_refuses_what_would_not_work(
    front_desk: User, args: list[str], message: str
) -> None:
    UserFactory.create(username="norole")

    with pytest.raises(CommandError, match=message):
        create_token(*args)
    assert not AuthToken.objects.exists()


def test_drf_plain_text_tokens_are_gone() -> None:
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
    assert "authtoken_token" not in connection.introspection.table_names()


def test_the_admin_lists_tokens_without_showing_them(
    client: Client, clinic_admin: User, front_desk: User
) -> None:
    key, _ = create_token("desk")
    stored = AuthToken.objects.get(user=front_desk)
    client.force_login(clinic_admin)

    listing = client.get("/admin/knox/authtoken/")
    assert listing.status_code == 200
    assert "desk" in listing.text
    # The digest is the row's key (in its links); it cannot be sent back.
    assert key not in listing.text
    assert client.get("/admin/knox/authtoken/add/").status_code == 403

    # Revoking is deleting.
    delete = f"/admin/knox/authtoken/{stored.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not AuthToken.objects.exists()


# --- failed checks are throttled ---------------------------------------------


def test_guessed_tokens_are_throttled_per_address_with_retry_after(
    world: World, front_desk: User
) -> None:
    limit = 20  # API_TOKEN_FAILURES' default: 20/hour
    statuses = []
    for _ in range(45):
        response = token_client(secrets.token_hex(32)).get("/api/visits/")
        statuses.append(response.status_code)

    assert statuses[:limit] == [403] * limit
    assert statuses[limit:] == [429] * (45 - limit)
    assert response.json()["code"] == "throttled"
    assert 3500 < int(response["Retry-After"]) <= 3600

    # Past the limit even a good token from that address goes unchecked, so
    # a guesser learns nothing from a hit; another address is unaffected.
    key, _ = create_token("desk")
    assert token_client(key).get("/api/visits/").status_code == 429
    assert token_client(key, "203.0.113.9").get("/api/visits/").status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token \u00ff" + "0" * 63, "Token " + "0" * 63 + "\x00"],
)
def test_malformed_token_headers_count_as_failures(world: World, header: str) -> None:
    client = APIClient(REMOTE_ADDR="198.51.100.8")
    client.credentials(HTTP_AUTHORIZATION=header)

    statuses = {client.get("/api/visits/").status_code for _ in range(21)}

    assert statuses == {403, 429}


def test_a_forged_forwarded_for_does_not_escape_the_throttle(world: World) -> None:
    for n in range(25):
        client = token_client(secrets.token_hex(32))
        response = client.get("/api/visits/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")

    assert response.status_code == 429


def test_good_tokens_never_count_against_the_throttle(
    world: World, front_desk: User
) -> None:
    key, _ = create_token("desk")
    client = token_client(key)

    statuses = {client.get("/api/visits/").status_code for _ in range(30)}

    assert statuses == {200}
    # And failures still have their full allowance afterwards.
    bad = [token_client("0" * 64).get("/api/visits/").status_code for _ in range(20)]
    assert set(bad) == {403}
