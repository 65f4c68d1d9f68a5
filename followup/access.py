"""Who may see and change what: one `access_*` function per object kind.

Roles (SPEC section 1) come from groups: `front_desk`, `surgeon` (with a
linked `Surgeon`) and `clinic_admin` (or a superuser). A clinic admin may do
whatever the front desk may. A surgeon sees only their own patients: the
procedures they operated and the visits of those.

Lookups scope first and check the action second, so another surgeon's object
is a 404 (its existence is never confirmed) and only an object one can see
can give a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Model

from clinic.models import Patient, Procedure, Surgeon
from followup.exceptions import DomainError, NotFound
from followup.models import Visit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


class Forbidden(DomainError):
    status = 403
    default_code = "permission_denied"


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


def require_role(user: AnyUser | None, *roles: Role) -> Staff:
    """Refuse (403) a user who holds none of `roles`; admins hold every role."""
    staff = staff_of(user)
    if not (staff.has(*roles) or Role.ADMIN in staff.roles):
        raise Forbidden(
            "Your role does not allow this action.", code="permission_denied"
        )
    return staff


def _get(queryset: Any, pk: int, label: str) -> Any:
    obj: Model | None = queryset.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{label} {pk} does not exist.", code="not_found")
    return obj


# --- patients ---------------------------------------------------------------


def access_patient(user: AnyUser | None, patient_id: int, *, write: bool) -> Patient:
    patient: Patient = _get(Patient.objects.visible_to(user), patient_id, "Patient")
    if write:
        require_role(user, Role.FRONT_DESK)
    return patient


# --- procedures -------------------------------------------------------------

# What each procedure action needs, beyond seeing the procedure.
PROCEDURE_ACTIONS: dict[str, tuple[Role, ...]] = {
    "read": (Role.FRONT_DESK, Role.SURGEON),
    "correct": (Role.FRONT_DESK,),
    "cancel": (Role.FRONT_DESK,),
    # The procedure's own surgeon: checked below, since someone who is also
    # at the front desk sees other surgeons' procedures too.
    "end_annual_reviews": (Role.SURGEON,),
}


def access_procedure(
    user: AnyUser | None, procedure_id: int, *, action: str, queryset: Any = None
) -> Procedure:
    base = queryset if queryset is not None else Procedure.objects.all()
    procedure: Procedure = _get(base.visible_to(user), procedure_id, "Procedure")
    staff = require_role(user, *PROCEDURE_ACTIONS[action])
    if (
        action == "end_annual_reviews"
        and Role.ADMIN not in staff.roles
        and staff.surgeon_id != procedure.surgeon_id
    ):
        raise Forbidden(
            "Only the patient's surgeon or a clinic admin can end the programme.",
            code="permission_denied",
        )
    return procedure


# --- visits -----------------------------------------------------------------

VISIT_ACTIONS: dict[str, tuple[Role, ...]] = {
    "read": (Role.FRONT_DESK, Role.SURGEON),
    "slots": (Role.FRONT_DESK,),
    "book": (Role.FRONT_DESK,),
    "reschedule": (Role.FRONT_DESK,),
    "unbook": (Role.FRONT_DESK,),
    "cancel": (Role.FRONT_DESK,),
    "check_in": (Role.FRONT_DESK,),
    "no_show": (Role.FRONT_DESK,),
    "complete": (Role.FRONT_DESK, Role.SURGEON),
}


def access_visit(
    user: AnyUser | None, visit_id: int, *, action: str, queryset: Any = None
) -> Visit:
    base = queryset if queryset is not None else Visit.objects.all()
    visit: Visit = _get(base.visible_to(user), visit_id, "Visit")
    require_role(user, *VISIT_ACTIONS[action])
    return visit


# --- surgeons ---------------------------------------------------------------


def access_surgeons(user: AnyUser | None) -> None:
    """Every member of staff may list the surgeons (to book, to filter)."""
    require_role(user, Role.FRONT_DESK, Role.SURGEON)
