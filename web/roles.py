"""Which pages each role opens: the guard on a page, its home, its nav links.

Roles come from `followup.access` (`staff_of`, `Role`). A page names every
role that may open it, the clinic admin included where it applies: a page is
a role's home, and an admin has no surgeon's home, so the API's "an admin
holds every role" does not carry over to pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from followup.access import Role, Staff, staff_of

View = Callable[..., HttpResponse]

DESK_ROLES = (Role.FRONT_DESK, Role.ADMIN)
SURGEON_ROLES = (Role.SURGEON,)

ROLE_LABELS = {
    Role.ADMIN: "Clinic admin",
    Role.FRONT_DESK: "Front desk",
    Role.SURGEON: "Surgeon",
}


def role_required(*roles: Role) -> Callable[[View], View]:
    """Anonymous: to /login/?next=...; signed in without any of `roles`: 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not staff_of(request.user).has(*roles):
                raise PermissionDenied("Your role does not open this page.")
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def staff_required(view: View) -> View:
    """Any clinic role: the pages every member of staff shares."""
    return role_required(*Role)(view)


def home_url(staff: Staff) -> str | None:
    """Where `/` sends this person; None for someone with no clinic role."""
    if staff.has(*DESK_ROLES):
        return "/desk/"
    if staff.has(*SURGEON_ROLES):
        return "/surgeon/"
    return None


def role_label(staff: Staff) -> str:
    """The role named in the header; the widest one for several."""
    held = (label for role, label in ROLE_LABELS.items() if role in staff.roles)
    return next(held, "")


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str


def nav_links(staff: Staff) -> list[NavLink]:
    found: list[NavLink] = []
    if staff.has(*DESK_ROLES):
        found.append(NavLink("Worklist", "/desk/"))
        found.append(NavLink("Appointments", "/desk/appointments/"))
        found.append(NavLink("New patient", "/desk/patients/new/"))
        found.append(NavLink("Import", "/desk/import/"))
    if staff.has(*SURGEON_ROLES):
        found.append(NavLink("My reviews", "/surgeon/"))
    if staff.has(*DESK_ROLES, *SURGEON_ROLES):
        found.append(NavLink("Figures", "/reports/"))
    if staff.is_staff:
        found.append(NavLink("Calendar links", "/calendar-links/"))
    if Role.ADMIN in staff.roles:
        found.append(NavLink("API docs", "/api/docs/"))
        found.append(NavLink("Admin", "/admin/"))
        found.append(NavLink("Two-factor", "/account/two-factor/"))
    if staff.is_staff:
        found.append(NavLink("Password", "/account/password/"))
    return found
