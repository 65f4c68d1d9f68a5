"""The only write paths for patients, procedures and their visits.

Every public function is keyword-only, runs in one transaction, and raises a
`followup.exceptions.DomainError` (writing nothing) when its input or the
current state does not allow the change. Every change of a visit writes a
`VisitEvent` and tells the calendars (`followup.changes`) in the same
transaction. "Today" and "now" are arguments: the caller owns the clock.

- planning: patients, procedures, generation and re-planning
- booking: the visit lifecycle under the booking controls (SPEC section 3)
- importing: the CSV import of patients and procedures
"""

from followup.services.booking import (
    Slot,
    SlotSearch,
    book_visit,
    cancel_visit,
    check_in_visit,
    complete_visit,
    free_slots,
    mark_no_show,
    propose_slots,
    reschedule_visit,
    unbook_visit,
)
from followup.services.importing import ImportResult, import_procedures_csv
from followup.services.planning import (
    PlanResult,
    bulk_create_visits,
    cancel_procedure,
    correct_patient,
    correct_procedure,
    create_patient,
    create_procedure,
    end_annual_reviews,
    extend_annual_horizon,
    generate_visits,
    parse_date,
    parse_kind,
    record_event,
    replan_all,
)

__all__ = [
    "ImportResult",
    "PlanResult",
    "Slot",
    "SlotSearch",
    "book_visit",
    "bulk_create_visits",
    "cancel_procedure",
    "cancel_visit",
    "check_in_visit",
    "complete_visit",
    "correct_patient",
    "correct_procedure",
    "create_patient",
    "create_procedure",
    "end_annual_reviews",
    "extend_annual_horizon",
    "free_slots",
    "generate_visits",
    "import_procedures_csv",
    "mark_no_show",
    "parse_date",
    "parse_kind",
    "propose_slots",
    "record_event",
    "replan_all",
    "reschedule_visit",
    "unbook_visit",
]
