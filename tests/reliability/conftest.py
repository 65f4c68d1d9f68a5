"""Fixtures of the fault and load tests: a seeded clinic whose surgeons each
have a Radicale calendar, clerks with API tokens, and the environment the
web server and the worker run with. The services (Radicale, Redis, the
worker) are tests/feeds/conftest.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.feeds.conftest import (  # noqa: F401 - fixtures used here
    Radicale,
    RedisBroker,
    caldav_proxy,
    celery_worker,
    radicale,
    redis_broker,
    worker_database_url,
)
from tests.reliability.seeding import Clinic, seed_clinic, server_env
from tests.reliability.servers import Gunicorn, run_gunicorn


@pytest.fixture
def make_clinic(radicale: Radicale) -> Callable[..., Clinic]:  # noqa: F811
    def make(
        *,
        clerks: int,
        surgeons: int,
        per_surgeon: int,
        base: str | None = None,
    ) -> Clinic:
        return seed_clinic(
            radicale,
            clerks=clerks,
            surgeon_count=surgeons,
            procedures_per_surgeon=per_surgeon,
            calendar_base=base,
        )

    return make


@pytest.fixture
def web_env(redis_broker: RedisBroker, tmp_path: Path) -> dict[str, str]:  # noqa: F811
    """The environment of gunicorn and the worker on this test's database."""
    return server_env(worker_database_url(), redis_broker, tmp_path / "var")


@pytest.fixture
def gunicorn(web_env: dict[str, str], tmp_path: Path) -> Iterator[Gunicorn]:
    with run_gunicorn(web_env, tmp_path / "gunicorn.log", workers=3) as server:
        yield server
