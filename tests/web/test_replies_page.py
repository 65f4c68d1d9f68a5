"""`/desk/replies/`, the worklist's *Replies* tab, through Django's test
client: what needs a person, *Resolve* as a plain form and with htmx, a
second *Resolve* refused with who did it; and *Today*'s "Confirmed".

World: tests/messaging/conftest.py's clinic (Madrid); a reminder for Friday
27 Nov at 09:00, booked and sent on Wednesday 25 Nov at 10:00, the replies
then too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from clinic import clock
from followup.models import Visit
from messaging.models import Message, SmsOptOut
from messaging.replies import receive_sms
from messaging.services import send_due_messages
from tests.factories import UserFactory
from tests.followup.world import FRIDAY_9, WEEKDAYS_9_TO_14, book, madrid
from tests.messaging.conftest import MOBILE, visit_of

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
TEN = madrid(2026, 11, 25, 10)
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
PAGE = "/desk/replies/"


@pytest.fixture(autouse=True)
def _clinic(settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CLINIC_TIME_ZONE = "Europe/Madrid"
    settings.CLINIC_HOURS = WEEKDAYS_9_TO_14
    settings.SMS_BACKEND = "console"
    monkeypatch.setattr(clock, "now", lambda: TEN)


@pytest.fixture
def reminded(front_desk: User) -> Visit:
    visit = book(visit_of(), FRIDAY_9, actor=front_desk, now=TEN)
    send_due_messages(now=TEN)
    return visit


def text(body: str, sid: str, number: str = MOBILE) -> Message:
    return receive_sms(number=number, body=body, sid=sid, now=TEN)


def shown(response: Any) -> list[str]:
    return [row.what for row in response.context["rows"]]


def replies_tab(response: Any) -> int:
    [tab] = [tab for tab in response.context["tabs"] if tab.key == "replies"]
    return int(tab.count)


def test_the_tab_lists_what_needs_a_person_newest_first(
    desk: Client, reminded: Visit
) -> None:
    text("R", "SM1")
    text("C", "SM2")  # confirmed: nobody needs to act
    text("¿qué?", "SM3", number="+34699999999")

    response = desk.get(PAGE)

    assert response.status_code == 200
    assert shown(response) == ["Unclear reply", "Wants another time"]
    assert replies_tab(response) == 2
    body = response.content.decode()
    assert "Unknown number +34699999999" in body
    # The patients' own words, quoted as theirs.
    assert '<q class="reply__text">¿qué?</q>' in body
    assert body.count(">Resolve<") == 2
    assert 'aria-current="page">Replies' in body
    # The worklist's own page counts them on its tab too.
    assert replies_tab(desk.get("/desk/")) == 2


def test_a_failed_delivery_is_on_the_tab_with_its_reason(
    desk: Client, reminded: Visit
) -> None:
    Message.objects.filter(kind="reminder").update(
        status="failed", error="the number does not exist (Twilio error 30005)"
    )

    response = desk.get(PAGE)

    assert shown(response) == ["Delivery failed"]
    body = response.content.decode()
    # The provider's reason, in plain words: not quoted as a patient's text.
    assert "the number does not exist (Twilio error 30005)" in body
    assert "<q" not in body


def test_resolve_without_javascript_returns_to_the_same_list(
    desk: Client, reminded: Visit, front_desk: User
) -> None:
    change = text("R", "SM1")

    response = desk.post(f"{PAGE}{change.pk}/resolve/", {"back": ""})

    assert response.status_code == 302
    assert response["Location"] == PAGE
    page = desk.get(PAGE)
    assert shown(page) == []
    assert "Resolved: " in page.content.decode()
    resolved = desk.get(f"{PAGE}?show=resolved")
    assert shown(resolved) == ["Wants another time"]
    assert f"Resolved by {front_desk.username}" in resolved.content.decode()


def test_resolve_with_htmx_answers_with_the_row_and_the_new_counts(
    desk: Client, reminded: Visit
) -> None:
    change = text("R", "SM1")
    text("hola", "SM2")

    response = desk.post(f"{PAGE}{change.pk}/resolve/", {"back": ""}, **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tbody id="reply-{change.pk}"')
    assert "Resolved by" in body
    assert 'id="desk-tabs"' in body and 'hx-swap-oob="true"' in body
    assert replies_tab(response) == 1
    assert 'id="announcements"' in body


def test_a_second_resolve_is_refused_naming_who_did_it(
    desk: Client, reminded: Visit, front_desk: User
) -> None:
    change = text("R", "SM1")
    desk.post(f"{PAGE}{change.pk}/resolve/", {"back": ""})

    plain = desk.post(f"{PAGE}{change.pk}/resolve/", {"back": ""})
    htmx = desk.post(f"{PAGE}{change.pk}/resolve/", {"back": ""}, **HTMX)

    for response in (plain, htmx):
        assert f"Already resolved by {front_desk.username}." in (
            response.content.decode()
        )
    assert plain.status_code == 409
    # With htmx, an answer htmx swaps in (it swaps no 4xx): the row, resolved,
    # with the refusal on it.
    assert htmx.status_code == 200
    row = htmx.content.decode()
    assert row.lstrip().startswith(f'<tbody id="reply-{change.pk}"')
    assert f"Resolved by {front_desk.username}" in row and ">Resolve<" not in row


def test_a_second_resolve_names_a_clerk_whose_login_looks_like_a_code(
    desk: Client, reminded: Visit
) -> None:
    change = text("R", "SM1")
    maria = UserFactory.create(username="maria_lopez", group="front_desk")
    other = Client()
    other.force_login(maria)
    other.post(f"{PAGE}{change.pk}/resolve/", {"back": ""})

    plain = desk.post(f"{PAGE}{change.pk}/resolve/", {"back": ""})
    htmx = desk.post(f"{PAGE}{change.pk}/resolve/", {"back": ""}, **HTMX)

    for response in (plain, htmx):
        body = response.content.decode()
        assert "Already resolved by maria_lopez." in body
        assert "the visit or the patient changed" not in body
    assert Message.objects.get(pk=change.pk).resolved_by == maria


def test_an_htmx_link_inside_the_tab_gets_only_the_list(
    desk: Client, reminded: Visit
) -> None:
    text("R", "SM1")

    response = desk.get(f"{PAGE}?show=resolved", HTTP_HX_TARGET="replies", **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="replies"')
    assert "<html" not in body
    assert response["HX-Push-Url"] == f"{PAGE}?show=resolved"


def test_a_page_past_any_list_shows_the_first_page(
    desk: Client, reminded: Visit
) -> None:
    text("R", "SM1")
    # Within the database's integers, but fifty rows a page past them: the
    # query's OFFSET overflowed (a 500).
    huge = 2**62

    response = desk.get(f"{PAGE}?page={huge}")

    assert response.status_code == 200
    assert shown(response) == ["Wants another time"]


def test_resolving_the_last_row_of_the_last_page_comes_back_to_the_rows_left(
    desk: Client, reminded: Visit
) -> None:
    # Fifty-one unclear texts from numbers that match nobody: the oldest is
    # alone on page 2.
    for n in range(51):
        text(f"¿Quién es? {n}", f"SM{n}", number=f"+3469900{n:04d}")
    [oldest] = desk.get(f"{PAGE}?page=2").context["rows"]

    response = desk.post(f"{PAGE}{oldest.pk}/resolve/", {"back": "page=2"})
    page = desk.get(response["Location"])

    assert response["Location"] == f"{PAGE}?page=2"
    assert len(page.context["rows"]) == 50
    body = page.content.decode()
    assert "No reply needs a person." not in body
    assert replies_tab(page) == 50


def test_opening_resolve_by_its_address_shows_the_tab(desk: Client) -> None:
    response = desk.get(f"{PAGE}1/resolve/")

    assert (response.status_code, response["Location"]) == (302, PAGE)


def test_a_message_that_needs_nobody_cannot_be_resolved(
    desk: Client, reminded: Visit
) -> None:
    confirmed = text("C", "SM1")

    response = desk.post(f"{PAGE}{confirmed.pk}/resolve/", {"back": ""})

    assert response.status_code == 404
    assert Message.objects.get(pk=confirmed.pk).resolved_at is None


def test_a_surgeon_has_no_replies_tab(client: Client, surgeon_a: Any) -> None:
    client.force_login(surgeon_a.user)

    assert client.get(PAGE).status_code == 403


def test_today_shows_who_confirmed(
    desk: Client, front_desk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    sure = book(visit_of(), FRIDAY_9, actor=front_desk, now=TEN)
    unsure = book(visit_of(), FRIDAY_9.replace(hour=10), actor=front_desk, now=TEN)
    Message.objects.filter(visit=unsure).delete()  # only the first is texted
    send_due_messages(now=TEN)
    text("C", "SM1")
    monkeypatch.setattr(clock, "now", lambda: FRIDAY_9 - dt.timedelta(hours=1))

    response = desk.get("/desk/?tab=today")

    rows = {i.row.visit.pk: i.row.visit.confirmed for i in response.context["items"]}
    assert rows == {sure.pk: True, unsure.pk: False}
    assert response.content.decode().count("badge--confirmed") == 1


def test_the_patient_page_shows_the_reply_and_who_confirmed(
    desk: Client, reminded: Visit
) -> None:
    text("Sí", "SM1")

    body = desk.get(f"/desk/patients/{reminded.patient_id}/").content.decode()

    assert "from the patient by SMS" in body
    assert ": confirmed</p>" in body
    assert "Confirmed by the patient" in body
    assert "patient (SMS)" in body


def test_opt_outs_are_read_only_in_the_admin(
    client: Client, clinic_admin: User, reminded: Visit
) -> None:
    text("STOP", "SM1")
    client.force_login(clinic_admin)
    [opt_out] = SmsOptOut.objects.all()

    listing = client.get("/admin/messaging/smsoptout/")
    change = client.post(
        f"/admin/messaging/smsoptout/{opt_out.pk}/delete/", {"post": "yes"}
    )

    assert listing.status_code == 200 and MOBILE in listing.content.decode()
    assert change.status_code == 403
    assert SmsOptOut.objects.filter(pk=opt_out.pk).exists()
