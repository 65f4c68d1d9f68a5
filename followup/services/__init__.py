"""The only write paths for patients, procedures and their visits.

Every public function is keyword-only, runs in one transaction, and raises a
`followup.exceptions.DomainError` (writing nothing) when its input or the
current state does not allow the change. Every change of a visit writes a
`VisitEvent` (`history`) and tells the calendars (`followup.changes`) in the
same transaction. "Today" and "now" are arguments: the caller owns the clock.

- parsing: reading dates, kinds, datetimes and text, with a clear refusal
- patients: registration and correction
- procedures: registration, correction, cancellation, the annual programme
- plan: a procedure's plan applied to its visits (generation, re-plan)
- history: `record_event`, the one writer of a visit's history
- booking: the visit lifecycle; the moves a visit allows come from the state
  table (`allowed_moves`)
- slots: the free slots proposed for a visit, late ones for an overdue visit
- hours: consultation sessions and the clinic hours
- importing: the CSV import of patients and procedures (writing: the
  transaction, the lock, bulk inserts); import_file reads the CSV and
  import_rows checks its rows
- import_jobs: a big CSV import as a background job
- replanning: every active procedure re-planned after a rule edit: preview,
  then a resumable job
- outreach: contact attempts and their outcomes (the call list's writes)
- mri: MRI studies, which annual reviews need
- republish: visits whose calendar entries say something new (a rule, a
  surgeon or a patient renamed) given a higher SEQUENCE and told to calendars
"""

from followup.services.booking import (
    book_visit,
    cancel_visit,
    check_in_visit,
    complete_visit,
    confirm_visit,
    mark_no_show,
    reopen_visit,
    reschedule_visit,
    unbook_visit,
)
from followup.services.history import record_event
from followup.services.import_jobs import (
    accept_import,
    job_for,
    run_import_job,
    sweep_import_jobs,
)
from followup.services.importing import ImportResult, import_procedures_csv
from followup.services.moves import allowed_moves
from followup.services.mri import record_mri_report, record_mri_study
from followup.services.outreach import record_contact_attempt
from followup.services.parsing import parse_date, parse_kind
from followup.services.patients import Contact, correct_patient, create_patient
from followup.services.plan import PlanResult, bulk_create_visits
from followup.services.procedures import (
    cancel_procedure,
    correct_procedure,
    create_procedure,
    end_annual_reviews,
    extend_annual_horizon,
    generate_visits,
    preview_correction,
    register_patient_with_procedure,
    replan_all,
)
from followup.services.replanning import (
    ReplanPreview,
    preview_replan,
    run_replan_job,
    start_replan,
)
from followup.services.republish import milestone_edited, rule_edited, surgeon_edited
from followup.services.slots import (
    Slot,
    SlotSearch,
    free_slots,
    propose_slots,
    slot_days,
)

__all__ = [
    "Contact",
    "ImportResult",
    "PlanResult",
    "ReplanPreview",
    "Slot",
    "SlotSearch",
    "accept_import",
    "allowed_moves",
    "book_visit",
    "bulk_create_visits",
    "cancel_procedure",
    "cancel_visit",
    "check_in_visit",
    "complete_visit",
    "confirm_visit",
    "correct_patient",
    "correct_procedure",
    "create_patient",
    "create_procedure",
    "end_annual_reviews",
    "extend_annual_horizon",
    "free_slots",
    "generate_visits",
    "import_procedures_csv",
    "job_for",
    "mark_no_show",
    "milestone_edited",
    "parse_date",
    "parse_kind",
    "preview_correction",
    "preview_replan",
    "propose_slots",
    "record_contact_attempt",
    "record_event",
    "record_mri_report",
    "record_mri_study",
    "register_patient_with_procedure",
    "reopen_visit",
    "replan_all",
    "reschedule_visit",
    "rule_edited",
    "run_import_job",
    "run_replan_job",
    "slot_days",
    "start_replan",
    "surgeon_edited",
    "sweep_import_jobs",
    "unbook_visit",
]
