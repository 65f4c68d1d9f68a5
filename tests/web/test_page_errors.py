"""The pages' one translator: a service's NotFound is the 404 page and its
Forbidden the 403 page, whichever view let it pass."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from followup.access import Forbidden
from followup.exceptions import Conflict, NotFound


def missing(request: HttpRequest) -> HttpResponse:
    raise NotFound("Visit 7 does not exist.")


def refused(request: HttpRequest) -> HttpResponse:
    raise Forbidden("Visit 7 is another surgeon's patient's.")


def conflicting(request: HttpRequest) -> HttpResponse:
    raise Conflict("Visit 7 is completed; it cannot be booked.")


urlpatterns = [
    path("missing/", missing),
    path("refused/", refused),
    path("conflicting/", conflicting),
    # The error pages link to the site's own URLs.
    path("", include("config.urls")),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@override_settings(DEBUG=False)
def test_a_services_not_found_is_the_404_page_and_forbidden_the_403_page() -> None:
    client = Client(raise_request_exception=False)

    not_found, refused_page = client.get("/missing/"), client.get("/refused/")

    assert not_found.status_code == 404
    assert refused_page.status_code == 403
    assert "This page is not for your role" in refused_page.content.decode()


def test_a_refusal_a_person_can_act_on_is_left_to_the_view() -> None:
    # Only the two that have a page of their own are translated: a view that
    # lets a Conflict pass has a bug, which must not hide as a 4xx.
    with pytest.raises(Conflict):
        Client().get("/conflicting/")


@pytest.mark.urls("config.urls")
def test_a_browser_asking_for_favicon_ico_gets_the_sites_icon() -> None:
    response = Client().get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("/web/favicon.svg")
    assert finders.find("web/favicon.svg")
