"""API tokens: hashed, expiring, shown once.

Tokens come from `manage.py create_api_token` and travel as
`Authorization: Token <key>` (SPEC section 7).
"""

from __future__ import annotations

import datetime as dt
import io

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
