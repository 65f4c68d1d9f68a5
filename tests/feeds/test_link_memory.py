"""Live links held in a web process's memory (`feeds.link_cache`).

A poll of a link this process already found reads nothing from the
database; every write that changes what a poll may find reaches the process
as a PostgreSQL notification, and once it has arrived the next poll sees
the change. Writes from "another process" are made here on a connection of
their own, committed, as another gunicorn worker or the admin would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import listen
from feeds import link_cache, links
from feeds.models import CalendarLink

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
# Generous: a notice crosses loopback in well under a millisecond.
NOTICE_SECONDS = 5.0


@pytest.fixture
def other_process() -> Iterator[psycopg.Connection[Any]]:
    """A connection of another process: each statement commits on its own."""
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        yield other


def poll(path: str, **headers: str) -> Any:
    return Client().get(path, headers=headers)


def queries_of_a_poll(path: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as read:
        status = poll(path).status_code
    return status, len(read.captured_queries)


def held(issued: links.IssuedLink) -> None:
    """Poll once, so that this process holds the link."""
    assert poll(issued.path).status_code == 200
    assert queries_of_a_poll(issued.path) == (200, 0)


def test_a_link_this_process_found_is_served_without_a_database_read(
    issued: links.IssuedLink,
) -> None:
    assert poll(issued.path).status_code == 200

    assert queries_of_a_poll(issued.path) == (200, 0)


@pytest.mark.parametrize(
    "write",
    [
        "UPDATE feeds_calendarlink SET revoked_at = now() WHERE id = %(link)s",
        "UPDATE feeds_calendarlink SET token_hash = md5('x') WHERE id = %(link)s",
        "DELETE FROM feeds_calendarlink WHERE id = %(link)s",
        "UPDATE auth_user SET is_active = false WHERE id = %(user)s",
        "DELETE FROM auth_user_groups WHERE user_id = %(user)s",
        "UPDATE auth_group SET name = 'former surgeon' WHERE name = 'surgeon'",
        "UPDATE clinic_surgeon SET user_id = NULL WHERE id = %(surgeon)s",
    ],
    ids=[
        "revoked",
        "rotated",
        "deleted",
        "owner deactivated",
        "owner's role removed",
        "role renamed",
        "surgeon's login unlinked",
    ],
)
def test_a_change_made_by_another_process_ends_the_held_link(
    issued: links.IssuedLink, other_process: psycopg.Connection[Any], write: str
) -> None:
    held(issued)
    link = CalendarLink.objects.select_related("surgeon").get(pk=issued.link.pk)
    assert link.surgeon is not None

    other_process.execute(
        write,
        {"link": link.pk, "user": link.surgeon.user_id, "surgeon": link.surgeon.pk},
    )

    assert link_cache.links.wait(NOTICE_SECONDS), "no notice arrived"
    assert poll(issued.path).status_code == 404


def test_a_feed_changed_by_another_process_is_served_with_its_new_etag(
    issued: links.IssuedLink, other_process: psycopg.Connection[Any]
) -> None:
    first = poll(issued.path)
    held(issued)

    other_process.execute(
        "UPDATE feeds_calendarlink SET feed_version = feed_version + 1 WHERE id = %s",
        [issued.link.pk],
    )

    assert link_cache.links.wait(NOTICE_SECONDS), "no notice arrived"
    again = poll(issued.path, if_none_match=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_a_polls_own_last_use_write_keeps_the_link_held(
    issued: links.IssuedLink, other_process: psycopg.Connection[Any]
) -> None:
    held(issued)

    other_process.execute(
        "UPDATE feeds_calendarlink SET last_used_at = now() WHERE id = %s",
        [issued.link.pk],
    )

    assert not link_cache.links.wait(0.5), "a last-use write was announced"
    assert queries_of_a_poll(issued.path) == (200, 0)


def test_this_process_revoking_ends_the_held_link_before_its_reply(
    issued: links.IssuedLink,
) -> None:
    held(issued)

    links.revoke_link(link_id=issued.link.pk, now=issued.link.created_at)

    # No waiting for the notice: this process forgot the link at commit.
    assert poll(issued.path).status_code == 404


def test_this_process_deactivating_the_owner_ends_the_held_link_at_once(
    issued: links.IssuedLink,
) -> None:
    held(issued)
    owner = CalendarLink.objects.select_related("surgeon__user").get(pk=issued.link.pk)
    assert owner.surgeon is not None and owner.surgeon.user is not None

    owner.surgeon.user.is_active = False
    owner.surgeon.user.save()

    assert poll(issued.path).status_code == 404


def test_a_lost_listener_sends_polls_to_the_database(
    issued: links.IssuedLink, other_process: psycopg.Connection[Any]
) -> None:
    held(issued)
    listener = link_cache.links._listener
    assert listener is not None
    other_process.execute("SELECT pg_terminate_backend(%s)", [listener.backend_pid])
    assert link_cache.links.wait(NOTICE_SECONDS), "the server did not hang up"
    # Revoked while nobody listens: no notice will ever come.
    other_process.execute(
        "UPDATE feeds_calendarlink SET revoked_at = now() WHERE id = %s",
        [issued.link.pk],
    )

    assert poll(issued.path).status_code == 404


def test_inside_a_transaction_nothing_is_read_from_memory(
    issued: links.IssuedLink,
) -> None:
    held(issued)

    with transaction.atomic():
        revoked = CalendarLink.objects.filter(pk=issued.link.pk)
        revoked.update(revoked_at=issued.link.created_at)
        # Not committed, so not announced; the database still knows.
        assert poll(issued.path).status_code == 404
        transaction.set_rollback(True)

    assert poll(issued.path).status_code == 200


def test_without_the_setting_every_poll_reads_the_database(
    issued: links.IssuedLink, settings: Any
) -> None:
    settings.FEED_LINK_MEMORY = False
    assert poll(issued.path).status_code == 200

    status, queries = queries_of_a_poll(issued.path)

    assert (status, queries) == (200, 1)


def test_a_lost_notice_is_outlived_by_the_held_links_maximum_age(
    issued: links.IssuedLink,
    other_process: psycopg.Connection[Any],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.FEED_LINK_MAX_AGE_SECONDS = 3
    clock = [1000.0]
    monkeypatch.setattr(link_cache, "_clock", lambda: clock[0])
    held(issued)
    other_process.execute(
        "UPDATE feeds_calendarlink SET revoked_at = now() WHERE id = %s",
        [issued.link.pk],
    )
    # The notice is lost: read off the socket and never applied.
    listener = link_cache.links._listener
    assert listener is not None
    assert link_cache.links.wait(NOTICE_SECONDS), "no notice arrived"
    listener.received()

    clock[0] += 2.9
    assert poll(issued.path).status_code == 200  # still held: the loss shows
    clock[0] += 0.2

    assert poll(issued.path).status_code == 404


def test_a_listener_that_hears_nothing_is_not_trusted(
    issued: links.IssuedLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As behind PgBouncer in transaction mode: LISTEN is accepted, but the
    notices go to a session that is not this one."""
    link_cache.links.close()
    monkeypatch.setattr(link_cache, "PROBE_SECONDS", 0.2)
    monkeypatch.setattr(
        listen, "_listen", lambda raw, channel: raw.execute("LISTEN elsewhere")
    )

    assert poll(issued.path).status_code == 200

    assert link_cache.links._listener is None
    assert queries_of_a_poll(issued.path) == (200, 1)
