"""*Reopen* on the patient page: a clinic admin's undo of a mistaken cancel,
with a required reason (issue 19, D5). The front desk sees no button and is
refused (403)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followup import services
from followup.models import Visit, VisitEvent, VisitStatus
from tests.web.desk_data import NOW, DeskCast, make_cast, pin_clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(monkeypatch: pytest.MonkeyPatch) -> DeskCast:
    pin_clock(monkeypatch)
    return make_cast()


@pytest.fixture
def cancelled(cast: DeskCast) -> Visit:
    visit = cast.visit(cast.jorge, "postop_control")
    services.cancel_visit(
        visit_id=visit.pk, reason="Wrong patient", actor=None, now=NOW
    )
    return visit


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def visit_html(response: Any, visit: Visit) -> str:
    html = re.sub(r"\s+", " ", response.content.decode())
    part = html[html.index(f'id="visit-{visit.pk}"') :]
    return part[: part.index("</li>")]


def url(visit: Visit) -> str:
    return f"/desk/patients/{visit.patient_id}/visits/{visit.pk}/reopen/"


def test_an_admin_sees_reopen_with_a_required_reason(
    clinic_admin: User, cancelled: Visit
) -> None:
    html = visit_html(
        as_user(clinic_admin).get(f"/desk/patients/{cancelled.patient_id}/"), cancelled
    )

    assert f'action="{url(cancelled)}"' in html
    assert re.search(r'name="reason"[^>]* required', html)


def test_the_desk_sees_no_reopen_and_is_refused(
    front_desk: User, cancelled: Visit
) -> None:
    client = as_user(front_desk)
    html = visit_html(client.get(f"/desk/patients/{cancelled.patient_id}/"), cancelled)

    assert "reopen" not in html.lower()
    response = client.post(url(cancelled), {"reason": "Mistake"})
    assert response.status_code == 403
    assert Visit.objects.get(pk=cancelled.pk).status == VisitStatus.CANCELLED


def test_reopening_without_a_reason_is_refused_beside_the_visit(
    clinic_admin: User, cancelled: Visit
) -> None:
    events = VisitEvent.objects.count()

    response = as_user(clinic_admin).post(url(cancelled), {"reason": "  "})

    assert response.status_code == 400
    assert "Say why the visit is reopened" in visit_html(response, cancelled)
    assert VisitEvent.objects.count() == events
    assert Visit.objects.get(pk=cancelled.pk).status == VisitStatus.CANCELLED


def test_an_admin_reopens_the_visit_and_its_history_keeps_the_reason(
    clinic_admin: User, cancelled: Visit
) -> None:
    client = as_user(clinic_admin)

    response = client.post(url(cancelled), {"reason": "Cancelled the wrong patient"})

    assert response.status_code == 302
    assert (
        response["Location"]
        == f"/desk/patients/{cancelled.patient_id}/#visit-{cancelled.pk}"
    )
    assert Visit.objects.get(pk=cancelled.pk).status == VisitStatus.TO_BOOK
    html = visit_html(client.get(response["Location"]), cancelled)
    assert "Cancelled the wrong patient" in html
    assert f'action="{url(cancelled)}"' not in html


def test_reopen_from_a_page_shown_before_the_visit_was_cancelled_again_is_refused(
    clinic_admin: User, cancelled: Visit
) -> None:
    """The admin's page shows the mistaken cancel; meanwhile the visit was
    reopened and then cancelled again for a real reason. Reopen from the
    old page does not undo that later cancellation: it is refused, saying
    what happened, with the reason still typed."""
    client = as_user(clinic_admin)
    page = visit_html(client.get(f"/desk/patients/{cancelled.patient_id}/"), cancelled)
    seen = str(Visit.objects.get(pk=cancelled.pk).sequence)
    services.reopen_visit(visit_id=cancelled.pk, actor=None, reason="Oops", now=NOW)
    services.cancel_visit(
        visit_id=cancelled.pk, reason="Moved abroad", actor=None, now=NOW
    )

    response = client.post(
        url(cancelled), {"reason": "Cancelled by mistake", "sequence": seen}
    )

    assert response.status_code == 409
    visit = Visit.objects.get(pk=cancelled.pk)
    assert (visit.status, visit.cancel_reason) == (
        VisitStatus.CANCELLED,
        "Moved abroad",
    )
    html = visit_html(response, cancelled)
    assert "This visit changed after it was shown: The system cancelled it." in html
    assert 'value="Cancelled by mistake"' in html
    assert f'name="sequence" value="{seen}"' in page  # what the form posted
