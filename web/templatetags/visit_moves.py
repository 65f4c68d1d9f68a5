"""The moves a visit allows now, for a page that shows a visit outside a
list (the patient's timeline): `moves.allowed_moves` on the clinic's
clock, and the query that opens the visit's own page and comes back."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django import template

from clinic import clock
from followup.models import Visit
from followup.services.moves import allowed_moves

register = template.Library()


@dataclass(frozen=True)
class VisitMoves:
    moves: frozenset[str]
    # The visit page's state, coming back to the patient's page.
    back: str

    @property
    def may_place(self) -> bool:
        return bool({"book", "reschedule"} & self.moves)

    @property
    def may_change(self) -> bool:
        return bool({"unbook", "cancel"} & self.moves)


@register.simple_tag
def visit_moves(visit: Visit, patient_id: int) -> VisitMoves:
    back = urlencode({"place": "visit", "visit": visit.pk, "patient": patient_id})
    return VisitMoves(moves=allowed_moves(visit, clock.now()), back=back)
