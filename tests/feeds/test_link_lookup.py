"""The poll's link lookup: a statement prepared once per connection.

It must stay exactly as current as a plain query: every poll reads the row,
so a revocation, a rotation or a feed bump is seen by the next poll. Links
held in memory (`feeds.link_cache`, tests/feeds/test_link_memory.py) are
off here, so that every lookup is a read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, OperationalError, connection, transaction
from django.test import Client
from django.utils import timezone
from psycopg import pq

from feeds import links, lookup, versions
from feeds.models import CalendarLink
from tests.feeds.helpers import find_active

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _every_lookup_reads(settings: Any) -> None:
    settings.FEED_LINK_MEMORY = False


@pytest.fixture
def fresh_connection() -> Iterator[None]:
    # Each test starts without the statement, so "prepared once" is visible.
    connection.close()
    yield
    connection.close()


def token_of(issued: links.IssuedLink) -> str:
    return issued.path.removeprefix("/calendar/").removesuffix(".ics")


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.usefixtures("fresh_connection")
def test_the_lookup_is_prepared_once_per_connection(
    issued: links.IssuedLink,
) -> None:
    for _ in range(3):
        found = find_active(token_of(issued))
        assert found is not None
        assert found.id == issued.link.pk

    assert prepared_statements() == [lookup._FIND_STATEMENT.decode()]


@pytest.mark.usefixtures("fresh_connection")
def test_a_revoked_or_rotated_token_is_refused_by_the_very_next_lookup(
    issued: links.IssuedLink,
) -> None:
    old = token_of(issued)
    assert find_active(old) is not None

    rotated = links.rotate_link(link_id=issued.link.pk)
    assert find_active(old) is None
    assert find_active(token_of(rotated)) is not None

    links.revoke_link(link_id=issued.link.pk, now=timezone.now())
    assert find_active(token_of(rotated)) is None


@pytest.mark.usefixtures("fresh_connection")
def test_a_bump_is_seen_by_the_very_next_lookup(issued: links.IssuedLink) -> None:
    before = find_active(token_of(issued))
    assert before is not None

    with transaction.atomic():
        versions.bump([before.feed_key])

    after = find_active(token_of(issued))
    assert after is not None
    assert after.stamp.version > before.stamp.version
    assert after.stamp.changed_at > before.stamp.changed_at


@pytest.mark.usefixtures("fresh_connection")
def test_a_deallocated_lookup_is_prepared_again(issued: links.IssuedLink) -> None:
    assert find_active(token_of(issued)) is not None
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")

    found = find_active(token_of(issued))

    assert found is not None
    assert prepared_statements() == [lookup._FIND_STATEMENT.decode()]


@pytest.mark.usefixtures("fresh_connection")
def test_a_lookup_deallocated_inside_a_transaction_fails_it_then_prepares_again(
    issued: links.IssuedLink,
) -> None:
    assert find_active(token_of(issued)) is not None

    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        find_active(token_of(issued))

    assert find_active(token_of(issued)) is not None
    assert prepared_statements() == [lookup._FIND_STATEMENT.decode()]


@pytest.mark.usefixtures("fresh_connection")
def test_a_lookup_failing_for_another_reason_keeps_its_statement(
    issued: links.IssuedLink,
) -> None:
    assert find_active(token_of(issued)) is not None
    locked, release = threading.Event(), threading.Event()

    def lock_the_table() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE feeds_calendarlink IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=lock_the_table)
    holder.start()
    try:
        assert locked.wait(5)
        with pytest.raises(OperationalError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '50ms'")
            find_active(token_of(issued))
    finally:
        release.set()
        holder.join()

    assert find_active(token_of(issued)) is not None
    assert prepared_statements() == [lookup._FIND_STATEMENT.decode()]


@pytest.mark.usefixtures("fresh_connection")
def test_a_lookup_opening_a_transaction_runs_inside_it(
    issued: links.IssuedLink,
) -> None:
    with transaction.atomic():
        found = find_active(token_of(issued))
        status = connection.connection.pgconn.transaction_status

    assert found is not None
    assert status == pq.TransactionStatus.INTRANS


@pytest.mark.usefixtures("fresh_connection")
def test_the_lookup_works_where_psycopg_prepares_statements_itself(
    issued: links.IssuedLink,
) -> None:
    connection.ensure_connection()
    connection.connection.prepare_threshold = 0

    found = find_active(token_of(issued))
    with transaction.atomic():
        CalendarLink.objects.filter(pk=issued.link.pk).update(revoked_at=timezone.now())
    gone = find_active(token_of(issued))

    assert found is not None
    assert gone is None
    assert lookup._FIND_STATEMENT.decode() not in prepared_statements()


@pytest.mark.usefixtures("fresh_connection")
def test_a_poll_on_a_connection_the_server_dropped_is_answered_on_a_new_one(
    issued: links.IssuedLink,
) -> None:
    # A PostgreSQL restart or pg_terminate_backend ends the kept connection
    # between two polls; the next subscriber must not get the 503.
    client = Client()
    assert client.get(issued.path).status_code == 200
    dropped = connection.connection.info.backend_pid  # type: ignore[union-attr]
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [dropped])

    response = client.get(issued.path)

    assert response.status_code == 200
    assert response.content.count(b"BEGIN:VCALENDAR") == 1
    assert connection.connection.info.backend_pid != dropped  # type: ignore[union-attr]
