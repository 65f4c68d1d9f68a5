"""Reads a user's roles: from groups `front_desk`, `surgeon` (with a
linked `Surgeon`) and `clinic_admin` (or a superuser), once per request.
QuerySets scope by the resolved `clinic.roles.Staff` (`visible_to(staff)`),
and `followup.access` checks actions against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic.models import Surgeon
from clinic.roles import Role, Staff

__all__ = ["Role", "Staff", "staff_of"]

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


_NOBODY = Staff(roles=frozenset(), surgeon_id=None)
_CACHE_ATTR = "_clinic_staff"


def staff_of(user: AnyUser | None) -> Staff:
    """The user's roles, read once per user object (so once per request)."""
    if user is None or not user.is_authenticated:
        return _NOBODY
    cached: Staff | None = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    roles = {role for role in Role if role.value in names}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    surgeon_id = None
    if Role.SURGEON in names:
        surgeon_id = (
            Surgeon.objects.filter(user=user).values_list("pk", flat=True).first()
        )
        if surgeon_id is None:
            # A surgeon login with no Surgeon record has no patients to see.
            roles.discard(Role.SURGEON)
    staff = Staff(roles=frozenset(roles), surgeon_id=surgeon_id)
    setattr(user, _CACHE_ATTR, staff)
    return staff
