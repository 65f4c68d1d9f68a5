"""Nothing from the internet: a content security policy that names no outside
origin, and API docs that load only the app's own files."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.mark.parametrize("path", ["/login/", "/calendar-links/", "/api/docs/"])
def test_the_policy_allows_only_the_app_itself(
    client: Client, front_desk: User, path: str
) -> None:
    client.force_login(front_desk)

    directives = policy(client.get(path))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    for name, sources in directives.items():
        for source in sources:
            assert source in ("'self'", "'none'", "data:"), (name, source)


def test_only_redoc_may_style_inline_and_it_still_runs_no_inline_script(
    client: Client, front_desk: User
) -> None:
    client.force_login(front_desk)

    directives = policy(client.get("/api/redoc/"))

    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives["script-src"] == ["'self'"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_load_only_the_apps_own_files(
    client: Client, front_desk: User, path: str
) -> None:
    client.force_login(front_desk)

    html = client.get(path).content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert asset.startswith(("/static/", f"{path}?")), asset
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset
    assert "<script>" not in html
    assert "<style" not in html
    assert "://" not in html


def test_swagger_uis_start_up_script_is_a_file_of_its_own(
    client: Client, front_desk: User
) -> None:
    client.force_login(front_desk)

    response = client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.content.decode()


def test_the_base_page_loads_htmx_from_the_app(client: Client) -> None:
    html = client.get("/login/").content.decode()

    assert '<script src="/static/web/vendor/htmx.min.js" defer></script>' in html
    assert finders.find("web/vendor/htmx.min.js")
    assert finders.find("web/vendor/htmx.LICENSE")


def test_messages_are_kept_in_the_session_not_a_cookie(
    client: Client, surgeon_a: object
) -> None:
    client.force_login(surgeon_a.user)  # type: ignore[attr-defined]
    client.post("/calendar-links/", {"scope": "surgeon"})
    link = client.get("/calendar-links/").context["sections"][0].links[0]

    client.post(f"/calendar-links/{link.pk}/revoke/")

    assert "messages" not in client.cookies
    assert "Link revoked" in client.get("/calendar-links/").content.decode()


def test_the_csrf_cookie_is_out_of_javascripts_reach(client: Client) -> None:
    """htmx sends the token from the page (hx-headers on <body>), so no
    script needs the cookie, and one injected could not read it."""
    response = client.get("/login/")

    cookie = response.cookies["csrftoken"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert 'hx-headers=\'{"X-CSRFToken": "' in response.content.decode()
