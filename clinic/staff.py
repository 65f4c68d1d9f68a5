"""The clinic's staff as the service sees them: roles and a linked surgeon.

Roles (SPEC section 1) come from groups: `front_desk`, `surgeon` (with a
linked `Surgeon`) and `clinic_admin` (or a superuser). `staff_of` resolves
a user once per request; QuerySets scope by the resolved `Staff`
(`visible_to(staff)`), and `followup.access` checks actions against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from clinic.models import Surgeon

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    SURGEON = "surgeon"
    ADMIN = "clinic_admin"


@dataclass(frozen=True)
class Staff:
    """A signed-in user as the clinic sees them: roles and linked surgeon."""

    roles: frozenset[Role]
    surgeon_id: int | None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)

    @property
    def sees_everything(self) -> bool:
        return bool(self.roles & {Role.FRONT_DESK, Role.ADMIN})

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))


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
