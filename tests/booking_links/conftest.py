"""The booking link's world: the API's pinned clock (Wed 25 Nov 2026, 10:00
in Madrid) and patient A's post-op control (window 27 Nov - 5 Dec), with a
live link made by the front desk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from booking_links import services
from followup.models import Visit
from tests.api.conftest import NOW, World, world  # noqa: F401
from web.patient_link import views


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    views.throttle.reset()
    yield
    views.throttle.reset()


@dataclass
class Linked:
    visit: Visit
    token: str

    @property
    def url(self) -> str:
        return f"/p/{self.token}/"


def make_link(visit: Visit, by: User | None = None) -> Linked:
    issued = services.issue_link(visit_id=visit.pk, actor=by, now=NOW)
    return Linked(visit=visit, token=issued.token)


@pytest.fixture
def linked(world: World, front_desk: User) -> Linked:  # noqa: F811
    return make_link(world.visit_a, front_desk)


def patient_client() -> Client:
    """A phone's browser: no session, Django's CSRF check enforced (the page
    is exempt from it: its form carries a signed token of its own)."""
    return Client(enforce_csrf_checks=True)


def form_token_of(client: Client, url: str) -> str:
    """The signed form token the page's form carries."""
    response = client.get(url)
    assert response.status_code == 200
    found = re.search(r'name="form_token" value="([^"]+)"', response.content.decode())
    assert found is not None
    return found.group(1)
