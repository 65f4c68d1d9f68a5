"""Who may see and change what: one `access_*` function per object kind.

Roles (SPEC section 1) are resolved by `clinic.staff.staff_of`. A clinic
admin may do whatever the front desk may. A surgeon sees only their own patients: the
procedures they operated and the visits of those.

Lookups scope first and check the action second, so another surgeon's object
is a 404 (its existence is never confirmed) and only an object one can see
can give a 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Model

from clinic.models import Patient, Procedure
from clinic.staff import Role, Staff, staff_of
from followup.exceptions import DomainError, NotFound
from followup.models import Visit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


__all__ = [
    "Forbidden",
    "Role",
    "Staff",
    "access_patient",
    "access_procedure",
    "access_visit",
    "require_role",
    "staff_of",
]


class Forbidden(DomainError):
    status = 403
    default_code = "permission_denied"


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
    patient: Patient = _get(
        Patient.objects.visible_to(staff_of(user)), patient_id, "Patient"
    )
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
    procedure: Procedure = _get(
        base.visible_to(staff_of(user)), procedure_id, "Procedure"
    )
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
    "contact": (Role.FRONT_DESK,),
    # Undoing a cancellation is a clinic admin's call alone.
    "reopen": (Role.ADMIN,),
}


def access_visit(
    user: AnyUser | None, visit_id: int, *, action: str, queryset: Any = None
) -> Visit:
    base = queryset if queryset is not None else Visit.objects.all()
    visit: Visit = _get(base.visible_to(staff_of(user)), visit_id, "Visit")
    require_role(user, *VISIT_ACTIONS[action])
    return visit
