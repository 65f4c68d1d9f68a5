"""The audit row each use of a link writes: one prepared INSERT, wherever the
connection stands (booking_links.lookup.record_use), or, for a view or a
download, the very statement that finds the link (find_by_digest's `use`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.test import Client

from booking_links import lookup
from booking_links.models import BookingLinkUse, LinkUse
from tests.api.conftest import NOW
from tests.booking_links.conftest import Linked

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fresh_connection() -> Iterator[None]:
    connection.close()
    yield
    connection.close()


def _uses(linked: Linked) -> list[str]:
    return list(
        BookingLinkUse.objects.filter(link__visit=linked.visit).values_list(
            "what", flat=True
        )
    )


@pytest.mark.usefixtures("fresh_connection")
def test_a_view_is_recorded_where_psycopg_prepares_statements_itself(
    linked: Linked,
) -> None:
    connection.ensure_connection()
    connection.connection.prepare_threshold = 0

    response = Client().get(linked.url)

    assert response.status_code == 200
    assert _uses(linked) == [LinkUse.VIEWED]


@pytest.mark.usefixtures("fresh_connection")
def test_a_use_recorded_first_in_a_transaction_is_kept_with_it(
    linked: Linked,
) -> None:
    link_id = linked.visit.booking_links.get().pk

    with transaction.atomic():
        lookup.record_use(link_id, LinkUse.CALENDAR, NOW)
    with pytest.raises(RuntimeError), transaction.atomic():
        lookup.record_use(link_id, LinkUse.REFUSED, NOW)
        raise RuntimeError("the booking failed")

    assert _uses(linked) == [LinkUse.CALENDAR]


@pytest.mark.usefixtures("fresh_connection")
def test_each_view_and_download_is_one_row_and_an_unknown_token_none(
    linked: Linked,
) -> None:
    client = Client()
    statuses = [
        client.get(linked.url).status_code,
        client.head(linked.url).status_code,
        client.get(f"{linked.url}visit.ics").status_code,
        client.get(f"/p/{linked.token[:-2]}xx/").status_code,
    ]

    assert statuses == [200, 200, 200, 404]
    assert _uses(linked) == [LinkUse.VIEWED, LinkUse.VIEWED, LinkUse.CALENDAR]


@pytest.mark.usefixtures("fresh_connection")
def test_a_view_leaves_the_next_booking_on_its_connection_durable(
    linked: Linked,
) -> None:
    # The view's own row is committed without waiting for the disk; nothing
    # after it on the same connection may be (a booking, a message sent).
    assert Client().get(linked.url).status_code == 200

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
