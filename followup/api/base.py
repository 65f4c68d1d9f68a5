"""What every API view shares: who acts, which roles a method needs, and the
shape of a command.

A view names the roles each HTTP method needs (`roles`);
`followup.api.permissions.RolesRequired`, a default permission of every API
view (config.settings), checks them before the view runs, so a view body
never starts with a role check and schema generation (which never asks
permissions) needs no guard.
Objects are found through the `access_*` functions of `followup.access`,
which scope first (another surgeon's object is a 404) and check the action
second. A command is an input serializer, one typed service call and the
output serializer.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.contrib.auth.models import User
from rest_framework import serializers
from rest_framework.request import Request

from clinic import audit, clock
from clinic.models import PatientReadKind
from followup.access import Role

READERS = (Role.FRONT_DESK, Role.SURGEON)
DESK = (Role.FRONT_DESK,)
# The largest id a bigint column (and SQLite's INTEGER) holds.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An id in the query string: a whole number from 1 to MAX_ID, else 400.

    django-filter's NumberFilter reads a Decimal of any size, which SQLite
    cannot bind (OverflowError: a 500) and which matches no id anyway.
    """

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def actor(request: Request) -> User:
    """The signed-in user making the change, for the history."""
    return cast(User, request.user)


def record_read(
    request: Request, *, kind: PatientReadKind, patient_ids: list[int], count: int
) -> None:
    """One audit record of a read of many rows about patients: who, what was
    asked, how many rows and which patients."""
    audit.record_patient_read(
        reader=actor(request),
        kind=kind,
        query=request.get_full_path(),
        patient_ids=patient_ids,
        count=count,
        now=clock.now(),
    )


def read_input(
    request: Request, serializer: type[serializers.Serializer] | None
) -> dict[str, Any]:
    """A command's input, validated (400 with every field's problem)."""
    if serializer is None:
        return {}
    given = serializer(data=request.data)
    given.is_valid(raise_exception=True)
    return dict(given.validated_data)
