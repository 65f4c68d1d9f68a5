"""On SQLite (the demo's database) no request is a 500: integers past 64 bits
in filters are a 400 (the pages leave them out or refuse them), and a
database locked by a long import is a 503 with Retry-After. The requests
run in a process of their own against a throwaway SQLite file
(tests/sqlite_scenarios.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings as django_settings

from tests.sqlite_scenarios import HUGE


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("sqlite")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'clinic.sqlite3'}",
        "DJANGO_DEBUG": "false",
        "CLINIC_VAR_DIR": str(tmp),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.sqlite_scenarios"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "url",
    [
        f"/api/visits/?patient={HUGE}",
        f"/api/visits/?surgeon={HUGE}",
        f"/api/procedures/?patient={HUGE}",
        f"/api/procedures/?surgeon={HUGE}",
        f"/api/reviews/overdue/?surgeon={HUGE}",
    ],
)
def test_an_integer_past_64_bits_in_a_filter_is_a_400(
    answers: dict[str, Any], url: str
) -> None:
    assert answers[url] == {"status": 400, "code": "invalid", "retry_after": None}


def test_an_id_past_64_bits_in_a_path_is_a_404(answers: dict[str, Any]) -> None:
    assert answers[f"/api/visits/{HUGE}/"]["status"] == 404


@pytest.mark.parametrize(
    "url",
    [
        f"/desk/?surgeon={HUGE}",
        f"/desk/?rule={HUGE}&page={HUGE}",
        f"/desk/?open={HUGE}&panel=slots&slots_surgeon={HUGE}",
        f"/reports/?surgeon={HUGE}",
    ],
)
def test_an_integer_past_64_bits_in_a_pages_query_is_never_a_500(
    answers: dict[str, Any], url: str
) -> None:
    # The desk leaves it out and says so; the reports form refuses it (400).
    assert answers[url]["status"] in (200, 400)


def test_an_id_past_64_bits_in_a_pages_path_is_not_found(
    answers: dict[str, Any],
) -> None:
    assert answers[f"/desk/patients/{HUGE}/"]["status"] == 404
    # A visit's own page.
    assert answers[f"/desk/visits/{HUGE}/"]["status"] == 404


@pytest.mark.parametrize(
    "request_name",
    [
        "locked GET /api/visits/",
        "locked POST /api/patients/",
        "locked GET /api/schema/",
    ],
)
def test_a_locked_database_is_a_503_with_retry_after_on_the_api(
    answers: dict[str, Any], request_name: str
) -> None:
    assert answers[request_name] == {
        "status": 503,
        "code": "database_busy",
        "retry_after": "10",
    }


def test_a_locked_database_is_a_503_with_retry_after_on_a_page(
    answers: dict[str, Any],
) -> None:
    assert answers["locked GET /desk/"] == {
        "status": 503,
        "code": None,
        "retry_after": "10",
    }


def test_requests_succeed_again_once_the_lock_is_released(
    answers: dict[str, Any],
) -> None:
    assert answers["released GET /api/visits/"]["status"] == 200
    # The refused POST changed nothing: the same patient registers now.
    assert answers["released POST /api/patients/"]["status"] == 201


def test_the_filters_bound_ids_on_postgresql_too(client_for: Any, world: Any) -> None:
    response = client_for("front_desk").get(f"/api/visits/?patient={HUGE}")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "patient",
            "error": "Ensure this value is less than or equal to 9223372036854775807.",
            "code": "max_value",
        }
    ]
