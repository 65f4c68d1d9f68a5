"""Staff roles and the resolved `Staff` a request carries: plain values,
with no database access, so the QuerySets can scope by them
(`visible_to(staff)`) without importing how they are read
(`clinic.staff.staff_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
