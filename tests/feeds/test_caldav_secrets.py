"""CalDAV credentials at rest: the password encrypted
with keys apart from SECRET_KEY and rotatable; no http:// but to loopback."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client

from clinic.models import Surgeon
from feeds.models import SurgeonCalendar

pytestmark = pytest.mark.django_db
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored_password(calendar_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT password FROM feeds_surgeoncalendar WHERE id = %s", [calendar_id]
        )
        (value,) = cursor.fetchone()
    return str(value)


def admin_client() -> Client:
    client = Client()
    client.force_login(
        User.objects.create_superuser("root", password="pw-for-tests-only")
    )
    return client


def add_calendar(client: Client, surgeon: Surgeon, url: str) -> Any:
    return client.post(
        "/admin/feeds/surgeoncalendar/add/",
        {
            "surgeon": surgeon.pk,
            "url": url,
            "username": "ana",
            "password": "s3cret-caldav-pw",
            "enabled": "on",
        },
    )


def test_the_admin_stores_the_password_encrypted(
    settings: Any, surgeon_a: Surgeon
) -> None:
    settings.CALDAV_ENCRYPTION_KEYS = [OLD_KEY]

    response = add_calendar(admin_client(), surgeon_a, "https://cal.example/ana/")

    assert response.status_code == 302, response.content
    calendar = SurgeonCalendar.objects.get()
    raw = stored_password(calendar.pk)
    assert "s3cret-caldav-pw" not in raw
    assert Fernet(OLD_KEY.encode()).decrypt(raw.encode()) == b"s3cret-caldav-pw"
    assert calendar.password == "s3cret-caldav-pw"


@pytest.mark.parametrize(
    "url",
    ["http://cal.example/ana/", "http://10.0.0.5:5232/ana/", "ftp://cal.example/"],
)
def test_the_admin_refuses_a_caldav_url_without_tls(
    url: str, surgeon_a: Surgeon
) -> None:
    response = add_calendar(admin_client(), surgeon_a, url)

    assert response.status_code == 200
    assert "Use an https:// URL" in response.content.decode()
    assert not SurgeonCalendar.objects.exists()
    with pytest.raises(ValidationError, match="https://"):
        SurgeonCalendar(surgeon=surgeon_a, url=url).full_clean()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5232/ana/",
        "http://127.8.9.10/ana/",
        "http://[::1]:5232/ana/",
        "http://localhost:5232/ana/",
        "https://cal.example/ana/",
    ],
)
def test_loopback_http_and_https_are_accepted(url: str, surgeon_a: Surgeon) -> None:
    response = add_calendar(admin_client(), surgeon_a, url)

    assert response.status_code == 302, response.content
    assert SurgeonCalendar.objects.get().url == url


def test_rotation_re_encrypts_with_the_newest_key(
    settings: Any, surgeon_a: Surgeon
) -> None:
    settings.CALDAV_ENCRYPTION_KEYS = [OLD_KEY]
    calendar = SurgeonCalendar.objects.create(
        surgeon=surgeon_a, url="https://cal.example/a/", password="pw-before"
    )
    settings.CALDAV_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    call_command("rotate_caldav_key")

    raw = stored_password(calendar.pk)
    assert Fernet(NEW_KEY.encode()).decrypt(raw.encode()) == b"pw-before"
    settings.CALDAV_ENCRYPTION_KEYS = [NEW_KEY]  # the old key dropped
    assert SurgeonCalendar.objects.get().password == "pw-before"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # The client connects to evil.example, in clear.
        ("http://evil.example\\@127.0.0.1/", "backslash"),
        ("https://cal.example\\@other.example/", "backslash"),
        ("http://user:pw@127.0.0.1:5232/ana/", "user name and password"),
        ("https://ana@cal.example/ana/", "user name and password"),
        ("http://127.0.0.1\t.evil.example/", "control character"),
        ("https://cal.example/ana/\r\nX-Injected: 1", "control character"),
        ("https://cal.example/a\x00/", "control character"),
    ],
)
def test_a_caldav_url_that_could_reach_another_host_is_refused(
    url: str, reason: str, surgeon_a: Surgeon
) -> None:
    with pytest.raises(ValidationError, match=reason):
        SurgeonCalendar(surgeon=surgeon_a, url=url).full_clean()
    response = add_calendar(admin_client(), surgeon_a, url)
    assert response.status_code == 200
    assert not SurgeonCalendar.objects.exists()


def change_calendar(client: Client, calendar: SurgeonCalendar, **fields: str) -> Any:
    data = {
        "surgeon": calendar.surgeon_id,
        "url": calendar.url,
        "username": calendar.username,
        "password": "",
        "enabled": "on",
        **fields,
    }
    return client.post(f"/admin/feeds/surgeoncalendar/{calendar.pk}/change/", data)


def test_moving_the_calendar_to_another_host_forgets_the_password(
    surgeon_a: Surgeon,
) -> None:
    calendar = SurgeonCalendar.objects.create(
        surgeon=surgeon_a,
        url="https://cal.example/ana/",
        username="ana",
        password="s3cret-caldav-pw",
    )
    client = admin_client()

    # Another path on the same server keeps it.
    response = change_calendar(client, calendar, url="https://cal.example/ana2/")
    assert response.status_code == 302, response.content
    calendar.refresh_from_db()
    assert calendar.password == "s3cret-caldav-pw"

    # Another host (or scheme, or port) does not: it is never sent there.
    for url in ("https://other.example/ana2/", "https://other.example:8443/ana2/"):
        calendar.password = "s3cret-caldav-pw"
        calendar.save()
        moved = change_calendar(client, calendar, url=url)
        assert moved.status_code == 302
        told = client.get(moved["Location"]).content.decode()
        assert "its stored password was removed rather than sent there" in told
        calendar.refresh_from_db()
        assert calendar.password == ""
        assert stored_password(calendar.pk) == ""

    # Unless a new password is given with the new host.
    change_calendar(
        client, calendar, url="https://third.example/a/", password="new-pw-for-3"
    )
    calendar.refresh_from_db()
    assert calendar.password == "new-pw-for-3"


def test_a_host_change_in_code_forgets_the_password(surgeon_a: Surgeon) -> None:
    calendar = SurgeonCalendar.objects.create(
        surgeon=surgeon_a, url="https://cal.example/ana/", password="pw-1"
    )
    calendar.url = "https://other.example/ana/"
    calendar.save()

    assert SurgeonCalendar.objects.get().password == ""
