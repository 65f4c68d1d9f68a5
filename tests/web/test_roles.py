"""Every page tried by every role, from one table.

An expected answer is a status, or "-> URL" for a redirect there. A row is a
GET of its path unless it starts with POST; `{patient}`, `{visit}`,
`{study}`, `{link}` (a patient link) and `{surgeon_link}` name surgeon A's
patient and its objects. POSTs carry no form: a role that gets past the
page's guard gets what the view answers then (the form's refusal, 400; the
visit's state refusing the action, 409; or the action done). The table is
about who gets past the guard. The feed URL (/calendar/<token>.ics) is in
tests/feeds; /healthz is the same for everyone (test_healthz_... below).

The deactivated and stripped columns are people a clinic admin withdrew
after they had signed in (tests/withdrawn.py): the deactivated clerk's
session no longer signs anyone in, so they get what anonymous gets; the
surgeon stripped of their role keeps a session that opens nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Surgeon
from feeds import links
from followup.models import MriStudy
from tests.factories import make_procedure
from tests.withdrawn import ROLES, WITHDRAWN, sign_in, withdraw

pytestmark = pytest.mark.django_db

TO_LOGIN = "-> /login/?next={path}"
TO_DESK = "-> /desk/"
TO_SURGEON = "-> /surgeon/"
TO_ENROL = "-> /account/two-factor/"
TO_ROW = "-> /desk/?open={visit}&panel=slots&slots_surgeon=#visit-{visit}"
TO_LINK_CARD = "-> /desk/patients/{patient}/#calendar-link"
TO_LINKS = "-> /calendar-links/"
# Pages any member of staff may open.
STAFF = (TO_LOGIN, 200, 200, 200, 200, TO_LOGIN, 403)
# The desk's pages, and the desk's form actions (an empty form: 400).
DESK = (TO_LOGIN, 200, 403, 403, 200, TO_LOGIN, 403)
DESK_POST = (TO_LOGIN, 400, 403, 403, 400, TO_LOGIN, 403)
# A desk action on surgeon A's visit that its state refuses (it is to book).
DESK_CONFLICT = (TO_LOGIN, 409, 403, 403, 409, TO_LOGIN, 403)
# A surgeon's actions on surgeon A's visit and procedure: completing a visit
# not checked in (409), ending the programme with an empty form (400).
COMPLETE = (TO_LOGIN, 403, 409, 404, 403, TO_LOGIN, 403)
END_PROGRAMME = (TO_LOGIN, 403, 400, 404, 403, TO_LOGIN, 403)
# Surgeon A's feed link: the desk and surgeon B are not told it exists.
ROTATE_OWN_LINK = (TO_LOGIN, 404, 200, 404, 200, TO_LOGIN, 403)
REVOKE_OWN_LINK = (TO_LOGIN, 404, TO_LINKS, 404, TO_LINKS, TO_LOGIN, 403)
REVOKE_PATIENT_LINK = (TO_LOGIN, TO_LINK_CARD, 403, 403, TO_LINK_CARD, TO_LOGIN, 403)
# path: answers for anonymous, front desk, surgeon A, surgeon B, clinic admin,
# deactivated (the clerk), stripped (surgeon A)
TABLE: dict[str, tuple[int | str, ...]] = {
    "/": (TO_LOGIN, TO_DESK, TO_SURGEON, TO_SURGEON, TO_DESK, TO_LOGIN, 403),
    "/login/": (200, "-> /", "-> /", "-> /", "-> /", 200, "-> /"),
    "POST /logout/": ("-> /login/",) * 7,
    "/desk/": DESK,
    "/surgeon/": (TO_LOGIN, 403, 200, 200, 403, TO_LOGIN, 403),
    "/calendar-links/": STAFF,
    "/reports/": STAFF,
    "/desk/patients/new/": DESK,
    "/desk/import/": DESK,
    "/admin/": (TO_LOGIN, 403, 403, 403, 200, TO_LOGIN, 403),
    "/admin/clinic/patient/": (TO_LOGIN, 403, 403, 403, 200, TO_LOGIN, 403),
    "/api/docs/": (403, 200, 200, 200, 200, 403, 403),
    "/api/redoc/": (403, 200, 200, 200, 200, 403, 403),
    "/account/password/": STAFF,
    "POST /account/password/": (TO_LOGIN, 400, 400, 400, 400, TO_LOGIN, 403),
    "/account/two-factor/": (TO_LOGIN, 403, 403, 403, 200, TO_LOGIN, 403),
    "/account/two-factor/verify/": (TO_LOGIN, 403, 403, 403, TO_ENROL, TO_LOGIN, 403),
    "/desk/appointments/": DESK,
    "/desk/replies/": DESK,
    # No such reply: the desk is told so; others never get past the guard.
    "POST /desk/replies/999999/resolve/": (TO_LOGIN, 404, 403, 403, 404, TO_LOGIN, 403),
    # Twilio's webhooks: no login, only Twilio's signature (none here).
    "POST /hooks/sms/twilio/": (403,) * 7,
    "POST /hooks/sms/twilio/status/": (403,) * 7,
    # A visit's own page; asked from the worklist for a panel, the row there.
    "/desk/visits/{visit}/": DESK,
    "/desk/visits/{visit}/?panel=slots": (
        "-> /login/?next=/desk/visits/{visit}/%3Fpanel%3Dslots",
        TO_ROW,
        403,
        403,
        TO_ROW,
        "-> /login/?next=/desk/visits/{visit}/%3Fpanel%3Dslots",
        403,
    ),
    "POST /desk/visits/{visit}/book/": DESK_POST,
    "POST /desk/visits/{visit}/reschedule/": DESK_POST,
    "POST /desk/visits/{visit}/unbook/": DESK_CONFLICT,
    "POST /desk/visits/{visit}/cancel/": DESK_POST,
    "POST /desk/visits/{visit}/check-in/": DESK_CONFLICT,
    "POST /desk/visits/{visit}/no-show/": DESK_CONFLICT,
    "POST /desk/visits/{visit}/contact/": DESK_POST,
    "POST /surgeon/visits/{visit}/complete/": COMPLETE,
    "POST /surgeon/procedures/{procedure}/end-annual-reviews/": END_PROGRAMME,
    "/desk/patients/{patient}/": (TO_LOGIN, 200, 200, 404, 200, TO_LOGIN, 403),
    "/desk/patients/{patient}/procedures/new/": DESK,
    "POST /desk/patients/{patient}/procedures/new/": DESK_POST,
    "POST /desk/patients/new/": DESK_POST,
    "POST /desk/import/": DESK_POST,
    "POST /desk/patients/{patient}/visits/{visit}/contact/": DESK_POST,
    "POST /desk/patients/{patient}/mri-studies/": DESK_POST,
    "POST /desk/patients/{patient}/mri-studies/{study}/report/": DESK_POST,
    # The patient already has a live link: a second one is a conflict.
    "POST /desk/patients/{patient}/calendar-link/": DESK_CONFLICT,
    "POST /desk/patients/{patient}/calendar-link/{link}/rotate/": DESK,
    "POST /desk/patients/{patient}/calendar-link/{link}/revoke/": REVOKE_PATIENT_LINK,
    "POST /calendar-links/{surgeon_link}/rotate/": ROTATE_OWN_LINK,
    "POST /calendar-links/{surgeon_link}/revoke/": REVOKE_OWN_LINK,
}
CASES = [
    (path, role, expected)
    for path, answers in TABLE.items()
    for role, expected in zip(ROLES, answers, strict=True)
]


@dataclass(frozen=True)
class Ids:
    patient: int
    procedure: int
    visit: int
    study: int
    link: int
    surgeon_link: int


@pytest.fixture
def ids(surgeon_a: Surgeon, front_desk: User) -> Ids:
    """Surgeon A's patient, with a visit, an MRI study and both feed links."""
    procedure = make_procedure(surgeon=surgeon_a)
    patient = procedure.patient
    study = MriStudy.objects.create(
        patient=patient,
        performed_on=procedure.surgery_date,
        reference="ACC-1",
        recorded_by=front_desk,
    )
    patient_link = links.create_link(
        scope="patient", patient_id=patient.pk, by_command=True
    )
    surgeon_link = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    return Ids(
        patient=patient.pk,
        procedure=procedure.pk,
        visit=procedure.visits.order_by("due_date").values_list("pk", flat=True)[0],
        study=study.pk,
        link=patient_link.link.pk,
        surgeon_link=surgeon_link.link.pk,
    )


@pytest.fixture
def cast(
    front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon, clinic_admin: User
) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "front_desk": front_desk,
        "surgeon_a": surgeon_a.user,
        "surgeon_b": surgeon_b.user,
        "clinic_admin": clinic_admin,
        # Themselves before an admin withdrew their access.
        "deactivated": front_desk,
        "stripped": surgeon_a.user,
    }


def signed_in(client: Client, cast: dict[str, User | None], role: str) -> Client:
    user = cast[role]
    if user is None:
        return client
    if role in WITHDRAWN:
        sign_in(client, user)
        withdraw(role, user)
    else:
        client.force_login(user)
    return client


def answer(client: Client, row: str, ids: Ids) -> int | str:
    method, _, path = row.rpartition(" ")
    url = path.format(**asdict(ids))
    response = client.post(url) if method == "POST" else client.get(url)
    if response.status_code == 302:
        return f"-> {response['Location']}"
    return response.status_code


@pytest.mark.parametrize(("row", "role", "expected"), CASES)
def test_every_page_answers_every_role_as_the_table_says(
    client: Client,
    cast: dict[str, User | None],
    ids: Ids,
    row: str,
    role: str,
    expected: int | str,
) -> None:
    signed_in(client, cast, role)

    if isinstance(expected, str):
        path = row.rpartition(" ")[2].format(**asdict(ids))
        expected = expected.format(path=path, **asdict(ids))
    assert answer(client, row, ids) == expected


@pytest.mark.parametrize("role", ROLES)
def test_healthz_answers_every_role_as_it_answers_anonymous(
    client: Client, cast: dict[str, User | None], role: str
) -> None:
    # For a load balancer: no sign-in, and nothing that depends on who asks.
    anonymous = Client().get("/healthz")
    signed_in(client, cast, role)

    response = client.get("/healthz")

    assert response.status_code == anonymous.status_code
    assert response.json() == anonymous.json()


def test_a_surgeon_stripped_of_their_role_is_told_to_ask_an_admin(
    client: Client, cast: dict[str, User | None]
) -> None:
    signed_in(client, cast, "stripped")

    response = client.get("/", follow=True)

    assert response.redirect_chain == []
    assert response.status_code == 403
    assert "Ask a clinic admin" in response.content.decode()


def test_a_refused_page_says_why_in_words(client: Client, surgeon_a: Surgeon) -> None:
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    response = client.get("/desk/")

    assert response.status_code == 403
    text = response.content.decode()
    assert "This page is not for your role" in text
    assert 'href="/"' in text  # back to their own home


def test_someone_with_no_clinic_role_is_told_to_ask_an_admin(
    client: Client, nobody: User
) -> None:
    client.force_login(nobody)

    response = client.get("/")

    assert response.status_code == 403
    assert "Ask a clinic admin" in response.content.decode()


@pytest.fixture
def nobody(db: None) -> User:
    return User.objects.create_user("nobody", password="pw-for-tests-only")


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (
            "front_desk",
            [
                "Worklist",
                "Appointments",
                "New patient",
                "Import",
                "Figures",
                "Calendar links",
                "Password",
            ],
        ),
        ("surgeon_a", ["My reviews", "Figures", "Calendar links", "Password"]),
        (
            "clinic_admin",
            [
                "Worklist",
                "Appointments",
                "New patient",
                "Import",
                "Figures",
                "Calendar links",
                "API docs",
                "Admin",
                "Two-factor",
                "Password",
            ],
        ),
    ],
)
def test_the_header_names_the_person_their_role_and_their_links(
    client: Client, cast: dict[str, User | None], role: str, links: list[str]
) -> None:
    user = cast[role]
    assert user is not None
    client.force_login(user)

    response = client.get("/calendar-links/")

    context = response.context
    assert [link.label for link in context["nav_links"]] == links
    assert context["display_name"] == (user.get_full_name() or user.username)
    text = response.content.decode()
    assert 'aria-live="polite"' in text
    assert 'action="/logout/"' in text
