"""What the API and the admin say about each visit's CalDAV export.

A visit with nothing to push (still to book, or of a surgeon without a
calendar) says `nothing_to_push`, never `exported`; "Export all" promises
the number of visits it then really sends. Against a real Radicale.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from rest_framework.test import APIClient

from clinic.models import Surgeon
from feeds.models import CalendarEntry, ExportState, SurgeonCalendar
from feeds.rendering import visit_uid
from followup.models import Visit
from tests.feeds.conftest import Radicale, at, book, cancel, postop_visit
from tests.feeds.helpers import export_pending

pytestmark = [pytest.mark.django_db, pytest.mark.caldav]
MakeCalendar = Callable[..., SurgeonCalendar]


def api_export_state(client: APIClient, visit: Visit) -> str:
    response = client.get(f"/api/visits/{visit.pk}/")
    assert response.status_code == 200
    return str(response.json()["export_state"])


@pytest.fixture
def desk(front_desk: User) -> APIClient:
    client = APIClient()
    client.force_login(front_desk)
    return client


def test_the_api_says_nothing_to_push_unless_the_visit_reached_a_calendar(
    desk: APIClient,
    ana: Surgeon,
    bruno: Surgeon,
    make_surgeon_calendar: MakeCalendar,
    radicale: Radicale,
) -> None:
    calendar = make_surgeon_calendar(ana)
    pushed = book(postop_visit(ana), at(9, 9))
    to_book = Visit.objects.filter(procedure=pushed.procedure).exclude(pk=pushed.pk)
    no_calendar = book(postop_visit(bruno), at(9, 9))

    export_pending()

    assert list(radicale.events_by_uid(calendar.url)) == [visit_uid(pushed)]
    assert api_export_state(desk, pushed) == "exported"
    assert to_book.exists()
    assert {api_export_state(desk, visit) for visit in to_book} == {"nothing_to_push"}
    assert api_export_state(desk, no_calendar) == "nothing_to_push"


@pytest.mark.django_db(transaction=True)
def test_the_migration_renames_what_was_never_pushed_and_keeps_real_exports(
    ana: Surgeon,
) -> None:
    pushed, to_book, no_calendar, pending = [postop_visit(ana) for _ in range(4)]
    executor = MigrationExecutor(connection)
    before = [("feeds", "0006_clinic_admin_calendar_rights")]
    executor.migrate(before)
    # The states the code before this migration wrote.
    for visit, state, sequence in [
        (pushed, "exported", 0),
        (to_book, "exported", -1),
        (no_calendar, "not_configured", -1),
        (pending, "pending", -1),
    ]:
        CalendarEntry.objects.filter(pk=visit.pk).update(
            export_state=state, exported_sequence=sequence
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    states = dict(CalendarEntry.objects.values_list("pk", "export_state"))
    assert [states[v.pk] for v in (pushed, to_book, no_calendar, pending)] == [
        "exported",
        "nothing_to_push",
        "nothing_to_push",
        "pending",
    ]


@pytest.fixture
def admin_client(clinic_admin: User) -> Client:
    client = Client()
    client.force_login(clinic_admin)
    return client


def test_export_all_announces_the_number_of_visits_it_then_sends(
    admin_client: Client,
    ana: Surgeon,
    bruno: Surgeon,
    make_surgeon_calendar: MakeCalendar,
    radicale: Radicale,
) -> None:
    # Booked before Ana had a calendar: settled with nothing to push.
    booked = [book(postop_visit(ana), at(9, 9)), book(postop_visit(ana), at(9, 10))]
    cancel(book(postop_visit(ana), at(10, 9)))
    export_pending()
    calendar = make_surgeon_calendar(ana)
    disabled = make_surgeon_calendar(bruno, enabled=False)
    book(postop_visit(bruno), at(9, 9))
    export_pending()

    response = admin_client.post(
        "/admin/feeds/surgeoncalendar/",
        {"action": "export_all_visits", "_selected_action": [calendar.pk, disabled.pk]},
    )
    report = export_pending()

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "2 booked visit(s) will be sent to the CalDAV calendar.",
        "1 disabled calendar(s) skipped: enable them first.",
    ]
    assert report == {"exported": 2}
    assert sorted(radicale.events_by_uid(calendar.url)) == sorted(
        visit_uid(visit) for visit in booked
    )
    assert radicale.events(disabled.url) == []


def test_the_visit_api_names_every_export_state_the_calendars_keep() -> None:
    from followup.api.serializers import EXPORT_STATES

    assert set(EXPORT_STATES) == set(ExportState.values)
    assert "pending" in EXPORT_STATES  # what a visit not yet seen shows
