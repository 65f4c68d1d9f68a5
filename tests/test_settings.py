"""Settings read from the environment fail loudly, naming the variable."""

from __future__ import annotations

import datetime as dt

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
