"""What the base template needs on every page: who is signed in, their links."""

from __future__ import annotations

from django.http import HttpRequest

from followup.access import staff_of
from web import roles


def signed_in(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    staff = staff_of(user)
    return {
        "role_label": roles.role_label(staff),
        "nav_links": roles.nav_links(staff),
        "display_name": user.get_full_name() or user.get_username(),
    }
