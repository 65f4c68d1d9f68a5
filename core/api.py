"""The API's shared plumbing: its clock, its error shape, its error handler.

Every error the API answers is `{"detail": "...", "code": "..."}`, plus
`"errors"` (a list of objects: a field or CSV line and its message) when the
problem lies in named parts of the input. Domain errors keep their status
(400 / 403 / 404 / 409); DRF's own errors (validation, authentication,
404, throttling with `Retry-After`) and Django's `Http404` and
`PermissionDenied` get the same shape. A database integrity error that
escaped a service is a conflict (409), logged, never a 500. A database too
busy to answer (SQLite's write lock held past its timeout by a long import,
a PostgreSQL lock or deadlock) is a 503 with `Retry-After`, on the API and
on every page (`server_error`).
"""

from __future__ import annotations

import logging
import math
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.db import is_connection_lost, is_database_busy
from core.digits import ascii_number
from core.errors import DomainError

logger = logging.getLogger(__name__)


# Seconds a client is asked to wait when the database is busy.
DATABASE_BUSY_RETRY_AFTER = 10
_BUSY_DETAIL = (
    "The database is busy (a long import, usually); nothing was changed. "
    "Try again in a few seconds."
)
_LOST_DETAIL = (
    "The connection to the database was lost; the change may or may not "
    "have been saved. Reload, then try again in a few seconds."
)


def _busy_detail(exc: BaseException | None) -> str:
    return _LOST_DETAIL if is_connection_lost(exc) else _BUSY_DETAIL


class Pagination(PageNumberPagination):
    """Pages of 50 by default; `page_size` up to 500 for integrators."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Any) -> int:
        # DRF quietly falls back to the default on a bad value; a client that
        # asked for something it does not get should hear so.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = ascii_number(raw, max_digits=len(str(self.max_page_size)))
        if size is None or not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: (
                        f"A whole number from 1 to {self.max_page_size}."
                    )
                }
            )
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    minimum=1, maximum=self.max_page_size, default=self.page_size
                )
        return parameters


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    """DRF's nested validation detail as a flat list of field errors."""
    if isinstance(detail, dict):
        items: list[dict[str, Any]] = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            items.extend(_flatten(value, name))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                items.extend(_flatten(value, f"{prefix}[{index}]"))
            else:
                items.extend(_flatten(value, prefix))
        return items
    code = getattr(detail, "code", None) or "invalid"
    return [{"field": prefix or "non_field_errors", "error": str(detail), "code": code}]


def _body(detail: str, code: str, errors: list[dict[str, Any]] | None = None) -> dict:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if errors:
        body["errors"] = errors
    return body


def _validation_response(exc: exceptions.ValidationError) -> Response:
    errors = _flatten(exc.detail)
    if errors:
        first = errors[0]
        field = first["field"]
        prefix = "" if field == "non_field_errors" else f"{field}: "
        detail = f"{prefix}{first['error']}"
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
    else:
        detail = "The request is not valid."
    return Response(_body(detail, "invalid", errors), status=400)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The one handler for every API view (REST_FRAMEWORK EXCEPTION_HANDLER)."""
    if isinstance(exc, DomainError):
        set_rollback()
        body = _body(exc.message, exc.code, exc.errors)
        if exc.error_count is not None:
            body["error_count"] = exc.error_count
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, IntegrityError):
        # A constraint caught what a service check missed (a race, usually).
        logger.warning("Integrity error reached the API: %s", exc, exc_info=True)
        set_rollback()
        return Response(
            _body(
                "The change conflicts with the current data; reload and try again.",
                "conflict",
            ),
            status=status.HTTP_409_CONFLICT,
        )
    elif is_database_busy(exc):
        logger.warning("Database busy: %s", exc)
        set_rollback()
        return Response(
            _body(_busy_detail(exc), "database_busy"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_BUSY_RETRY_AFTER)},
        )
    elif isinstance(exc, DataError):
        logger.warning("Data error reached the API: %s", exc, exc_info=True)
        set_rollback()
        return Response(
            _body("A value in the request is out of range.", "invalid"), status=400
        )
    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        return _validation_response(exc)
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let it surface as a 500 and be reported
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        headers["Retry-After"] = str(math.ceil(wait))
    detail = exc.detail
    if isinstance(detail, dict | list):
        errors = _flatten(detail)
        text = errors[0]["error"] if errors else str(exc.default_detail)
        code = str(exc.default_code)
    else:
        errors = []
        text = str(detail)
        code = str(getattr(detail, "code", None) or exc.default_code)
    set_rollback()
    return Response(_body(text, code, errors), status=exc.status_code, headers=headers)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 (no URL matched): the API's error shape under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse(_body("Not found.", "not_found"), status=404)
    return defaults.page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler: a busy database is a 503 with `Retry-After`.

    Reached by any exception outside the API's own handler: a page, a
    middleware reading the session. Django calls it inside its `except`
    block, so the exception is at hand.
    """
    exc = sys.exc_info()[1]
    if not is_database_busy(exc):
        return defaults.server_error(request)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(_body(_busy_detail(exc), "database_busy"), status=503)
    else:
        response = HttpResponse(
            _busy_detail(exc), status=503, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(DATABASE_BUSY_RETRY_AFTER)
    return response


# --- the error shape in the schema -------------------------------------------


class ItemErrorSerializer(serializers.Serializer):
    """One named part of the input that is wrong: a field, or a CSV line."""

    field = serializers.CharField(required=False)
    line = serializers.IntegerField(required=False)
    error = serializers.CharField()
    code = serializers.CharField(required=False)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(help_text="A stable machine-readable code.")
    # Shadows Serializer.errors for the schema only; never validated.
    errors = ItemErrorSerializer(many=True, required=False)  # type: ignore[assignment]
    error_count = serializers.IntegerField(
        required=False,
        help_text="How many problems there were, when `errors` lists the first.",
    )


# What each error status means, in the schema.
ERROR_TEXT = {
    400: "Invalid input",
    401: "Not authenticated",
    403: "Not signed in, or the role does not allow it",
    404: "Not found (or not visible to this user)",
    409: "The current state does not allow it",
    429: "Too many requests; see Retry-After",
    503: "The database is busy or unreachable; retry after Retry-After seconds",
}
# Any operation can refuse a caller, throttle one, or meet a busy database.
ANY_OPERATION = (403, 429, 503)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the errors an endpoint can answer."""
    codes = sorted({*statuses, *ANY_OPERATION})
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_TEXT[code])
        for code in codes
    }


def document_common_errors(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Schema post-processing: the errors any operation can answer, documented
    where its view did not say so.

    Every operation can refuse a caller (403), throttle one (429) or meet a
    busy database (503); one with an id in its path, or a page to ask for,
    can answer 404; one that takes a body or query parameters can answer 400.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    if "Error" not in components:
        return result
    ref = {"$ref": "#/components/schemas/Error"}
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            params = operation.get("parameters", [])
            wanted = set(ANY_OPERATION)
            if any(p.get("in") == "path" for p in params) or any(
                p.get("name") == "page" for p in params
            ):
                wanted.add(404)
            if "requestBody" in operation or any(
                p.get("in") == "query" for p in params
            ):
                wanted.add(400)
            responses = operation["responses"]
            for code in sorted(wanted):
                responses.setdefault(
                    str(code),
                    {
                        "content": {"application/json": {"schema": ref}},
                        "description": ERROR_TEXT[code],
                    },
                )
    return result
