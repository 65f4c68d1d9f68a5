"""The two people of the role tables whose access a clinic admin withdrew.

As it happens in real life: each signed in at /login/ (and took an API token
with `manage.py create_api_token`) while they held their role; then an admin
changed their account; then they make their next request with the session
cookie or the token they already hold.

- `deactivated`: the front desk clerk, then `is_active=False`. The clerk,
  because the desk reads and changes every patient's record: theirs is the
  session whose survival would expose the most.
- `stripped`: surgeon A, then removed from every group. Surgeon A, because
  their `Surgeon` record, their patients and their feed link stay behind:
  the tables show that none of it still answers to them.
"""

from __future__ import annotations

import io

from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

PASSWORD = "pw-for-tests-only"  # tests.factories.UserFactory's
WITHDRAWN = ("deactivated", "stripped")
# The columns of the role tables (pages, API): the people who hold a role,
# then the two whose access was withdrawn after they signed in.
ROLES = (
    "anonymous",
    "front_desk",
    "surgeon_a",
    "surgeon_b",
    "clinic_admin",
    *WITHDRAWN,
)


def sign_in(client: Client, user: User) -> None:
    """Sign in through the login page, as the person would."""
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]


def create_token(user: User) -> str:
    out = io.StringIO()
    call_command("create_api_token", user.username, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def withdraw(role: str, user: User) -> None:
    """What the clinic admin does to `user` for the column `role`."""
    if role == "deactivated":
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif role == "stripped":
        user.groups.clear()
    else:
        raise ValueError(f"No withdrawal called {role!r}.")
