"""Every endpoint tried by every role, with the status each must get.

Another surgeon's object is a 404 (its existence is never confirmed); a role
that may see an object but not change it gets a 403; anonymous gets a 403
with the API's error shape.

The last two columns (tests/withdrawn.py) are tried twice: with the session
and with the API token the person took while they had their role. The
deactivated clerk gets what anonymous gets, from either: their session signs
nobody in and their token is refused like a wrong one. Surgeon A, stripped
of every role, is still signed in and sees nothing: lists and actions are a
403, and each object, even their own former patient's, the 404 of an object
that does not exist. The feed URL itself is tried in tests/feeds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from feeds import links
from followup.models import VisitStatus
from messaging.models import Message
from messaging.replies import receive_sms
from tests.api.conftest import EARLIER_TODAY, FREE_SLOT, NOW, World, put_in_state
from tests.withdrawn import ROLES, WITHDRAWN, create_token, sign_in, withdraw

pytestmark = pytest.mark.django_db

CSV = (
    "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"
    "CSV001,Carla,Campos,1980-02-03,surgeon_a,endoscopic,2026-11-02\n"
)


@dataclass
class Case:
    method: str
    url: Callable[[World], str]
    # anonymous, front desk, surgeon A, surgeon B, clinic admin,
    # deactivated (the clerk), stripped (surgeon A)
    expected: tuple[int, int, int, int, int, int, int]
    body: Callable[[World], dict[str, Any]] = lambda w: {}
    visit_state: str | None = None  # put visit A in this state first
    visit_start: dt.datetime = FREE_SLOT  # with this slot, where it holds one
    content_type: str | None = None
    raw: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def patient_a(w: World) -> str:
    return f"/api/patients/{w.patient_a.pk}/"


def procedure_a(w: World) -> str:
    return f"/api/procedures/{w.procedure_a.pk}/"


def visit_a(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/visits/{w.visit_a.pk}/{suffix}"


def surgeon_a_link(w: World) -> int:
    """A live feed link of surgeon A's, made for the row that manages it."""
    issued = links.create_link(scope="surgeon", surgeon_id=w.procedure_a.surgeon_id)
    return issued.link.pk


def unclear_reply(w: World) -> int:
    """A text from patient A that nobody can read: on the Replies list."""
    reply = receive_sms(
        number="+34612345678", body="?", sid=f"SM{w.visit_a.pk:032}", now=NOW
    )
    Message.objects.filter(pk=reply.pk).update(visit=w.visit_a, patient=w.patient_a)
    return reply.pk


def booking(w: World) -> dict[str, Any]:
    return {"start": FREE_SLOT.isoformat(), "surgeon": w.procedure_a.surgeon_id}


READ_ALL = (403, 200, 200, 200, 200, 403, 403)
# The front desk's own lists and actions, about no one surgeon's patient.
DESK_ONLY = (403, 200, 403, 403, 200, 403, 403)
READ_OWN = (403, 200, 200, 404, 200, 403, 404)
# A list under one object: its roles are checked before the object is found.
READ_OWN_LIST = (403, 200, 200, 404, 200, 403, 403)
DESK_WRITES = (403, 200, 403, 404, 200, 403, 404)
DESK_CREATES = (403, 201, 403, 403, 201, 403, 403)
# The API's description (no patient in it, but a map of every endpoint):
# staff with a role only, not a login stripped of its roles.
PUBLISHED = (403, 200, 200, 200, 200, 403, 403)

CASES: dict[str, Case] = {
    "list patients": Case("get", lambda w: "/api/patients/", READ_ALL),
    "create patient": Case(
        "post",
        lambda w: "/api/patients/",
        DESK_CREATES,
        body=lambda w: {
            "record_number": "NEW1",
            "given_name": "Nuria",
            "family_name": "Nieto",
            "birth_date": "1975-01-02",
        },
    ),
    "read patient": Case("get", patient_a, READ_OWN),
    "correct patient": Case(
        "patch", patient_a, DESK_WRITES, body=lambda w: {"given_name": "Anabel"}
    ),
    "list MRI studies": Case(
        "get", lambda w: f"{patient_a(w)}mri-studies/", READ_OWN_LIST
    ),
    "record MRI study": Case(
        "post",
        lambda w: f"{patient_a(w)}mri-studies/",
        (403, 201, 403, 404, 201, 403, 404),
        body=lambda w: {"performed_on": "2026-11-20", "reference": "ACC-1"},
    ),
    "list surgeons": Case("get", lambda w: "/api/surgeons/", READ_ALL),
    "list procedures": Case("get", lambda w: "/api/procedures/", READ_ALL),
    "create procedure": Case(
        "post",
        lambda w: "/api/procedures/",
        DESK_CREATES,
        body=lambda w: {
            "patient": w.patient_a.pk,
            "surgeon": w.procedure_a.surgeon_id,
            "kind": "endoscopic",
            "surgery_date": "2026-11-23",
        },
    ),
    "read procedure": Case("get", procedure_a, READ_OWN),
    "correct procedure": Case(
        "patch", procedure_a, DESK_WRITES, body=lambda w: {"surgery_date": "2026-11-19"}
    ),
    "cancel procedure": Case(
        "post",
        lambda w: f"{procedure_a(w)}cancel/",
        DESK_WRITES,
        body=lambda w: {"reason": "Registered twice"},
    ),
    "end annual reviews": Case(
        "post",
        lambda w: f"{procedure_a(w)}end-annual-reviews/",
        (403, 403, 200, 404, 200, 403, 404),
        body=lambda w: {"date": "2026-11-25", "reason": "Disc healed"},
    ),
    "import procedures": Case(
        "post",
        lambda w: "/api/procedures/import/",
        (403, 200, 403, 403, 200, 403, 403),
        content_type="text/csv",
        raw=CSV,
    ),
    "list visits": Case("get", lambda w: "/api/visits/", READ_ALL),
    "read visit": Case("get", visit_a(), READ_OWN),
    "visit history": Case("get", visit_a("events/"), READ_OWN),
    "free slots": Case("get", visit_a("slots/"), DESK_WRITES),
    "book": Case("post", visit_a("book/"), DESK_WRITES, body=booking),
    "rebook after no-show": Case(
        "post",
        visit_a("book/"),
        DESK_WRITES,
        body=booking,
        visit_state=VisitStatus.NO_SHOW,
    ),
    "reschedule": Case(
        "post",
        visit_a("reschedule/"),
        DESK_WRITES,
        body=lambda w: {
            "start": FREE_SLOT.replace(hour=10).isoformat(),
            "surgeon": w.procedure_a.surgeon_id,
        },
        visit_state=VisitStatus.BOOKED,
    ),
    "unbook": Case(
        "post", visit_a("unbook/"), DESK_WRITES, visit_state=VisitStatus.BOOKED
    ),
    "cancel visit": Case(
        "post",
        visit_a("cancel/"),
        DESK_WRITES,
        body=lambda w: {"reason": "Patient moved abroad"},
    ),
    "check in": Case(
        "post",
        visit_a("check-in/"),
        DESK_WRITES,
        visit_state=VisitStatus.BOOKED,
        visit_start=EARLIER_TODAY,
    ),
    "no-show": Case(
        "post",
        visit_a("no-show/"),
        DESK_WRITES,
        visit_state=VisitStatus.BOOKED,
        visit_start=EARLIER_TODAY,
    ),
    "complete": Case(
        "post",
        visit_a("complete/"),
        READ_OWN,
        visit_state=VisitStatus.CHECKED_IN,
    ),
    "contact attempts": Case("get", visit_a("contact-attempts/"), READ_OWN_LIST),
    "record contact attempt": Case(
        "post",
        visit_a("contact-attempts/"),
        (403, 201, 403, 404, 201, 403, 404),
        body=lambda w: {"channel": "phone", "outcome": "no_answer"},
    ),
    "visit messages": Case("get", visit_a("messages/"), READ_OWN_LIST),
    "patient messages": Case(
        "get", lambda w: f"{patient_a(w)}messages/", READ_OWN_LIST
    ),
    "open replies": Case("get", lambda w: "/api/replies/?open=true", DESK_ONLY),
    "resolve reply": Case(
        "post", lambda w: f"/api/replies/{unclear_reply(w)}/resolve/", DESK_ONLY
    ),
    "upcoming reviews": Case("get", lambda w: "/api/reviews/upcoming/", READ_ALL),
    "overdue reviews": Case("get", lambda w: "/api/reviews/overdue/", READ_ALL),
    "follow-up report": Case(
        "get",
        lambda w: "/api/reports/follow-up/?from=2026-01-01&to=2026-12-31",
        READ_ALL,
    ),
    "follow-up report csv": Case(
        "get",
        lambda w: "/api/reports/follow-up.csv?from=2026-01-01&to=2026-12-31",
        READ_ALL,
    ),
    "list calendar links": Case("get", lambda w: "/api/calendar-links/", READ_ALL),
    "create surgeon A's calendar link": Case(
        "post",
        lambda w: "/api/calendar-links/",
        (403, 403, 201, 403, 201, 403, 403),
        body=lambda w: {"scope": "surgeon", "surgeon": w.procedure_a.surgeon_id},
    ),
    "rotate surgeon A's calendar link": Case(
        "post",
        lambda w: f"/api/calendar-links/{surgeon_a_link(w)}/rotate/",
        (403, 404, 200, 404, 200, 403, 404),
    ),
    "revoke surgeon A's calendar link": Case(
        "delete",
        lambda w: f"/api/calendar-links/{surgeon_a_link(w)}/",
        (403, 404, 204, 404, 204, 403, 404),
    ),
    "schema": Case("get", lambda w: "/api/schema/", PUBLISHED),
    "docs": Case("get", lambda w: "/api/docs/", PUBLISHED),
    "redoc": Case("get", lambda w: "/api/redoc/", PUBLISHED),
}

TABLE = [
    pytest.param(name, role, credential, case.expected[i], id=f"{name}-{label}")
    for name, case in CASES.items()
    for i, role in enumerate(ROLES)
    for credential, label in (
        [("session", f"{role}-session"), ("token", f"{role}-token")]
        if role in WITHDRAWN
        else [("session", role)]
    )
]
# What DRF says when the deactivated person's credential is refused: their
# session signs nobody in (anonymous); their token fails like a wrong one.
REFUSED_CODES = {"session": "not_authenticated", "token": "authentication_failed"}


@pytest.fixture
def client_as(
    users: dict[str, User | None], client_for: Callable[[str], APIClient]
) -> Callable[[str, str], APIClient]:
    """A client for a role; a withdrawn one signs in (or takes a token) first."""

    def make(role: str, credential: str) -> APIClient:
        if role not in WITHDRAWN:
            return client_for(role)
        user = users["front_desk" if role == "deactivated" else "surgeon_a"]
        assert user is not None
        client = APIClient()
        if credential == "token":
            client.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user)}")
        else:
            sign_in(client, user)
        withdraw(role, user)
        return client

    return make


def send(client: APIClient, case: Case, world: World, url: str) -> Any:
    if case.raw is not None:
        return getattr(client, case.method)(
            url, data=case.raw, content_type=case.content_type
        )
    if case.method == "get":
        return client.get(url)
    return getattr(client, case.method)(url, case.body(world), format="json")


@pytest.mark.parametrize(("name", "role", "credential", "expected"), TABLE)
def test_every_endpoint_gives_each_role_its_status(
    name: str,
    role: str,
    credential: str,
    expected: int,
    world: World,
    client_as: Callable[[str, str], APIClient],
) -> None:
    case = CASES[name]
    if case.visit_state is not None:
        put_in_state(world.visit_a, case.visit_state, case.visit_start)
    url = case.url(world)  # before any withdrawal: a row may create its object
    client = client_as(role, credential)

    response = send(client, case, world, url)

    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        body = response.data  # the schema view answers its errors in YAML
        assert set(body) >= {"detail", "code"}
        assert body["detail"]
    if role == "deactivated":
        assert response.data["code"] == REFUSED_CODES[credential]


def test_anonymous_is_told_to_sign_in(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    response = client_for("anonymous").get("/api/visits/")

    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_a_user_in_no_clinic_group_sees_nothing(world: World, nobody: Any) -> None:
    client = APIClient()
    client.force_login(nobody)

    assert client.get("/api/patients/").status_code == 403
    assert client.get("/api/visits/").status_code == 403
    assert client.get(f"/api/visits/{world.visit_a.pk}/").status_code == 404
    # Nor the map of every endpoint: the docs are for the clinic's staff.
    for path in ("/api/schema/", "/api/docs/", "/api/redoc/"):
        assert client.get(path).status_code == 403


def test_token_authentication_works(world: World, front_desk: Any) -> None:
    from knox.models import AuthToken

    _, key = AuthToken.objects.create(user=front_desk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert client.get(f"/api/visits/{world.visit_a.pk}/").status_code == 200


def test_a_bad_token_is_refused_with_the_error_shape(world: World) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/visits/")

    assert response.status_code in (401, 403)
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize(
    "url",
    ["/api/patients/", "/api/procedures/", "/api/visits/", "/api/reviews/overdue/"],
)
def test_a_surgeon_lists_only_their_own_patients(
    url: str, world: World, client_for: Callable[[str], APIClient]
) -> None:
    put_in_state(world.visit_a, VisitStatus.TO_BOOK)
    # Both post-op windows closed long ago: overdue for both surgeons.
    from followup.models import Visit

    Visit.objects.filter(pk__in=[world.visit_a.pk, world.visit_b.pk]).update(
        window_start="2026-10-01", due_date="2026-10-05", window_end="2026-10-10"
    )
    seen_by_b = client_for("surgeon_b").get(url).json()["results"]
    seen_by_desk = client_for("front_desk").get(url).json()["results"]

    patient_ids_b = {row.get("patient", row["id"]) for row in seen_by_b}
    patient_ids_desk = {row.get("patient", row["id"]) for row in seen_by_desk}
    assert world.patient_b.pk in patient_ids_b
    assert world.patient_a.pk not in patient_ids_b
    assert {world.patient_a.pk, world.patient_b.pk} <= patient_ids_desk


def test_a_surgeon_also_at_the_desk_cannot_end_another_surgeons_programme(
    world: World, surgeon_b: Any, client_for: Callable[[str], APIClient]
) -> None:
    from django.contrib.auth.models import Group

    surgeon_b.user.groups.add(Group.objects.get(name="front_desk"))
    url = f"/api/procedures/{world.procedure_a.pk}/end-annual-reviews/"

    response = client_for("surgeon_b").post(
        url, {"date": "2026-11-25", "reason": "x"}, format="json"
    )

    assert response.status_code == 403
    assert (
        client_for("surgeon_b")
        .get(f"/api/procedures/{world.procedure_a.pk}/")
        .status_code
        == 200
    )
