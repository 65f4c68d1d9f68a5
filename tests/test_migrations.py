"""The migrations: the protocol they load, and both ways on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from followup.models import (
    FollowUpRule,
    RecoveryMilestone,
)
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
