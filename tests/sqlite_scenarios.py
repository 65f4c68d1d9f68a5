"""Requests against a throwaway SQLite database, in a process of their own.

The suite's database is PostgreSQL; what only SQLite gets wrong (integers
past 64 bits, the write lock) is tried here:
`python -m tests.sqlite_scenarios` with DATABASE_URL=sqlite:///<tmp file>.
It prints one JSON object: each request's status, code and Retry-After.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

HUGE = "9223372036854775808"  # 2**63: past SQLite's INTEGER


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from knox.models import AuthToken

    call_command("migrate", verbosity=0)
    desk = User.objects.create_user("desk", password="pw-desk-1234")
    desk.groups.add(Group.objects.get(name="front_desk"))
    _, key = AuthToken.objects.create(user=desk)
    api = Client(HTTP_AUTHORIZATION=f"Token {key}", raise_request_exception=False)
    pages = Client(raise_request_exception=False)
    pages.force_login(desk)
    results: dict[str, Any] = {}

    def record(name: str, response: Any) -> None:
        try:
            code = response.json().get("code")
        except ValueError:
            code = None
        results[name] = {
            "status": response.status_code,
            "code": code,
            "retry_after": response.get("Retry-After"),
        }

    for url in (
        f"/api/visits/?patient={HUGE}",
        f"/api/visits/?surgeon={HUGE}",
        f"/api/procedures/?patient={HUGE}",
        f"/api/procedures/?surgeon={HUGE}",
        f"/api/visits/{HUGE}/",
        f"/api/reviews/overdue/?surgeon={HUGE}",
    ):
        record(url, api.get(url))

    for url in (
        f"/desk/?surgeon={HUGE}",
        f"/desk/?rule={HUGE}&page={HUGE}",
        f"/desk/?open={HUGE}&panel=slots&slots_surgeon={HUGE}",
        f"/desk/visits/{HUGE}/",
        f"/desk/patients/{HUGE}/",
        f"/reports/?surgeon={HUGE}",
    ):
        record(url, pages.get(url))

    # Another connection holds the write lock, as a long import does; this
    # one gives up waiting after a second instead of the configured 20.
    connection.close()
    connection.settings_dict["OPTIONS"]["timeout"] = 1
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    patient = {
        "record_number": "L-1",
        "given_name": "Ana",
        "family_name": "Ruiz",
        "birth_date": "1970-01-01",
    }
    record("locked GET /api/visits/", api.get("/api/visits/"))
    record(
        "locked POST /api/patients/",
        api.post("/api/patients/", patient, content_type="application/json"),
    )
    record("locked GET /api/schema/", api.get("/api/schema/?format=json"))
    record("locked GET /desk/", pages.get("/desk/"))
    holder.execute("ROLLBACK")
    holder.close()
    record("released GET /api/visits/", api.get("/api/visits/"))
    record(
        "released POST /api/patients/",
        api.post("/api/patients/", patient, content_type="application/json"),
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
