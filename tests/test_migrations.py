"""The migrations: the protocol they load, and both ways on SQLite."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clinic.models import Patient
from followup.models import (
    FollowUpRule,
    RecoveryMilestone,
)
from tests.factories import PatientFactory
from tests.followup.test_rules import DEFAULT_RULES

pytestmark = pytest.mark.django_db


def test_the_protocol_rows_match_the_clinic_protocol_of_the_spec() -> None:
    stored = sorted(
        (rule.as_spec() for rule in FollowUpRule.objects.all()), key=lambda r: r.code
    )

    assert stored == sorted(DEFAULT_RULES, key=lambda r: r.code)
    assert set(RecoveryMilestone.objects.values_list("code", flat=True)) == {
        "daily_activity",
        "sports_resumed",
        "intense_effort",
    }


def test_the_migrations_apply_and_reverse_on_sqlite(tmp_path: Path) -> None:
    """The demo's SQLite has no exclusion constraints, yet migrates both ways."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_DEBUG": "true",
        "CLINIC_VAR_DIR": str(tmp_path),
    }
    manage = [sys.executable, str(Path(django_settings.BASE_DIR) / "manage.py")]
    for args in (["migrate"], ["migrate", "followup", "0002"], ["migrate"]):
        done = subprocess.run(
            [*manage, *args, "--noinput", "-v0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def test_the_migrations_remove_drf_plain_text_tokens(tmp_path: Path) -> None:
    """A database from before knox loses DRF's token table and its traces."""
    db_file = tmp_path / "old.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_file}",
        "DJANGO_DEBUG": "true",
        "CLINIC_VAR_DIR": str(tmp_path),
    }
    manage = [sys.executable, str(Path(django_settings.BASE_DIR) / "manage.py")]

    def migrate(*args: str) -> None:
        done = subprocess.run(
            [*manage, "migrate", *args, "--noinput", "-v0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    migrate("followup", "0006")
    with sqlite3.connect(db_file) as old:
        # What rest_framework.authtoken left: its table with a plain key,
        # its content type (and permissions) and its migration records.
        old.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created datetime, user_id integer)"
        )
        old.execute("INSERT INTO authtoken_token VALUES ('plain', '2026-01-01', 1)")
        old.execute(
            "INSERT INTO django_content_type (app_label, model) "
            "VALUES ('authtoken', 'token')"
        )
        old.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('authtoken', '0001_initial', '2026-01-01')"
        )
    migrate()

    with sqlite3.connect(db_file) as new:
        tables = {row[0] for row in new.execute("SELECT name FROM sqlite_master")}
        leftovers = new.execute(
            "SELECT (SELECT count(*) FROM django_content_type "
            "WHERE app_label = 'authtoken'), (SELECT count(*) FROM "
            "django_migrations WHERE app = 'authtoken')"
        ).fetchone()
    assert "authtoken_token" not in tables
    assert "knox_authtoken" in tables
    assert leftovers == (0, 0)


def test_the_migrations_encrypt_stored_caldav_passwords(tmp_path: Path) -> None:
    """A CalDAV password stored in plain text before is encrypted by migrate."""
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    db_file = tmp_path / "old.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_file}",
        "DJANGO_DEBUG": "true",
        "CLINIC_VAR_DIR": str(tmp_path),
        "CALDAV_ENCRYPTION_KEYS": key,
    }
    manage = [sys.executable, str(Path(django_settings.BASE_DIR) / "manage.py")]

    def migrate(*args: str) -> None:
        done = subprocess.run(
            [*manage, "migrate", *args, "--noinput", "-v0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    migrate("feeds", "0007")
    with sqlite3.connect(db_file) as old:
        old.execute(
            "INSERT INTO clinic_surgeon (id, given_name, family_name, active) "
            "VALUES (1, 'Ana', 'Alvarez', 1)"
        )
        old.execute(
            "INSERT INTO feeds_surgeoncalendar (surgeon_id, url, username, "
            "password, enabled) VALUES (1, 'https://cal.example/a/', 'ana', "
            "'plain-pw-1', 1)"
        )
    migrate()

    with sqlite3.connect(db_file) as new:
        (stored,) = new.execute("SELECT password FROM feeds_surgeoncalendar").fetchone()
    assert stored != "plain-pw-1"
    assert Fernet(key.encode()).decrypt(stored.encode()) == b"plain-pw-1"


def _migrate(*targets: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(targets) or executor.loader.graph.leaf_nodes())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_stored_record_numbers_are_put_in_capitals_and_twins_named_first() -> None:
    lower, twin, other = PatientFactory.create_batch(3)
    _migrate(("clinic", "0012_patient_wrong_phone"))
    try:
        # As the code before wrote them: as typed, twins in small letters.
        for patient, number in ((lower, "mrn-7"), (twin, "MRN-7"), (other, "h-1")):
            Patient.objects.filter(pk=patient.pk).update(record_number=number)

        with pytest.raises(
            RuntimeError, match=r"patient when written in capitals: MRN-7\."
        ):
            _migrate()
        Patient.objects.filter(pk=twin.pk).update(record_number="MRN-8")
        _migrate()
    finally:
        Patient.objects.filter(pk=twin.pk).update(record_number="MRN-8")
        _migrate()

    numbers = dict(Patient.objects.values_list("pk", "record_number"))
    assert [numbers[p.pk] for p in (lower, twin, other)] == ["MRN-7", "MRN-8", "H-1"]
