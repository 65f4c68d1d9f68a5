"""A patient who moved away or died is marked so on their page and on the
rows that name them (issue 19, D5).

Jorge's attempt says he moved away: both his visits are cancelled. A clinic
admin reopens one; the desk's row for it says *Moved away*, so nobody books
him without a second look. Once his last such visit is reopened the mark
goes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followup import services
from followup.models import ContactChannel, ContactOutcome, Visit
from tests.web.desk_data import NOW, DeskCast, make_cast, pin_clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(monkeypatch: pytest.MonkeyPatch) -> DeskCast:
    pin_clock(monkeypatch)
    return make_cast()


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def leave(cast: DeskCast, outcome: str) -> list[Visit]:
    visits = list(Visit.objects.filter(patient=cast.jorge).order_by("pk"))
    services.record_contact_attempt(
        visit_id=visits[0].pk,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome(outcome),
        actor=None,
        now=NOW,
    )
    return visits


def reopen(visit: Visit, admin: User) -> None:
    services.reopen_visit(visit_id=visit.pk, actor=admin, reason="Slip", now=NOW)


@pytest.mark.parametrize(
    ("outcome", "mark"), [("deceased", "Deceased"), ("moved_away", "Moved away")]
)
def test_the_patient_page_header_carries_the_mark(
    client: Client, front_desk: User, cast: DeskCast, outcome: str, mark: str
) -> None:
    client.force_login(front_desk)
    leave(cast, outcome)

    html = text_of(client.get(f"/desk/patients/{cast.jorge.pk}/"))

    head = html[html.index('class="patient-head"') : html.index("</h1>")]
    assert f'class="tag tag--left-care">{mark}</span>' in head


MARK = 'tag--left-care">Moved away</span>'


def test_the_desk_row_of_a_reopened_visit_says_moved_away_until_the_last_is_back(
    client: Client, front_desk: User, clinic_admin: User, cast: DeskCast
) -> None:
    client.force_login(front_desk)
    first, second = leave(cast, "moved_away")
    reopen(first, clinic_admin)

    row_html = text_of(client.get("/desk/?tab=all"))
    row = row_html[row_html.index(f'id="visit-{first.pk}"') :]
    # The mark, not the last contact's outcome ("Moved away" too).
    assert MARK in row[: row.index("</tbody>")]

    reopen(second, clinic_admin)
    html = text_of(client.get("/desk/?tab=all"))
    assert MARK not in html
    other = text_of(client.get(f"/desk/patients/{cast.maria.pk}/"))
    assert "tag--left-care" not in other
