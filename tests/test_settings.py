"""Settings read from the environment fail loudly, naming the variable."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import env as config_settings
from core.env import env_weekly_hours

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("helper", "name", "raw", "message"),
    [
        (config_settings.env_bool, "X_FLAG", "perhaps", "is not a boolean"),
        (config_settings.env_int, "X_YEARS", "two", "is not an integer"),
        (config_settings.env_time_zone, "X_TZ", "Europe/Atlantis", "is not a known"),
        (config_settings.env_phone_region, "X_REGION", "ZZ", "is not a region"),
    ],
)
def test_settings_helpers_fail_loudly_on_a_bad_value(
    monkeypatch: pytest.MonkeyPatch, helper, name: str, raw: str, message: str
) -> None:
    monkeypatch.setenv(name, raw)

    with pytest.raises(ImproperlyConfigured, match=f"{name}={raw!r} {message}"):
        helper(name, "x" if helper is not config_settings.env_int else 1)


def test_the_clinic_hours_setting_is_read_and_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("X_HOURS", "mon,wed-thu 09:00-14:00, slot 15; tue 16:00-19:00")

    assert env_weekly_hours("X_HOURS", "") == [
        (0, dt.time(9), dt.time(14), 15),
        (2, dt.time(9), dt.time(14), 15),
        (3, dt.time(9), dt.time(14), 15),
        (1, dt.time(16), dt.time(19), 10),
    ]
    for raw, message in [
        ("mon-fri 9:00-14:00", "is not like 'mon-fri 09:00-14:00, slot 10'"),
        ("monday 09:00-14:00", "'monday' is not a day"),
        ("fri-mon 09:00-14:00", "runs backwards"),
        ("mon 14:00-09:00", "must end after it starts"),
        ("mon 09:00-14:00, slot 0", "with a slot above 0"),
        ("mon 24:00-25:00", "has an invalid time"),
        ("", "gives no clinic hours"),
    ]:
        monkeypatch.setenv("X_HOURS", raw)
        with pytest.raises(ImproperlyConfigured, match=message):
            env_weekly_hours("X_HOURS", "")


def test_anymail_settings_are_gathered_from_their_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("X_ANYMAIL_POSTMARK_SERVER_TOKEN", "a-token")
    monkeypatch.setenv("X_ANYMAIL_IGNORE_RECIPIENT_STATUS", "False")
    monkeypatch.setenv("X_ANYMAIL_", "a variable with no key")

    assert config_settings.env_prefixed("X_ANYMAIL_") == {
        "IGNORE_RECIPIENT_STATUS": False,
        "POSTMARK_SERVER_TOKEN": "a-token",
    }


def test_an_email_service_whose_backend_cannot_be_imported_fails_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = "anymail.backends.postmark.EmailBackend"
    monkeypatch.setenv("X_EMAIL", backend)
    assert config_settings.env_email_backend("X_EMAIL", "") == backend

    for raw, message in [
        ("anymail.backends.postmak.EmailBackend", "No module named"),
        # Amazon SES needs boto3, which the clinic does not install.
        ("anymail.backends.amazon_ses.EmailBackend", "The boto3 package isn't"),
    ]:
        monkeypatch.setenv("X_EMAIL", raw)
        with pytest.raises(
            ImproperlyConfigured, match=f"X_EMAIL={raw!r} cannot be used: {message}"
        ):
            config_settings.env_email_backend("X_EMAIL", "")


def test_the_clinic_reads_its_email_service_from_the_environment() -> None:
    show = "from django.conf import settings; print(repr(settings.ANYMAIL))"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANYMAIL_")}
    environ.update(
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        ANYMAIL_POSTMARK_SERVER_TOKEN="a-token",
        EMAIL_TIMEOUT="7",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=Path(__file__).resolve().parent.parent,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    # The service's API is given up on after EMAIL_TIMEOUT, as SMTP is.
    assert result.stdout.splitlines()[-1] == (
        "{'POSTMARK_SERVER_TOKEN': 'a-token', 'REQUESTS_TIMEOUT': 7}"
    )
