"""Backup and restore, as docs/backup.md tells them: `bin/backup` (pg_dump)
then `bin/restore` (createdb, pg_restore) into a fresh database. The restored
service serves the same visits, and feeds with byte-identical bodies.

The real binaries, on throwaway databases this test creates and drops.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from clinic.models import Surgeon
from feeds import links
from followup.models import Visit
from tests.conftest import require
from tests.feeds.conftest import at, book, postop_visit

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def database_url(name: str) -> str:
    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params["PASSWORD"] else ""
    port = params["PORT"] or 5432
    return (
        f"postgres://{params['USER']}{password}@{params['HOST'] or '127.0.0.1'}"
        f":{port}/{name}"
    )


def run(*command: str, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def served(url: str, var_dir: Path, username: str, tokens: list[str]) -> Any:
    """Ask a fresh process pointed at `url`, with an empty cache of its own."""
    var_dir.mkdir()
    out = run(
        sys.executable,
        "-m",
        "tests.ops.serve_probe",
        username,
        *tokens,
        env={
            "DATABASE_URL": url,
            "CLINIC_VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CACHE_URL": "",
        },
    )
    return json.loads(out)


@pytest.fixture
def restored_name() -> Any:
    name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    yield name
    run("dropdb", "--if-exists", "--force", "--maintenance-db",
        database_url("postgres"), name)  # fmt: skip


def test_a_restored_database_serves_the_same_visits_and_feed_bytes(
    tmp_path: Path,
    restored_name: str,
    surgeon_a: Surgeon,
    front_desk: User,
) -> None:
    require(
        all(shutil.which(tool) for tool in ("pg_dump", "pg_restore", "createdb")),
        "needs the PostgreSQL client tools (pg_dump, pg_restore, createdb)",
    )
    booked = book(postop_visit(surgeon_a), at(9, 9))
    moved = book(postop_visit(surgeon_a), at(10, 11))
    # Feed tokens are stored hashed: the links are made before the dump and
    # their tokens kept, as a subscriber keeps their URL.
    tokens = [
        links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk).token,
        links.create_link(
            scope="patient", patient_id=moved.procedure.patient_id, by_command=True
        ).token,
        links.create_link(scope="clinic", by_command=True).token,
    ]
    dump = tmp_path / "clinic.dump"
    original_url = database_url(connection.settings_dict["NAME"])

    run("bin/backup", str(dump), env={"DATABASE_URL": original_url})
    run("bin/restore", str(dump), database_url(restored_name))

    before = served(original_url, tmp_path / "a", front_desk.username, tokens)
    after = served(
        database_url(restored_name), tmp_path / "b", front_desk.username, tokens
    )
    assert after["visits"] == before["visits"]
    assert len(after["visits"]) == Visit.objects.count() > 2
    assert {v["id"] for v in after["visits"]} >= {booked.pk, moved.pk}
    assert after["api_status"] == before["api_status"] == 200
    assert after["api_visits"] == before["api_visits"]
    for token in tokens:
        assert before["feeds"][token]["status"] == 200
        assert after["feeds"][token] == before["feeds"][token]
    surgeon_feed = base64.b64decode(after["feeds"][tokens[0]]["body"])
    assert surgeon_feed.count(b"BEGIN:VEVENT") == 2


def test_restore_refuses_an_existing_database(tmp_path: Path) -> None:
    dump = tmp_path / "clinic.dump"
    run(
        "bin/backup",
        str(dump),
        env={"DATABASE_URL": database_url(connection.settings_dict["NAME"])},
    )
    existing = database_url(connection.settings_dict["NAME"])

    completed = subprocess.run(
        ["bin/restore", str(dump), existing],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode != 0
    assert "already exists" in completed.stderr
