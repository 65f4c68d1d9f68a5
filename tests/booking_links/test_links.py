"""Booking links as secrets: stored hashed, one open per visit, and every
ended link answered exactly like an unknown token."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

import pytest
from django.contrib.auth.models import User

from booking_links.models import BookingLink
from booking_links.services import TOKEN_SALT, derived_token
from core.tokens import derive_token, hash_token, looks_like_token
from followup import services
from followup.exceptions import Conflict
from tests.api.conftest import FREE_SLOT, NOW, World
from tests.booking_links.conftest import Linked, make_link, patient_client

pytestmark = pytest.mark.django_db


def test_the_token_is_stored_only_as_its_hash(linked: Linked) -> None:
    link = BookingLink.objects.get(visit=linked.visit)

    assert link.token_hash == hash_token(linked.token)
    assert linked.token not in link.token_hash
    assert len(linked.token) == 43


def test_the_server_derives_the_token_again_from_the_stored_nonce_alone(
    linked: Linked, settings: Any
) -> None:
    link = BookingLink.objects.get(visit=linked.visit)
    expected = hmac.new(
        hashlib.sha256(b"booking_links.token" + settings.SECRET_KEY.encode()).digest(),
        link.nonce.encode(),
        hashlib.sha256,
    ).digest()

    assert len(link.nonce) >= 22 and link.nonce not in linked.token
    assert derive_token(link.nonce, key_salt=TOKEN_SALT) == linked.token
    assert base64.urlsafe_b64decode(linked.token + "=") == expected
    assert looks_like_token(linked.token)
    assert derive_token(link.nonce, key_salt="feeds.token") != linked.token
    settings.SECRET_KEY = "another-" + "k" * 60
    assert derived_token(link) is None  # the stored hash no longer matches


def test_a_newer_link_ends_the_older_one(linked: Linked, front_desk: User) -> None:
    newer = make_link(linked.visit, front_desk)

    assert patient_client().get(linked.url).status_code == 404
    assert patient_client().get(newer.url).status_code == 200
    older = BookingLink.objects.get(token_hash=hash_token(linked.token))
    assert older.ended_at == NOW
    assert BookingLink.objects.filter(visit=linked.visit, ended_at=None).count() == 1


def _unknown_answer() -> tuple[int, bytes]:
    response = patient_client().get(f"/p/{'x' * 43}/")
    return response.status_code, response.content


def _complete(linked: Linked, front_desk: User) -> None:
    services.book_visit(
        visit_id=linked.visit.pk,
        start=FREE_SLOT,
        surgeon_id=linked.visit.procedure.surgeon_id,
        actor=front_desk,
        now=NOW,
    )
    later = FREE_SLOT + dt.timedelta(minutes=5)
    services.check_in_visit(visit_id=linked.visit.pk, actor=front_desk, now=later)
    services.complete_visit(visit_id=linked.visit.pk, actor=front_desk, now=later)


def _cancel(linked: Linked, front_desk: User) -> None:
    services.cancel_visit(
        visit_id=linked.visit.pk, reason="Not needed", actor=front_desk, now=NOW
    )


@pytest.mark.parametrize("end", [_complete, _cancel], ids=["completed", "cancelled"])
def test_a_link_of_a_finished_visit_gets_the_unknown_tokens_404(
    linked: Linked, front_desk: User, end: object
) -> None:
    end(linked, front_desk)  # type: ignore[operator]

    response = patient_client().get(linked.url)

    assert (response.status_code, response.content) == _unknown_answer()
    # Not left without a way back: the clinic's number, to call.
    assert 'Or call the clinic on <a class="booking__phone"' in response.text


def test_a_link_60_days_past_its_window_gets_the_unknown_tokens_404(
    linked: Linked, monkeypatch: pytest.MonkeyPatch
) -> None:
    window_end = linked.visit.window_end
    last_day = dt.datetime.combine(
        window_end + dt.timedelta(days=60), dt.time(12), tzinfo=NOW.tzinfo
    )
    monkeypatch.setattr("clinic.clock.now", lambda: last_day)
    assert patient_client().get(linked.url).status_code == 200

    monkeypatch.setattr("clinic.clock.now", lambda: last_day + dt.timedelta(days=1))
    response = patient_client().get(linked.url)

    assert (response.status_code, response.content) == _unknown_answer()


def test_a_malformed_token_gets_the_same_404(linked: Linked) -> None:
    response = patient_client().get("/p/short/")

    assert (response.status_code, response.content) == _unknown_answer()


def test_no_link_is_made_for_a_cancelled_visit(world: World, front_desk: User) -> None:
    services.cancel_visit(
        visit_id=world.visit_a.pk, reason="Not needed", actor=front_desk, now=NOW
    )

    with pytest.raises(Conflict, match="nothing left to book"):
        make_link(world.visit_a, front_desk)
    assert not BookingLink.objects.exists()
