"""Pages in a real browser: Debian's Chromium driven by Playwright.

Never downloads a browser: it runs /usr/bin/chromium. Without it the browser
tests skip with the reason, except under CI=true, where they fail. Each test
that fails leaves a screenshot and the HTML of every page it had open under
var/test-artifacts/.

People log in for real at /login/ where that is what a test is about;
elsewhere a session made by Django's test client is handed to the browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client

from clinic.models import Surgeon
from tests.conftest import require
from tests.web.desk_data import DeskCast, make_cast, pin_clock

# Playwright's sync API runs its own event loop in this thread; Django's ORM
# calls from the test body would otherwise be refused as "async".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(django_settings.BASE_DIR) / "var" / "test-artifacts"
AXE = Path(django_settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "pw-for-tests-only"  # tests.factories.UserFactory's
WIDTHS = (1280, 768)
ROLES = ("front_desk", "surgeon_a", "surgeon_b", "clinic_admin")

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def browser(django_db_setup: None) -> Iterator[Any]:
    require(CHROMIUM.exists(), f"needs Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Once Playwright's loop runs in this thread, Django keeps database
    # connections per async context, so the tests would get new connection
    # objects without the test database's serialized rows (and every
    # transactional test after the first would start empty). Hand the new
    # context the connections the test database was set up on.
    set_up_on = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, connection in set_up_on.items():
            connections[alias] = connection
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def cast(
    front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon, clinic_admin: User
) -> dict[str, User]:
    return {
        "front_desk": front_desk,
        "surgeon_a": surgeon_a.user,  # type: ignore[dict-item]
        "surgeon_b": surgeon_b.user,  # type: ignore[dict-item]
        "clinic_admin": clinic_admin,
    }


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:150]


@pytest.fixture
def new_page(
    browser: Any, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Open a fresh browser page (its own cookies) at a width; keeps them all.

    `new_page(width=768, user=someone)` gives a page already logged in as
    `someone`; axe-core is loaded into every document it opens.
    """
    contexts: list[Any] = []

    def open_page(*, width: int = 1280, user: User | None = None) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, base_url=live_server.url
        )
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
            context.add_cookies(
                [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
            )
        if AXE.exists():
            # An init script, not a <script> tag: the page's content security
            # policy rightly refuses inline scripts.
            context.add_init_script(path=str(AXE))
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page

    reports = request.node.stash.get(_reports, {})
    failed = any(report.failed for report in reports.values())
    try:
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = _artifact_name(request.node.nodeid)
            pages = [page for context in contexts for page in context.pages]
            for number, page in enumerate(pages, start=1):
                stem = ARTIFACTS / f"{name}-{number}"
                page.screenshot(path=f"{stem}.png", full_page=True)
                Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
    finally:
        for context in contexts:
            context.close()


def assert_no_serious_axe_violations(page: Any) -> None:
    """axe-core finds nothing serious or critical on the page as it stands."""
    require(AXE.exists(), f"needs npm axe-core at {AXE} (run npm ci)")
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    serious = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{page.url}: {serious}"


@pytest.fixture
def desk_cast(monkeypatch: pytest.MonkeyPatch) -> DeskCast:
    """The desk's patients and visits (`tests.web.desk_data`), the clock pinned."""
    pin_clock(monkeypatch)
    return make_cast()


@pytest.fixture
def desk(client: Client, front_desk: User) -> Client:
    """A test client signed in as the front desk."""
    client.force_login(front_desk)
    return client
