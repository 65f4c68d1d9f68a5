"""A rule, a surgeon or a recovery milestone edited in the admin reaches
every calendar.

A calendar entry names the visit's rule and the surgeon; both live on rows
of their own (`FollowUpRule`, `Surgeon`), which a clinic admin edits in the
admin without touching any visit. The subscribed feed and the surgeon's
CalDAV calendar must still show the new name, with a higher SEQUENCE so
that clients replace the copy they hold. A milestone (an all-day event of
the patient's own feed) is no visit at all: its edit must still reach the
feeds already rendered and cached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import icalendar
import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Surgeon
from feeds import links
from feeds.models import SurgeonCalendar
from feeds.rendering import visit_uid
from followup.models import FollowUpRule, RecoveryMilestone, Visit
from tests.admin_forms import seen_on
from tests.factories import surgeon_with_login
from tests.feeds.conftest import Radicale, at, book, postop_visit
from tests.feeds.helpers import export_pending

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_feed_cache")]


@pytest.fixture
def surgeon() -> Surgeon:
    return surgeon_with_login(given_name="Ana", family_name="Alvarez")


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(
        User.objects.create_superuser("root", "root@clinic.example", "pw-root-1234")
    )
    return client


def feed_event(path: str, uid: str) -> Any:
    response = Client().get(path)
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = [e for e in calendar.walk("VEVENT") if str(e["UID"]) == uid]
    return event


def feed_name(path: str) -> str:
    response = Client().get(path)
    assert response.status_code == 200
    return str(icalendar.Calendar.from_ical(response.content)["X-WR-CALNAME"])


def rename_rule(client: Client, rule: FollowUpRule, name: str) -> None:
    url = f"/admin/followup/followuprule/{rule.pk}/change/"
    response = client.post(
        url,
        {
            "seen": seen_on(client, url),
            "code": rule.code,
            "name": name,
            "purpose": rule.purpose,
            "applies_to": rule.applies_to,
            "offset_amount": rule.offset_amount,
            "offset_unit": rule.offset_unit,
            "window_days_before": rule.window_days_before,
            "window_days_after": rule.window_days_after,
            "duration_minutes": rule.duration_minutes,
            "requires_mri": "on" if rule.requires_mri else "",
            "recurring": "on" if rule.recurring else "",
            "active": "on" if rule.active else "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]


def rename_surgeon(client: Client, surgeon: Surgeon, family_name: str) -> None:
    url = f"/admin/clinic/surgeon/{surgeon.pk}/change/"
    response = client.post(
        url,
        {
            "seen": seen_on(client, url),
            "user": surgeon.user_id or "",
            "given_name": surgeon.given_name,
            "family_name": family_name,
            "active": "on" if surgeon.active else "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]


def booked_visit(surgeon: Surgeon) -> Visit:
    return book(postop_visit(surgeon), at(9, 9))


def test_a_rule_renamed_in_the_admin_reaches_a_subscribed_feed(
    surgeon: Surgeon, admin_client: Client
) -> None:
    visit = booked_visit(surgeon)
    path = links.create_link(scope="surgeon", surgeon_id=surgeon.pk).path
    uid = visit_uid(visit)
    before = feed_event(path, uid)  # the feed is rendered and cached

    rename_rule(admin_client, visit.rule, "Wound check")
    after = feed_event(path, uid)

    assert str(before["SUMMARY"]).startswith(f"{visit.rule.name} · ")
    assert str(after["SUMMARY"]).startswith("Wound check · ")
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_a_surgeon_renamed_in_the_admin_reaches_their_feed(
    surgeon: Surgeon, admin_client: Client
) -> None:
    visit = booked_visit(surgeon)
    path = links.create_link(scope="surgeon", surgeon_id=surgeon.pk).path
    uid = visit_uid(visit)
    before = feed_event(path, uid)

    rename_surgeon(admin_client, surgeon, "Alvarez-Ruiz")
    after = feed_event(path, uid)

    assert str(before["DESCRIPTION"]).startswith("With Dr. Ana Alvarez.")
    assert str(after["DESCRIPTION"]).startswith("With Dr. Ana Alvarez-Ruiz.")
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert feed_name(path).startswith("Dr. Ana Alvarez-Ruiz · ")


@pytest.mark.caldav
def test_a_rule_and_a_surgeon_renamed_in_the_admin_reach_the_caldav_calendar(
    surgeon: Surgeon,
    admin_client: Client,
    make_surgeon_calendar: Callable[..., SurgeonCalendar],
    radicale: Radicale,
) -> None:
    calendar = make_surgeon_calendar(surgeon)
    visit = booked_visit(surgeon)
    export_pending()
    (before,) = radicale.events_by_uid(calendar.url)[visit_uid(visit)]

    rename_rule(admin_client, visit.rule, "Wound check")
    rename_surgeon(admin_client, surgeon, "Alvarez-Ruiz")
    export_pending()

    (after,) = radicale.events_by_uid(calendar.url)[visit_uid(visit)]
    assert str(after["SUMMARY"]).startswith("Wound check · ")
    assert str(after["DESCRIPTION"]).startswith("With Dr. Ana Alvarez-Ruiz.")
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def edit_milestone(client: Client, milestone: RecoveryMilestone, **values: Any) -> None:
    url = f"/admin/followup/recoverymilestone/{milestone.pk}/change/"
    fields = {
        "seen": seen_on(client, url),
        "code": milestone.code,
        "title": milestone.title,
        "applies_to": milestone.applies_to,
        "offset_amount": milestone.offset_amount,
        "offset_unit": milestone.offset_unit,
        "active": "on" if milestone.active else "",
        **values,
    }
    response = client.post(url, fields)
    assert response.status_code == 302, response.content.decode()[-2000:]


def milestone_events(path: str) -> dict[str, Any]:
    response = Client().get(path)
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    return {
        str(event["UID"]): event
        for event in calendar.walk("VEVENT")
        if str(event["UID"]).startswith("milestone-")
    }


def patient_feed(surgeon: Surgeon) -> str:
    """The path of the feed of a patient of `surgeon` operated on."""
    visit = postop_visit(surgeon)
    return links.create_link(
        scope="patient", patient_id=visit.patient_id, by_command=True
    ).path


def test_a_milestone_edited_in_the_admin_reaches_a_patients_subscribed_feed(
    surgeon: Surgeon, admin_client: Client
) -> None:
    path = patient_feed(surgeon)
    milestone = RecoveryMilestone.objects.get(title="Sports may be resumed")
    (uid,) = [
        uid
        for uid, event in milestone_events(path).items()  # rendered and cached
        if str(event["SUMMARY"]) == milestone.title
    ]
    before = milestone_events(path)[uid]

    edit_milestone(
        admin_client,
        milestone,
        title="Light sports may be resumed",
        offset_amount=milestone.offset_amount + 7,  # days
    )
    after = milestone_events(path)[uid]

    assert str(after["SUMMARY"]) == "Light sports may be resumed"
    assert after.decoded("DTSTART") == before.decoded("DTSTART") + dt.timedelta(days=7)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_a_milestone_switched_off_in_the_admin_leaves_a_patients_feed(
    surgeon: Surgeon, admin_client: Client
) -> None:
    path = patient_feed(surgeon)
    milestone = RecoveryMilestone.objects.get(title="Sports may be resumed")
    titles = [str(e["SUMMARY"]) for e in milestone_events(path).values()]
    assert milestone.title in titles

    edit_milestone(admin_client, milestone, active="")

    titles = [str(e["SUMMARY"]) for e in milestone_events(path).values()]
    assert milestone.title not in titles
    assert titles  # the other milestones stay
