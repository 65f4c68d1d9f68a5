"""The feed throttle: the real client address, and guesses counted apart.

Behind the TLS proxy every request came from the
proxy's address, so one token-guesser got every subscriber 429'd.

Each test runs twice: counting in the web process (the demo), and counting
in Redis, shared by every web process (production, `CACHE_URL`).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from clinic.models import Surgeon
from feeds import links

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("counted"),
]
PROXY = "10.0.0.1"


@pytest.fixture(
    params=["in the process", pytest.param("in Redis", marks=pytest.mark.redis)]
)
def counted(request: pytest.FixtureRequest, own_feed_cache: None) -> None:
    if request.param == "in Redis":
        request.getfixturevalue("shared_redis")


@pytest.fixture
def behind_one_proxy(settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def poll(path: str, *, client_ip: str | None = None, remote: str = PROXY) -> int:
    extra = {"REMOTE_ADDR": remote}
    if client_ip is not None:
        extra["HTTP_X_FORWARDED_FOR"] = f"198.51.100.9, {client_ip}"
    return int(Client().get(path, **extra).status_code)  # type: ignore[arg-type]


def guesses(n: int, **where: Any) -> list[int]:
    return [poll(f"/calendar/{'G' * 42}{n % 10}.ics", **where) for n in range(n)]


@pytest.mark.usefixtures("behind_one_proxy")
def test_behind_the_proxy_a_guesser_does_not_block_other_clients(
    settings: Any, surgeon_a: Surgeon
) -> None:
    settings.FEED_GUESSES_PER_IP_HOUR = 3
    settings.FEED_REQUESTS_PER_IP_HOUR = 5
    path = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk).path

    assert guesses(10, client_ip="203.0.113.5") == [404] * 3 + [429] * 7

    assert poll(path, client_ip="203.0.113.6") == 200
    assert poll("/calendar/unknown.ics", client_ip="203.0.113.6") == 404


def test_without_trusted_proxies_a_forged_header_buys_no_fresh_allowance(
    settings: Any,
) -> None:
    settings.FEED_GUESSES_PER_IP_HOUR = 3

    statuses = [
        poll(f"/calendar/guess{n}.ics", client_ip=f"203.0.113.{n}", remote="192.0.2.7")
        for n in range(5)
    ]

    assert statuses == [404] * 3 + [429] * 2


def test_a_guesser_at_the_same_address_does_not_stop_its_subscribers(
    settings: Any, surgeon_a: Surgeon
) -> None:
    settings.FEED_GUESSES_PER_IP_HOUR = 3
    settings.FEED_REQUESTS_PER_IP_HOUR = 6
    path = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk).path
    assert poll(path) == 200  # a subscriber behind the clinic's NAT

    assert guesses(20) == [404] * 3 + [429] * 17

    assert [poll(path) for _ in range(5)] == [200] * 5


def test_polls_of_a_good_link_never_count_as_guesses(
    settings: Any, surgeon_a: Surgeon
) -> None:
    settings.FEED_GUESSES_PER_IP_HOUR = 2
    path = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk).path

    assert [poll(path) for _ in range(10)] == [200] * 10
    assert guesses(3) == [404, 404, 429]
