"""The report's messaging figures (messaging/figures.py) over a fixed cast,
every change through the services and every message through the sender.

Every post-operative control below has the window Friday 27 November to
Saturday 5 December 2026; the report covers windows ending 1 to 5 December.
Surgeon A's row, then B's; "sms" patients agreed to texts (Twilio's stand-in
on loopback), "none" to nothing.

Columns: booked (B), confirmed (C), seen or missed at a slot a reminder
went out for (R), missed (M), sent an overdue message (O), back within 15
days of it (15).

| # | row | consent | history | B | C | R | M | O | 15 |
|---|-----|---------|---------|---|---|---|---|---|----|
| 1 | A | sms | Fri 09:00, reminded, C, seen | y | y | y | n | | |
| 2 | A | sms | Fri 09:20, reminded, no-show; overdue 6 Dec | y | n | y | y | y | n |
| 3 | A | sms | Fri 09:40, reminded, C, no-show; overdue 6 Dec | y | y | y | y | y | n |
| 4 | B | none | Fri 09:00, seen | y | n | n | n | | |
| 5 | B | none | Fri 09:20, no-show | y | n | n | y | | |
| 6 | A | sms | Fri 10:00, reminder failed (bad number), seen | y | n | n | n | | |
| 7 | A | sms | Mon 30 10:00, never came to | y | n | - | - | | |
| 8 | A | sms | overdue text 6 Dec; booked 8 Dec | y | n | - | - | y | y |
| 9 | A | sms | overdue text 6 Dec; booked 23 Dec (17 d) | y | n | - | - | y | n |
| 10 | A | sms | overdue text 6 Dec; never booked | n | | | | y | n |
| 11 | A | email | overdue email 6 Dec; booked 7 Dec | y | n | - | - | y | y |
| 12 | A | sms | Fri 10:20, reminded, moved to Mon 30 11:00, seen | y | n | n | n | | |

Visit 12's reminder was of its old slot.

Row A: booked 9 (1, 2, 3, 6, 7, 8, 9, 11, 12), confirmed 2; seen or missed
after a reminder of that slot 3 (1, 2, 3), missed 2; without 2 (6, 12),
missed 0; overdue messages 6 (2, 3 after their no-show; 8-11), back within
15 days 2 (8, 11).
Row B: booked 2, confirmed 0; without a reminder 2, missed 1.
Totals: booked 11, confirmed 2; reminded 3, missed 2; not reminded 4,
missed 1; messaged 6, back 2.

95 % Wilson intervals by hand (centre (p + z^2/2n) / (1 + z^2/n),
half-width z / (1 + z^2/n) x sqrt(p(1-p)/n + z^2/4n^2), z = 1.96):
2/9 6.3-54.7; 2/3 20.8-93.9; 0/2 0-65.8; 2/4 15.0-85.0; 1/2 9.5-90.5;
2/11 5.1-47.7; 1/4 4.6-69.9; 2/6 9.7-70.0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from clinic.models import Reminders, Surgeon
from followup import services
from followup.models import Visit
from followup.reports import follow_up_report
from messaging import figures
from messaging.models import Kind, Message, Status
from messaging.replies import receive_sms
from messaging.services import send_due_messages
from tests.factories import PatientFactory
from tests.followup.world import book, madrid, postop
from tests.messaging import stand_ins
from tests.messaging.conftest import Clock

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
FROM, TO = dt.date(2026, 12, 1), dt.date(2026, 12, 5)
LATE = "The patient called back after the window closed."


def _rate(
    name: str, pct: float | None, low: float | None, high: float | None
) -> dict[str, Any]:
    return {name: pct, f"{name}_ci_low": low, f"{name}_ci_high": high}


ROW_A = {
    "booked_visits": 9,
    **_rate("pct_confirmed", 22.2, 6.3, 54.7),
    "reminded_visits": 3,
    **_rate("pct_no_show_with_reminder", 66.7, 20.8, 93.9),
    "unreminded_visits": 2,
    **_rate("pct_no_show_without_reminder", 0.0, 0.0, 65.8),
    "messaged_overdue": 6,
    **_rate("pct_returned_within_15_days_of_first_message", 33.3, 9.7, 70.0),
}
ROW_B = {
    "booked_visits": 2,
    **_rate("pct_confirmed", 0.0, 0.0, 65.8),
    "reminded_visits": 0,
    **_rate("pct_no_show_with_reminder", None, None, None),
    "unreminded_visits": 2,
    **_rate("pct_no_show_without_reminder", 50.0, 9.5, 90.5),
    "messaged_overdue": 0,
    **_rate("pct_returned_within_15_days_of_first_message", None, None, None),
}
TOTALS = {
    "booked_visits": 11,
    **_rate("pct_confirmed", 18.2, 5.1, 47.7),
    "reminded_visits": 3,
    **_rate("pct_no_show_with_reminder", 66.7, 20.8, 93.9),
    "unreminded_visits": 4,
    **_rate("pct_no_show_without_reminder", 25.0, 4.6, 69.9),
    "messaged_overdue": 6,
    **_rate("pct_returned_within_15_days_of_first_message", 33.3, 9.7, 70.0),
}


def _visit(number: int, surgeon: Surgeon, consent: str = Reminders.SMS) -> Visit:
    phone = stand_ins.INVALID_NUMBER if number == 6 else f"+346123450{number:02d}"
    patient = PatientFactory.create(
        given_name=f"Patient{number}",
        phone=phone,
        email=f"patient{number}@example.org",
        reminders=consent,
    )
    return postop(surgeon=surgeon, patient=patient)


def build_cast(desk: User, a: Surgeon, b: Surgeon, clock: Clock) -> dict[int, Visit]:
    consent = {4: Reminders.NONE, 5: Reminders.NONE, 11: Reminders.EMAIL}
    v = {
        n: _visit(n, b if n in (4, 5) else a, consent.get(n, Reminders.SMS))
        for n in range(1, 13)
    }
    friday = {1: (9, 0), 2: (9, 20), 3: (9, 40), 6: (10, 0), 12: (10, 20)}
    friday |= {4: (9, 0), 5: (9, 20)}  # surgeon B's
    for n, (hour, minute) in friday.items():
        book(v[n], madrid(2026, 11, 27, hour, minute), actor=desk)
    book(v[7], madrid(2026, 11, 30, 10), actor=desk)

    _at(clock, madrid(2026, 11, 25, 10, 30))
    send_due_messages(now=clock.moment)  # the reminders; 6's fails
    _at(clock, madrid(2026, 11, 25, 10, 35))
    for n, sid in ((1, "SM-c1"), (3, "SM-c3")):
        receive_sms(number=v[n].patient.phone, body="C", sid=sid, now=clock.moment)
    _at(clock, madrid(2026, 11, 25, 10, 40))
    services.reschedule_visit(
        visit_id=v[12].pk,
        start=madrid(2026, 11, 30, 11),
        surgeon_id=a.pk,
        actor=desk,
        now=clock.moment,
    )
    _seen(v, (1, 4, 6), desk, clock, madrid(2026, 11, 27, 10, 50))
    _at(clock, madrid(2026, 11, 27, 11))
    for n in (2, 3, 5):
        services.mark_no_show(visit_id=v[n].pk, actor=desk, now=clock.moment)
    _seen(v, (12,), desk, clock, madrid(2026, 11, 30, 11, 30))

    _at(clock, madrid(2026, 12, 6, 10))
    send_due_messages(now=clock.moment)  # the overdue messages of 8-11
    for n, booked_on, slot in (
        (11, madrid(2026, 12, 7, 10), madrid(2026, 12, 8, 9)),
        (8, madrid(2026, 12, 8, 10), madrid(2026, 12, 9, 9)),
        (9, madrid(2026, 12, 23, 10), madrid(2026, 12, 28, 9)),
    ):
        _at(clock, booked_on)
        book(v[n], slot, actor=desk, now=booked_on, override_reason=LATE)
    return v


def _at(clock: Clock, moment: dt.datetime) -> None:
    clock.moment = moment


def _seen(
    v: dict[int, Visit],
    numbers: tuple[int, ...],
    desk: User,
    clock: Clock,
    at: dt.datetime,
) -> None:
    _at(clock, at)
    for n in numbers:
        services.check_in_visit(visit_id=v[n].pk, actor=desk, now=at)
        services.complete_visit(visit_id=v[n].pk, actor=desk, now=at)


@pytest.fixture
def cast(
    desk: User,
    surgeon_a: Surgeon,
    surgeon_b: Surgeon,
    pinned: Clock,
    twilio: stand_ins.TwilioStandIn,
) -> dict[int, Visit]:
    return build_cast(desk, surgeon_a, surgeon_b, pinned)


def test_the_cast_is_what_the_table_says(cast: dict[int, Visit]) -> None:
    def went_out(n: int, kind: str) -> list[Any]:
        return list(
            Message.objects.filter(
                visit=cast[n], kind=kind, status__in=(Status.SENT, Status.DELIVERED)
            ).values_list("visit_start", flat=True)
        )

    assert [n for n in cast if Visit.objects.get(pk=cast[n].pk).confirmed] == [1, 3]
    assert {n for n in cast if went_out(n, Kind.REMINDER)} == {1, 2, 3, 12}
    assert went_out(12, Kind.REMINDER) == [madrid(2026, 11, 27, 10, 20)]  # old slot
    assert Message.objects.get(visit=cast[6], kind=Kind.REMINDER).status == (
        Status.FAILED
    )
    assert {n for n in cast if went_out(n, Kind.OVERDUE)} == {2, 3, 8, 9, 10, 11}


def test_every_messaging_figure_of_the_cast(
    cast: dict[int, Visit], surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    report = follow_up_report(visits=Visit.objects.all(), start=FROM, end=TO)
    body = report.as_dict()

    names = list(ROW_A)
    assert [(r["surgeon"], {k: r[k] for k in names}) for r in body["rows"]] == [
        (surgeon_a.pk, ROW_A),
        (surgeon_b.pk, ROW_B),
    ]
    assert {k: body["totals"][k] for k in names} == TOTALS
    # Beside it, the call-based figure: nobody was called.
    assert body["totals"]["pct_returned_within_15_days_of_first_call"] is None


def test_the_api_and_its_csv_carry_them(
    cast: dict[int, Visit], front_desk: User
) -> None:
    api = APIClient()
    api.force_login(front_desk)
    query = f"?from={FROM}&to={TO}"

    body = api.get("/api/reports/follow-up/" + query).json()
    csv_text = api.get("/api/reports/follow-up.csv" + query).content.decode()

    assert {k: body["totals"][k] for k in TOTALS} == TOTALS
    header, *_, totals = csv_text.strip().splitlines()
    # Messaging's columns, then those of the apps registered after it.
    header = header[: header.index(",freed_slots")]
    totals = ",".join(totals.split(",")[: header.count(",") + 1])
    assert header.endswith(
        ",messaged_overdue,pct_returned_within_15_days_of_first_message,"
        "pct_returned_within_15_days_of_first_message_ci_low,"
        "pct_returned_within_15_days_of_first_message_ci_high"
    )
    assert totals.endswith(",6,33.3,9.7,70.0")


def test_the_page_says_them_in_words_with_their_intervals(
    cast: dict[int, Visit], front_desk: User, client: Client
) -> None:
    client.force_login(front_desk)

    page = client.get(f"/reports/?start={FROM}&end={TO}").content.decode()

    start = page.index('id="section-messaging"')
    section = page[start : page.index("</section>", start)]
    assert "Reaching the patient" in section
    assert "% confirmed by the patient" in section
    assert "18.2%" in section and "likely 5.1\u201347.7%" in section
    assert "% missed, reminded" in section and "66.7%" in section
    assert "% missed, not reminded" in section and "25.0%" in section
    # Next to the call-based figure it compares with.
    assert "33.3%" in section and "likely 9.7\u201370.0%" in section
    assert "after the first call: \u2013" in section


def test_the_figures_cost_one_query(
    cast: dict[int, Visit], django_assert_num_queries: Callable[..., Any]
) -> None:
    with django_assert_num_queries(3):
        follow_up_report(visits=Visit.objects.all(), start=FROM, end=TO, providers=())
    with django_assert_num_queries(4):
        follow_up_report(
            visits=Visit.objects.all(), start=FROM, end=TO, providers=[figures.PROVIDER]
        )
