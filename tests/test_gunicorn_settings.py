"""gunicorn's worker timeout is stated, and outlasts the biggest import a
request still runs itself (IMPORT_SYNC_MAX_ROWS)."""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings

from config import gunicorn


def test_the_worker_timeout_is_explicit_and_set_by_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    assert importlib.reload(gunicorn).timeout == 30

    monkeypatch.setenv("GUNICORN_TIMEOUT", "45")
    assert importlib.reload(gunicorn).timeout == 45
    monkeypatch.delenv("GUNICORN_TIMEOUT")
    importlib.reload(gunicorn)


def test_a_synchronous_import_is_sized_to_finish_well_inside_it() -> None:
    # 1-2 s per 1,000 rows measured on PostgreSQL (bench/import_procedures.py).
    assert gunicorn.timeout > settings.IMPORT_SYNC_MAX_ROWS / 1000 * 3
