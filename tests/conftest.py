"""Shared fixtures: the cast of people, and the rule for service-backed tests.

Tests marked `postgres` need PostgreSQL. Without it they skip with the reason
printed, except under CI=true, where a missing service fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import override_settings

from clinic.models import Surgeon
from feeds import link_cache
from tests.factories import SurgeonFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, reason: str) -> None:
    """Skip a test whose service is missing; in CI, fail it instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Every transactional test starts with the rows the migrations wrote.

    Its teardown flushes every table, so the next one would find no follow-up
    rules or groups; restoring them for some tests only collides with the
    content types that a plain flush re-creates. So all of them restore.

    Under pytest-xdist the tests marked `long` go first: each worker takes
    the next test when it is done with one, so a test of minutes reached
    late would run alone while the other workers idle. (pytest-django runs
    transactional tests after the others, which expect the migrations' rows
    that a transactional test's flush removes: `pytest_runtest_teardown`
    puts them back after a `long` one.)
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction"):
            kwargs = {**marker.kwargs, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)
    if _long_tests_first(config):
        items.sort(key=lambda item: item.get_closest_marker("long") is None)


def _long_tests_first(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")  # an xdist worker


_db_blocker = pytest.StashKey[Any]()


@pytest.fixture(autouse=True, scope="session")
def _keep_the_db_blocker(
    request: pytest.FixtureRequest, django_db_blocker: Any
) -> None:
    request.config.stash[_db_blocker] = django_db_blocker


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """After a `long` transactional test run first, its flush done, the
    migrations' rows are restored for the tests that follow it."""
    yield
    marker = item.get_closest_marker("django_db")
    if not (
        _long_tests_first(item.config)
        and item.get_closest_marker("long")
        and marker is not None
        and marker.kwargs.get("transaction")
    ):
        return
    from django.db import connections

    with item.config.stash[_db_blocker].unblock():
        for alias in connections:
            contents = getattr(connections[alias], "_test_serialized_contents", None)
            if contents is not None:
                connections[alias].creation.deserialize_db_from_string(contents)


@pytest.fixture(autouse=True, scope="session")
def _var_folder_of_this_worker() -> Iterator[None]:
    """Under pytest-xdist (`make test`), each worker keeps a var/ of its own.

    The file cache under var/ holds the API throttles' counts (keyed by user
    id, which every worker's database hands out alike) and feed bodies, and
    tests clear it: shared, one worker's tests would count or clear another's.
    The processes a test starts without a var/ of their own (a Celery worker,
    `manage.py`) inherit the folder, as they share var/ in a serial run.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    cache_settings = django_settings.CACHES["default"]
    if not worker or not cache_settings["BACKEND"].endswith("FileBasedCache"):
        yield
        return
    var_dir = Path(django_settings.VAR_DIR) / f"xdist-{worker}"
    var_dir.mkdir(parents=True, exist_ok=True)
    own_cache = {**cache_settings, "LOCATION": str(var_dir / "cache")}
    saved = os.environ.get("CLINIC_VAR_DIR")
    os.environ["CLINIC_VAR_DIR"] = str(var_dir)
    try:
        with override_settings(VAR_DIR=var_dir, CACHES={"default": own_cache}):
            yield
    finally:
        if saved is None:
            del os.environ["CLINIC_VAR_DIR"]
        else:
            os.environ["CLINIC_VAR_DIR"] = saved


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # The cast's passwords are hashed at creation; PBKDF2 would take most of
    # the time a test takes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _tasks_stay_in_the_test_process() -> None:
    """Tasks sent after a test's commit go to an in-memory broker.

    The default broker is the demo's folder `var/broker/`, whose worker would
    run them against its own database. Worker tests switch to Redis db 5.
    """
    from config.celery import app

    app.conf.update(broker_url="memory://", broker_transport_options={})


@pytest.fixture(autouse=True)
def _links_forgotten_after_each_test() -> Iterator[None]:
    """Each test starts with no link held in memory and no listener, which
    would otherwise keep the test database open past its end."""
    yield
    link_cache.links.close()


@pytest.fixture(autouse=True)
def _postgres_marker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres"):
        require(
            connection.vendor == "postgresql",
            f"needs PostgreSQL; DATABASE_URL points at {connection.vendor}",
        )


@pytest.fixture
def own_feed_cache(settings: Any) -> None:
    """A fresh cache and feed memory, the throttle counting in this process:
    feed versions repeat across tests (`pytest.mark.usefixtures`)."""
    from feeds import views

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    settings.CACHE_URL = ""
    cache.clear()
    views.memory.clear()
    views.throttle.reset()


@pytest.fixture
def front_desk(db: None) -> User:
    return UserFactory.create(username="desk", group="front_desk")


@pytest.fixture
def surgeon_a(db: None) -> Surgeon:
    return SurgeonFactory.create(
        given_name="Ana",
        family_name="Alvarez",
        user=UserFactory.create(username="surgeon_a", group="surgeon"),
    )


@pytest.fixture
def surgeon_b(db: None) -> Surgeon:
    return SurgeonFactory.create(
        given_name="Bruno",
        family_name="Blanco",
        user=UserFactory.create(username="surgeon_b", group="surgeon"),
    )


@pytest.fixture
def clinic_admin(db: None) -> User:
    return UserFactory.create(
        username="clinic_admin", group="clinic_admin", is_staff=True
    )
