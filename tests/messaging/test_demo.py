"""The demo clinic's messages (`seed_demo`, messaging/demo.py): every state
a message can be in, the replies the front desk deals with, once.

`seed_demo` runs on the real clock; its history of messages is dated half an
hour before it ran, or the evening before when it runs in the quiet hours,
so these tests hold at any hour.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from clinic import clock
from clinic.models import Patient, Reminders
from messaging import schedule
from messaging.demo import history_moment
from messaging.models import Direction, Intent, Message, Status
from tests.followup.world import madrid

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _real_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The messaging tests pin the clock; the demo runs on the real one.
    monkeypatch.setattr(clock, "now", timezone.now)


def test_the_demo_has_a_message_in_every_state_and_replies_to_deal_with() -> None:
    call_command("seed_demo", stdout=io.StringIO())

    assert set(Message.objects.values_list("status", flat=True)) == set(Status.values)
    replies = {m.intent: m for m in Message.objects.filter(direction=Direction.IN)}
    assert set(replies) == {Intent.CONFIRM, Intent.CHANGE, Intent.UNCLEAR}
    confirmed = replies[Intent.CONFIRM].visit
    assert confirmed is not None and confirmed.confirmed
    [failed] = Message.objects.filter(status=Status.FAILED)
    assert failed.error == (
        "the phone is switched off or out of reach (Twilio error 30003)"
    )
    # The *Replies* tab: the change request, the unclear one, the failure.
    assert Message.objects.needing_person_open() == 3
    sent_back = Message.objects.filter(
        direction=Direction.OUT, visit=replies[Intent.CHANGE].visit, kind="reply"
    ).get()
    assert sent_back.status == Status.SENT
    assert schedule.LINK_PLACEHOLDER in sent_back.text


def test_the_demo_sends_nothing_in_the_quiet_hours_and_stores_no_token() -> None:
    call_command("seed_demo", stdout=io.StringIO())

    quiet = schedule.quiet_hours()
    assert quiet is not None
    went_out = Message.objects.filter(direction=Direction.OUT).exclude(sent_at=None)
    assert went_out.count() > 10
    assert not [m.sent_at for m in went_out if m.sent_at and quiet.holds(m.sent_at)]
    assert not [m for m in Message.objects.all() if re.search(r"/p/[\w-]{43}", m.text)]
    consented = Patient.objects.exclude(reminders=Reminders.NONE)
    assert set(went_out.values_list("channel", flat=True)) == {"sms", "email"}
    assert not went_out.exclude(patient__in=consented).exists()


def test_a_second_seed_changes_no_message() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    before = list(Message.objects.order_by("id").values_list("id", "status"))

    call_command("seed_demo", stdout=io.StringIO())

    assert list(Message.objects.order_by("id").values_list("id", "status")) == before


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Daytime: half an hour before.
        (madrid(2026, 12, 7, 15), madrid(2026, 12, 7, 14, 30)),
        # Quiet hours (20:00-09:00): the evening before they began.
        (madrid(2026, 12, 7, 23), madrid(2026, 12, 7, 19)),
        (madrid(2026, 12, 7, 3), madrid(2026, 12, 6, 19)),
        # Just after they ended: half an hour before would be in them.
        (madrid(2026, 12, 7, 9, 10), madrid(2026, 12, 6, 19)),
        # Just before they begin: fine, half an hour before.
        (madrid(2026, 12, 7, 19, 50), madrid(2026, 12, 7, 19, 20)),
    ],
)
def test_the_history_happens_outside_the_quiet_hours(
    now: dt.datetime, expected: dt.datetime
) -> None:
    assert history_moment(now) == expected
