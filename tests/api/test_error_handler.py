"""The one exception handler: every error in `{"detail", "code"}`."""

from __future__ import annotations

import psycopg
import pytest
from django.core.exceptions import PermissionDenied
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions

from core.api import exception_handler
from followup.exceptions import Conflict, InvalidInput, NotFound


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidInput("Bad date.", code="invalid_date"), 400, "invalid_date"),
        (NotFound("Visit 9 does not exist."), 404, "not_found"),
        (Conflict("Visit 9 is completed."), 409, "conflict"),
        (Http404("gone"), 404, "not_found"),
        (PermissionDenied(), 403, "permission_denied"),
        (IntegrityError("duplicate key"), 409, "conflict"),
        (DataError("value out of range"), 400, "invalid"),
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.ParseError(), 400, "parse_error"),
        (exceptions.Throttled(wait=12.2), 429, "throttled"),
        (exceptions.ValidationError({"start": ["Required."]}), 400, "invalid"),
    ],
)
def test_each_error_kind_gets_its_status_and_code(
    error: Exception, status: int, code: str
) -> None:
    response = exception_handler(error, {})

    assert response is not None
    assert response.status_code == status
    assert response.data["code"] == code
    assert response.data["detail"]


def test_item_errors_travel_beside_the_detail() -> None:
    error = InvalidInput(
        "2 of 9 rows are invalid.",
        code="import_rejected",
        errors=[{"line": 3, "error": "Bad date."}, {"line": 7, "error": "No kind."}],
    )

    response = exception_handler(error, {})

    assert response is not None
    assert response.data["errors"] == [
        {"line": 3, "error": "Bad date."},
        {"line": 7, "error": "No kind."},
    ]


def test_a_throttled_answer_says_when_to_retry() -> None:
    response = exception_handler(exceptions.Throttled(wait=12.2), {})

    assert response is not None
    assert response["Retry-After"] == "13"


def test_validation_errors_name_the_field_in_the_detail() -> None:
    error = exceptions.ValidationError({"start": ["Give the UTC offset."]})

    response = exception_handler(error, {})

    assert response is not None
    assert response.data["detail"] == "start: Give the UTC offset."
    assert response.data["errors"] == [
        {"field": "start", "error": "Give the UTC offset.", "code": "invalid"}
    ]


def test_a_programming_error_is_left_to_surface_as_a_500() -> None:
    assert exception_handler(KeyError("bug"), {}) is None


def _django_error(cls: type[Exception], cause: Exception) -> Exception:
    """As Django's DatabaseErrorWrapper raises it: the driver's error as cause."""
    error = cls(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.errors.AdminShutdown(
            "terminating connection due to administrator command"
        ),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.OperationalError("connection failed: Connection refused"),
        psycopg.OperationalError(
            "consuming input failed: server closed the connection"
        ),
    ],
)
def test_a_lost_database_connection_is_a_503_to_retry(cause: Exception) -> None:
    response = exception_handler(_django_error(OperationalError, cause), {})

    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.data["code"] == "database_busy"
    assert "connection to the database was lost" in response.data["detail"]


def test_a_connection_django_knows_is_closed_is_a_503_too() -> None:
    error = _django_error(
        InterfaceError, psycopg.InterfaceError("connection already closed")
    )

    response = exception_handler(error, {})

    assert response is not None
    assert response.status_code == 503


def test_other_postgresql_operational_errors_still_surface_as_500s() -> None:
    cause = psycopg.errors.DiskFull("could not extend file")

    assert exception_handler(_django_error(OperationalError, cause), {}) is None
