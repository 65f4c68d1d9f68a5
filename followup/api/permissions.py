"""The API's permissions: the roles a view's `roles` names for a method, and
any clinic role at all for the API's own description (schema and docs).

Its own module, imported by DRF's settings, so it must not import DRF's views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

from followup.access import require_role, staff_of

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class RolesRequired(BasePermission):
    """The roles the view's `roles` names for the request's method.

    A clinic admin holds every role (`require_role`); a method the view does
    not list needs only a signed-in user (its own `access_*` call decides).
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        needed = getattr(view, "roles", {}).get(request.method or "")
        if needed is not None:
            require_role(request.user, *needed)
        return True


class AnyClinicRole(BasePermission):
    """Front desk, surgeon or clinic admin (a superuser is one): the schema
    and its docs map every endpoint, so a login stripped of its roles, or
    never given one, does not read them."""

    message = "The API's documentation is for the clinic's staff."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return staff_of(request.user).is_staff
