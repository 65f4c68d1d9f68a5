"""No page input gets a 500 on PostgreSQL.

Every query parameter the pages read and every field they post is tried
with a NUL byte (which PostgreSQL refuses in text) and, where a number is
read, with 2**63 (past the database's integers). Each answer is a 4xx, or
the desk's "not understood" notice naming the value it left out; a refused
form names its reason beside the field and keeps what was typed; and
nothing changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Patient, Procedure, ProcedureKind, Surgeon
from feeds.models import CalendarLink
from followup import services
from followup.models import ContactAttempt, MriStudy, Visit, VisitEvent
from tests.factories import make_procedure
from tests.sqlite_scenarios import HUGE
from tests.web.desk_data import NOW, DeskCast, make_cast, pin_clock

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NUL = "\x00"
TYPED_NUL = f"Rang{NUL}twice"


class World:
    def __init__(self, cast: DeskCast, surgeon: Surgeon, desk: User) -> None:
        self.cast = cast
        self.visit = cast.visit(cast.maria, "postop_control")
        self.maria = cast.maria
        procedure = make_procedure(
            surgeon=surgeon,
            kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
            surgery_date=NOW.date() - dt.timedelta(days=400),
            today=NOW.date(),
        )
        own_visit = Visit.objects.filter(procedure=procedure).first()
        assert own_visit is not None
        self.own_visit: Visit = own_visit
        self.own_procedure = procedure
        self.study = services.record_mri_study(
            patient_id=cast.maria.pk,
            performed_on=dt.date(2026, 11, 25),
            reference="MR-1",
            actor=desk,
            today=NOW.date(),
        )


@pytest.fixture
def world(
    monkeypatch: pytest.MonkeyPatch, surgeon_a: Surgeon, front_desk: User
) -> World:
    pin_clock(monkeypatch)
    return World(make_cast(), surgeon_a, front_desk)


def snapshot() -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    return (
        Patient.objects.count(),
        sorted(
            Procedure.objects.values_list("pk", "status", "annual_reviews_ended_on")
        ),
        sorted(Visit.objects.values_list("pk", "status", "start", "cancel_reason")),
        VisitEvent.objects.count(),
        ContactAttempt.objects.count(),
        sorted(MriStudy.objects.values_list("pk", "reference", "report_received_on")),
        CalendarLink.objects.count(),
    )


Url = Callable[[World], str]

# (who, url) of every GET a page reads parameters from, with each parameter.
PAGE_QUERIES: list[tuple[str, Url, list[str], list[str]]] = [
    # who, url, text parameters, number parameters
    (
        "front_desk",
        lambda w: "/desk/",
        ["tab", "q", "sort", "panel"],
        ["surgeon", "rule", "page", "open", "slots_surgeon"],
    ),
    (
        "front_desk",
        lambda w: f"/desk/visits/{w.visit.pk}/",
        ["tab", "q", "sort", "panel"],
        ["surgeon", "rule", "page", "slots_surgeon"],
    ),
    ("front_desk", lambda w: f"/desk/patients/{w.maria.pk}/", ["x"], []),
    ("front_desk", lambda w: "/desk/patients/new/", ["x"], []),
    ("front_desk", lambda w: "/calendar-links/", ["x"], []),
    ("surgeon_a", lambda w: "/surgeon/", ["week", "show"], ["days"]),
    ("front_desk", lambda w: "/reports/", ["start", "end", "rule"], ["surgeon"]),
    ("front_desk", lambda w: "/login/", ["next"], []),
    ("front_desk", lambda w: "/account/two-factor/", ["next"], []),
    ("clinic_admin", lambda w: "/admin/clinic/patient/", ["q", "o"], ["p"]),
    ("clinic_admin", lambda w: "/admin/clinic/patientread/", ["q"], ["patient"]),
    ("clinic_admin", lambda w: "/admin/auditlog/logentry/", ["q"], ["actor"]),
]

GETS = [
    pytest.param(
        who, url, name, value, id=f"{i}-{name}-{'nul' if NUL in value else 'huge'}"
    )
    for i, (who, url, texts, numbers) in enumerate(PAGE_QUERIES)
    for name, value in [(n, f"a{NUL}b") for n in texts + numbers]
    + [(n, HUGE) for n in numbers]
]


@pytest.mark.parametrize(("who", "url", "name", "value"), GETS)
def test_a_nul_or_a_huge_number_in_a_query_is_refused_never_a_500(
    client: Client,
    cast: dict[str, User],
    world: World,
    who: str,
    url: Url,
    name: str,
    value: str,
) -> None:
    client.force_login(cast[who])
    before = snapshot()

    response = client.get(url(world), {name: value})

    assert response.status_code < 500
    assert snapshot() == before
    if NUL in value:
        assert response.status_code == 400


Data = Callable[[World], dict[str, str]]

# (who, url, valid fields): each field, `back` and `next` is tried in turn.
PAGE_POSTS: list[tuple[str, Url, Data]] = [
    (
        "front_desk",
        lambda w: f"/desk/visits/{w.visit.pk}/book/",
        lambda w: {"start": "2026-11-30T09:00:00+01:00", "surgeon": "1"},
    ),
    (
        "front_desk",
        lambda w: f"/desk/visits/{w.visit.pk}/cancel/",
        lambda w: {"reason": "Moved abroad"},
    ),
    (
        "front_desk",
        lambda w: f"/desk/visits/{w.visit.pk}/contact/",
        lambda w: {
            "channel": "phone",
            "outcome": "no_answer",
            "note": "Rang twice",
            "call_back_on": "",
        },
    ),
    ("front_desk", lambda w: f"/desk/visits/{w.visit.pk}/unbook/", lambda w: {}),
    ("front_desk", lambda w: f"/desk/visits/{w.visit.pk}/check-in/", lambda w: {}),
    (
        "front_desk",
        lambda w: f"/desk/patients/{w.maria.pk}/visits/{w.visit.pk}/contact/",
        lambda w: {"channel": "phone", "outcome": "no_answer", "note": "Rang"},
    ),
    (
        "front_desk",
        lambda w: f"/desk/patients/{w.maria.pk}/mri-studies/",
        lambda w: {"performed_on": "2026-11-26", "reference": "MR-2"},
    ),
    (
        "front_desk",
        lambda w: f"/desk/patients/{w.maria.pk}/mri-studies/{w.study.pk}/report/",
        lambda w: {"report_received_on": "2026-11-27"},
    ),
    (
        "front_desk",
        lambda w: "/desk/patients/new/",
        lambda w: {
            "record_number": "N-1",
            "given_name": "Nora",
            "family_name": "Nul",
            "birth_date": "1970-01-01",
            "surgeon": str(w.cast.surgeon.pk),
            "kind": "endoscopic",
            "surgery_date": "2026-11-20",
        },
    ),
    ("front_desk", lambda w: "/calendar-links/", lambda w: {"scope": "clinic"}),
    (
        "surgeon_a",
        lambda w: f"/surgeon/visits/{w.own_visit.pk}/complete/",
        lambda w: {},
    ),
    (
        "surgeon_a",
        lambda w: f"/surgeon/procedures/{w.own_procedure.pk}/end-annual-reviews/",
        lambda w: {"date": "2026-11-30", "reason": "Discharged"},
    ),
    ("front_desk", lambda w: "/account/two-factor/verify/", lambda w: {"code": "1"}),
]

# Fields a person types, whose refusal is shown beside the form with the text.
TYPED = {"note", "reason", "reference"}
# The numbers posted by the desk's forms.
NUMBERS = {"surgeon", "slots_surgeon"}


# What a form posts besides its fields, read by the view: `back` is the
# desk's list to return to. Other extras are read leniently or only echoed
# back (the surgeon's period falls back to its default and says so): tried
# too, never a 500, but a valid form may go through with them.
READ_EXTRAS = {"/desk/visits/": ["back"]}
ECHOED_EXTRAS = [
    "next",
    "previewed",
    "check",
    "action",
    "slots_surgeon",
    "days",
    "week",
]


def _refused_and_unchanged(
    client: Client, url: str, data: dict[str, str], name: str
) -> None:
    before = snapshot()

    response = client.post(url, data)

    assert response.status_code < 500, (name, response.status_code)
    assert response.status_code >= 400, (name, response.status_code)
    assert snapshot() == before, name
    if name in TYPED:
        page = response.content.decode()
        assert "contains a null character" in page, name
        assert "Kept a" in page, name


@pytest.mark.parametrize("index", range(len(PAGE_POSTS)))
def test_a_nul_or_a_huge_number_in_any_posted_field_is_refused_never_a_500(
    client: Client, cast: dict[str, User], world: World, index: int
) -> None:
    who, url_of, data = PAGE_POSTS[index]
    client.force_login(cast[who])
    url, fields = url_of(world), data(world)
    extras = [
        n for prefix, ns in READ_EXTRAS.items() if url.startswith(prefix) for n in ns
    ]
    for name in [*fields, *extras]:
        value = "Kept a\x00b" if name in TYPED else "a\x00b"
        _refused_and_unchanged(client, url, {**fields, name: value}, name)
    for name in NUMBERS & set(fields):
        _refused_and_unchanged(client, url, {**fields, name: HUGE}, name)
    for name in ECHOED_EXTRAS:
        response = client.post(url, {**fields, name: "a\x00b"})
        assert response.status_code < 500, (name, response.status_code)


def test_a_surgeon_id_past_the_databases_range_is_refused_on_the_desk(
    client: Client, front_desk: User, world: World
) -> None:
    client.force_login(front_desk)

    listed = client.get("/desk/", {"surgeon": HUGE})

    assert listed.status_code == 200
    assert "Not understood, so left out: surgeon." in listed.content.decode()
    assert listed.context["state"].surgeon is None


def test_a_nul_in_a_note_is_refused_beside_it_and_keeps_what_was_typed(
    client: Client, front_desk: User, world: World
) -> None:
    client.force_login(front_desk)
    url = f"/desk/visits/{world.visit.pk}/contact/"

    refused = client.post(
        url,
        {"channel": "phone", "outcome": "no_answer", "note": TYPED_NUL, "back": "q=M"},
        HTTP_HX_REQUEST="true",
    )

    assert refused.status_code == 200  # htmx swaps the row with its refusal
    page = refused.content.decode()
    assert "Note contains a null character" in page
    assert 'aria-invalid="true"' in page
    assert "Rang" in page and "twice" in page
    assert not ContactAttempt.objects.exists()


def test_a_huge_surgeon_in_the_booking_form_is_quoted_by_its_start(
    client: Client, cast: dict[str, User], world: World
) -> None:
    client.force_login(cast["front_desk"])
    before = snapshot()

    response = client.post(
        f"/desk/visits/{world.visit.pk}/book/",
        {"start": "2026-11-30T09:00:00+01:00", "surgeon": "x" * 100_000},
    )

    assert response.status_code == 400
    assert snapshot() == before
    page = response.content.decode()
    assert "Choose a surgeon for the slot, not &#x27;xxxx" in page
    assert "(100,000 characters)" in page
    assert page.count("x" * 1_000) == 0
