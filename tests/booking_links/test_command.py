"""`manage.py booking_link`: a live link printed once, for the demo's
newcomer or a visit named by id."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.api.conftest import World
from tests.booking_links.conftest import patient_client

pytestmark = pytest.mark.django_db


def _printed(*args: str) -> str:
    out = io.StringIO()
    call_command("booking_link", *args, stdout=out)
    return out.getvalue().strip()


def test_without_an_id_it_prints_a_link_of_the_visit_closing_soonest(
    world: World,
) -> None:
    url = _printed("--base-url", "")

    assert url.startswith("/p/")
    page = patient_client().get(url).content.decode()
    assert "Hello Ana" in page or "Hello Berta" in page


def test_with_an_id_it_prints_that_visits_link_on_the_base_url(world: World) -> None:
    url = _printed(str(world.visit_b.pk), "--base-url", "https://clinic.example/")

    assert url.startswith("https://clinic.example/p/")
    path = url.removeprefix("https://clinic.example")
    assert "Hello Berta" in patient_client().get(path).content.decode()


def test_without_a_base_url_it_prints_the_link_on_site_url(
    world: World, settings: Any
) -> None:
    settings.SITE_URL = "https://followup.clinic.example/"

    url = _printed(str(world.visit_a.pk))

    assert url.startswith("https://followup.clinic.example/p/")
    path = url.removeprefix("https://followup.clinic.example")
    assert "Hello Ana" in patient_client().get(path).content.decode()


def test_an_unknown_visit_is_refused_in_words(world: World) -> None:
    with pytest.raises(CommandError, match="Visit 999999 does not exist"):
        _printed("999999")
