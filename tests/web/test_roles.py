"""Every page tried by every role, from one table.

An expected answer is a status, or "-> URL" for a redirect there.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Surgeon

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "front_desk", "surgeon_a", "surgeon_b", "clinic_admin")
TO_LOGIN = "-> /login/?next={path}"
# path: answers for anonymous, front desk, surgeon A, surgeon B, clinic admin
TABLE: dict[str, tuple[int | str, ...]] = {
    "/": (TO_LOGIN, "-> /desk/", "-> /surgeon/", "-> /surgeon/", "-> /desk/"),
    "/login/": (200, "-> /", "-> /", "-> /", "-> /"),
    "/desk/": (TO_LOGIN, 200, 403, 403, 200),
    "/surgeon/": (TO_LOGIN, 403, 200, 200, 403),
    "/calendar-links/": (TO_LOGIN, 200, 200, 200, 200),
    "/reports/": (TO_LOGIN, 200, 200, 200, 200),
    "/desk/patients/new/": (TO_LOGIN, 200, 403, 403, 200),
    "/desk/import/": (TO_LOGIN, 200, 403, 403, 200),
    "/admin/": (TO_LOGIN, 403, 403, 403, 200),
    "/admin/clinic/patient/": (TO_LOGIN, 403, 403, 403, 200),
    "/api/docs/": (403, 200, 200, 200, 200),
    "/account/password/": (TO_LOGIN, 200, 200, 200, 200),
    "/account/two-factor/": (TO_LOGIN, 403, 403, 403, 200),
    "/account/two-factor/verify/": (
        TO_LOGIN,
        403,
        403,
        403,
        "-> /account/two-factor/",
    ),
    "/api/redoc/": (403, 200, 200, 200, 200),
}
CASES = [
    (path, role, expected)
    for path, answers in TABLE.items()
    for role, expected in zip(ROLES, answers, strict=True)
]


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
    }


def answer(client: Client, path: str) -> int | str:
    response = client.get(path)
    if response.status_code == 302:
        return f"-> {response['Location']}"
    return response.status_code


@pytest.mark.parametrize(("path", "role", "expected"), CASES)
def test_every_page_answers_every_role_as_the_table_says(
    client: Client,
    cast: dict[str, User | None],
    path: str,
    role: str,
    expected: int | str,
) -> None:
    user = cast[role]
    if user is not None:
        client.force_login(user)

    if isinstance(expected, str):
        expected = expected.format(path=path)
    assert answer(client, path) == expected


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
