"""Clinic admins edit the message schedule in the admin and read the messages."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client

from messaging.models import (
    SCHEDULED_KINDS,
    Channel,
    Kind,
    Message,
    MessageTemplate,
    Status,
)
from tests.admin_forms import seen_on
from tests.followup.world import book, madrid
from tests.messaging.conftest import Clock, messages, visit_of

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def form_of(template: MessageTemplate, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": template.kind,
        "channel": template.channel,
        "active": "on" if template.active else "",
        "offset_days": template.offset_days,
        "send_time": template.send_time.isoformat() if template.send_time else "",
        "subject": template.subject,
        "text": template.text,
    }
    return {**data, **changes}


def test_the_schedule_holds_the_specs_defaults() -> None:
    rows = {
        (t.kind, t.channel): (t.offset_days, t.send_time, t.active)
        for t in MessageTemplate.objects.all()
    }
    assert {kind for kind, _ in rows} == {"invitation", "reminder", "overdue"}
    assert {channel for _, channel in rows} == {"sms", "email"}
    for channel in ("sms", "email"):
        assert rows["invitation", channel][0] == -7
        assert rows["reminder", channel][:2] == (-2, None)
        assert rows["overdue", channel][0] == 1
    sms = MessageTemplate.objects.get(kind=Kind.REMINDER, channel=Channel.SMS)
    assert "Reply C to confirm, R to change, X to cancel" in sms.text
    assert "CANCEL" not in sms.text


def test_the_default_texts_carry_the_link_and_the_emails_ask_for_no_reply() -> None:
    texts = {(t.kind, t.channel): t.text for t in MessageTemplate.objects.all()}

    assert all("{{ link }}" in text for text in texts.values())
    assert all("Reply" not in texts[kind, "email"] for kind in SCHEDULED_KINDS)


def test_the_link_migration_changes_only_texts_still_the_defaults() -> None:
    step = importlib.import_module(
        "messaging.migrations.0004_templates_carry_the_booking_link"
    )
    templates = MessageTemplate.objects
    templates.filter(channel="sms").update(text=step.OLD_SMS["reminder"])
    templates.filter(kind="reminder", channel="email").update(text="Our own words.")

    step.forwards(apps, None)

    texts = {(t.kind, t.channel): t.text for t in templates.all()}
    assert texts["reminder", "sms"] == step.NEW_SMS["reminder"]
    assert texts["invitation", "sms"] == step.OLD_SMS["reminder"]  # not its default
    assert texts["reminder", "email"] == "Our own words."
    assert texts["overdue", "email"] == step.NEW_EMAIL["overdue"]
    step.backwards(apps, None)
    assert (
        templates.get(kind="overdue", channel="email").text
        == (step.OLD_EMAIL["overdue"])
    )


def test_a_clinic_admin_edits_a_template_and_no_written_message_changes(
    clinic_admin: User, client: Client, desk: User
) -> None:
    visit = book(visit_of(), actor=desk)
    [written] = messages(visit, kind=Kind.REMINDER)
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel=Channel.SMS)
    client.force_login(clinic_admin)

    url = f"/admin/messaging/messagetemplate/{template.pk}/change/"
    answer = client.post(
        url, form_of(template, text="See you {{ day }}.", seen=seen_on(client, url))
    )

    assert answer.status_code == 302
    assert MessageTemplate.objects.get(pk=template.pk).text == "See you {{ day }}."
    written.refresh_from_db()
    assert written.status == Status.QUEUED
    assert written.text.startswith("Hello Lucia, a reminder of your")
    assert client.get("/admin/messaging/message/").status_code == 200
    assert client.get("/admin/messaging/message/add/").status_code == 403


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"text": "Hello {% if given_name %}"}, "text", "The text is not a template"),
        ({"offset_days": 400}, "offset_days", "at most 90 days"),
    ],
)
def test_a_broken_template_is_refused_and_unchanged(
    clinic_admin: User,
    client: Client,
    changes: dict[str, object],
    field: str,
    says: str,
) -> None:
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel=Channel.SMS)
    client.force_login(clinic_admin)

    url = f"/admin/messaging/messagetemplate/{template.pk}/change/"
    answer = client.post(url, form_of(template, seen=seen_on(client, url), **changes))

    assert answer.status_code == 200
    assert says in str(answer.context["adminform"].form.errors[field])
    assert MessageTemplate.objects.get(pk=template.pk).text == template.text


def test_the_messages_list_says_when_a_message_held_by_the_quiet_hours_goes(
    clinic_admin: User, client: Client, desk: User, pinned: Clock
) -> None:
    visit = book(visit_of(), actor=desk)
    night = madrid(2026, 11, 25, 22)
    [reminder] = messages(visit, kind=Kind.REMINDER)
    # Due at 22:00, as a template with an evening send time writes it.
    Message.objects.filter(pk=reminder.pk).update(scheduled_for=night)
    pinned.moment = madrid(2026, 11, 25, 21)
    client.force_login(clinic_admin)

    answer = client.get("/admin/messaging/message/")

    html = answer.content.decode()
    assert (
        '<td class="field-scheduled_for nowrap">Wed 25 Nov 2026, 22:00</td>'
        '<td class="field-goes_at nowrap">Thu 26 Nov 2026, 09:00</td>'
    ) in html
