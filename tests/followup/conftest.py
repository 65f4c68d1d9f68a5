"""Fixtures of the follow-up tests: the clinic's hours and the front desk."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.followup.world import WEEKDAYS_9_TO_14


@pytest.fixture(autouse=True)
def _clinic_hours(settings: SettingsWrapper) -> None:
    settings.CLINIC_TIME_ZONE = "Europe/Madrid"
    settings.CLINIC_HOURS = WEEKDAYS_9_TO_14


@pytest.fixture
def desk(front_desk: User) -> User:
    return front_desk
