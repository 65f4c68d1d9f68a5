"""Calendar links: secret tokens, who may hand them out, rotation, revocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from clinic.models import Surgeon
from feeds import links
from feeds.models import CalendarLink
from tests.factories import PatientFactory, surgeon_with_login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_feed_cache")]


def api(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create(user: User, **payload: Any) -> Any:
    return api(user).post(
        "/api/calendar-links/", payload, content_type="application/json"
    )


def path_of(response: Any) -> str:
    url: str = response.json()["url"]
    return "/" + url.split("/", 3)[3]


# --- the token ---------------------------------------------------------------


def test_token_is_long_random_and_only_its_hash_is_stored(surgeon_a: Surgeon) -> None:
    issued = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    other = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)

    assert len(issued.token) >= 43  # 32 random bytes, URL-safe base64
    assert issued.token != other.token
    stored = CalendarLink.objects.get(pk=issued.link.pk)
    assert stored.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in str(CalendarLink.objects.values().get(pk=stored.pk))


def _not_found_signature(path: str) -> tuple[int, bytes, str]:
    response = Client().get(path)
    return response.status_code, response.content, response["Content-Type"]


def test_unknown_revoked_and_rotated_tokens_get_the_same_404(
    surgeon_a: Surgeon,
) -> None:
    revoked = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    links.revoke_link(link_id=revoked.link.pk, now=timezone.now())
    rotated = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    replacement = links.rotate_link(link_id=rotated.link.pk)
    unknown = links.feed_path("A" * 43)

    answers = {
        _not_found_signature(path)
        for path in (unknown, revoked.path, rotated.path, "/calendar/short.ics")
    }

    assert len(answers) == 1
    ((status, body, _),) = answers
    assert status == 404
    assert b"calendar" in body.lower()
    assert Client().get(replacement.path).status_code == 200


def test_a_refused_token_is_never_written_to_the_logs(
    surgeon_a: Surgeon, caplog: pytest.LogCaptureFixture
) -> None:
    revoked = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    links.revoke_link(link_id=revoked.link.pk, now=timezone.now())

    with caplog.at_level(logging.DEBUG):
        assert Client().get(revoked.path).status_code == 404

    assert revoked.token not in caplog.text


def test_a_link_without_its_feed_stamp_gets_it_on_first_use(
    surgeon_a: Surgeon,
) -> None:
    issued = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    CalendarLink.objects.filter(pk=issued.link.pk).update(
        feed=None, feed_version=0, feed_changed_at=None
    )

    assert Client().get(issued.path).status_code == 200

    link = CalendarLink.objects.get(pk=issued.link.pk)
    assert link.feed is not None
    assert link.feed_version == link.feed.version
    assert link.feed_changed_at == link.feed.changed_at


def test_use_is_recorded_at_most_once_per_few_minutes(surgeon_a: Surgeon) -> None:
    issued = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    Client().get(issued.path)
    first = CalendarLink.objects.get(pk=issued.link.pk).last_used_at
    assert first is not None

    Client().get(issued.path)
    assert CalendarLink.objects.get(pk=issued.link.pk).last_used_at == first

    CalendarLink.objects.filter(pk=issued.link.pk).update(
        last_used_at=first - dt.timedelta(minutes=10)
    )
    Client().get(issued.path)
    later = CalendarLink.objects.get(pk=issued.link.pk).last_used_at
    assert later is not None and later > first


# --- the API -------------------------------------------------------------------


def test_surgeon_creates_their_own_link_and_sees_its_url_once(
    surgeon_a: Surgeon,
) -> None:
    user = surgeon_a.user
    assert user is not None

    response = create(user, scope="surgeon")

    assert response.status_code == 201
    body = response.json()
    assert body["surgeon"] == surgeon_a.pk
    assert body["url"].startswith("http://testserver/calendar/")
    assert body["webcal_url"] == body["url"].replace("http://", "webcal://", 1)
    assert Client().get(path_of(response)).status_code == 200
    listed = api(user).get("/api/calendar-links/").json()["results"]
    assert [link["id"] for link in listed] == [body["id"]]
    assert "url" not in listed[0]


def test_surgeon_may_not_create_another_surgeons_or_the_clinic_link(
    surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    user = surgeon_a.user
    assert user is not None

    other = create(user, scope="surgeon", surgeon=surgeon_b.pk)
    clinic = create(user, scope="clinic")

    assert (other.status_code, other.json()["code"]) == (403, "permission_denied")
    assert clinic.status_code == 403
    assert not CalendarLink.objects.exists()


def test_front_desk_hands_out_patient_links_but_no_surgeon_link(
    front_desk: User, surgeon_a: Surgeon
) -> None:
    patient = PatientFactory.create()

    given = create(front_desk, scope="patient", patient=patient.pk)
    refused = create(front_desk, scope="surgeon", surgeon=surgeon_a.pk)

    assert given.status_code == 201
    assert given.json()["patient"] == patient.pk
    assert refused.status_code == 403


def test_admin_creates_the_clinic_link(clinic_admin: User) -> None:
    response = create(clinic_admin, scope="clinic")

    assert response.status_code == 201
    assert Client().get(path_of(response)).status_code == 200


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"scope": "family"}, "invalid"),
        ({"scope": "patient"}, "invalid_owner"),
        ({"scope": "patient", "patient": 999_999}, "unknown_patient"),
        ({"scope": "clinic", "patient": 1}, "invalid_owner"),
        ({"scope": "patient", "patient": "x"}, "invalid"),
        ({"scope": "patient", "patient": 2**40}, "invalid"),
    ],
)
def test_bad_link_requests_get_a_400_and_create_nothing(
    clinic_admin: User, payload: dict[str, Any], code: str
) -> None:
    response = create(clinic_admin, **payload)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not CalendarLink.objects.exists()


def test_anonymous_users_cannot_use_the_link_api() -> None:
    response = Client().post(
        "/api/calendar-links/", {"scope": "clinic"}, content_type="application/json"
    )

    assert response.status_code in (401, 403)
    assert not CalendarLink.objects.exists()


def test_owner_revokes_a_link_and_its_feed_stops_at_once(surgeon_a: Surgeon) -> None:
    user = surgeon_a.user
    assert user is not None
    created = create(user, scope="surgeon")
    link_id = created.json()["id"]

    deleted = api(user).delete(f"/api/calendar-links/{link_id}/")

    assert deleted.status_code == 204
    assert Client().get(path_of(created)).status_code == 404
    assert api(user).delete(f"/api/calendar-links/{link_id}/").status_code == 404
    assert CalendarLink.objects.get(pk=link_id).revoked_at is not None


def test_rotation_gives_a_new_url_and_ends_the_old_one(surgeon_a: Surgeon) -> None:
    user = surgeon_a.user
    assert user is not None
    created = create(user, scope="surgeon")
    link_id = created.json()["id"]

    rotated = api(user).post(f"/api/calendar-links/{link_id}/rotate/")

    assert rotated.status_code == 200
    assert rotated.json()["id"] == link_id
    assert Client().get(path_of(rotated)).status_code == 200
    assert Client().get(path_of(created)).status_code == 404


def test_another_surgeon_can_neither_see_nor_touch_a_link(
    surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    owner, intruder = surgeon_a.user, surgeon_b.user
    assert owner is not None and intruder is not None
    link_id = create(owner, scope="surgeon").json()["id"]

    assert api(intruder).get("/api/calendar-links/").json()["results"] == []
    assert api(intruder).delete(f"/api/calendar-links/{link_id}/").status_code == 404
    rotate = api(intruder).post(f"/api/calendar-links/{link_id}/rotate/")
    assert rotate.status_code == 404
    assert CalendarLink.objects.get(pk=link_id).revoked_at is None


def test_front_desk_can_revoke_a_patient_link_someone_else_made(
    front_desk: User, clinic_admin: User
) -> None:
    patient = PatientFactory.create()
    link_id = create(clinic_admin, scope="patient", patient=patient.pk).json()["id"]

    assert api(front_desk).delete(f"/api/calendar-links/{link_id}/").status_code == 204


# --- the admin -----------------------------------------------------------------


def test_admin_site_creates_a_link_and_shows_its_url_once(
    surgeon_a: Surgeon,
) -> None:
    superuser = User.objects.create_superuser("root", password="pw-for-tests-only")
    client = Client()
    client.force_login(superuser)

    response = client.post(
        "/admin/feeds/calendarlink/add/",
        {"scope": "surgeon", "surgeon": surgeon_a.pk, "patient": ""},
        follow=True,
    )

    assert response.status_code == 200
    link = CalendarLink.objects.get()
    shown = [str(m) for m in response.context["messages"] if "/calendar/" in str(m)]
    assert len(shown) == 1
    path = "/calendar/" + shown[0].split("/calendar/")[1].split(" ")[0]
    assert hashlib.sha256(path[10:-4].encode()).hexdigest() == link.token_hash
    assert Client().get(path).status_code == 200


def test_admin_site_refuses_a_link_whose_owner_does_not_fit_its_scope() -> None:
    superuser = User.objects.create_superuser("root", password="pw-for-tests-only")
    client = Client()
    client.force_login(superuser)

    response = client.post(
        "/admin/feeds/calendarlink/add/",
        {"scope": "surgeon", "surgeon": "", "patient": ""},
    )

    assert response.status_code == 200
    assert "A surgeon link names a surgeon" in response.content.decode()
    assert not CalendarLink.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_poll_never_waits_for_a_transaction_holding_the_link() -> None:
    surgeon = surgeon_with_login()
    issued = links.create_link(scope="surgeon", surgeon_id=surgeon.pk)
    locked, release, letting_go = (threading.Event() for _ in range(3))

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                CalendarLink.objects.select_for_update().get(pk=issued.link.pk)
                locked.set()
                release.wait(10)
                # Said before the commit frees the row: a poll that waited
                # for it can only have been answered after this.
                letting_go.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(5)
        status = Client().get(issued.path).status_code
        answered_while_held = not letting_go.is_set()
    finally:
        release.set()
        holder.join()

    assert status == 200
    assert answered_while_held
    assert CalendarLink.objects.get(pk=issued.link.pk).last_used_at is None
