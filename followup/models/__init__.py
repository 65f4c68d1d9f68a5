"""The follow-up app's models, one module a subject; import them from here.

- protocol: FollowUpRule, RecoveryMilestone (the clinic's protocol as data)
- visits: Visit (the model and its facts), VisitQuerySet; visit_queries: its
  reads; statuses: a visit's statuses and cancel reasons
- events: VisitEvent (a visit's history); authorship: the name a history row keeps
- sessions: ConsultationSession
- outreach: ContactAttempt (the call list)
- mri: MriStudy (MRI readiness of annual reviews)
- jobs: ReplanJob, ImportJob (a big CSV import)
"""

from followup.models.events import PATIENT_REQUEST, VisitEvent
from followup.models.jobs import (
    ImportJob,
    ImportJobState,
    ReplanJob,
    ReplanJobStatus,
)
from followup.models.mri import MRI_FLAG_DAYS, MriStatus, MriStudy
from followup.models.outreach import (
    CALL_LIST_DAYS,
    UNSUCCESSFUL_OUTCOMES,
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
)
from followup.models.protocol import (
    MAX_DURATION_MINUTES,
    MAX_OFFSET,
    MAX_WINDOW_DAYS,
    AppliesTo,
    FollowUpRule,
    FollowUpRuleQuerySet,
    OffsetUnit,
    RecoveryMilestone,
    RecoveryMilestoneQuerySet,
    check_offset,
)
from followup.models.sessions import ConsultationSession, Weekday
from followup.models.statuses import (
    AWAITING_BOOKING_STATUSES,
    FHIR_STATUS,
    NOT_YET_SEEN_STATUSES,
    OPEN_STATUSES,
    SLOT_HOLDING_STATUSES,
    CancelReason,
    VisitStatus,
)
from followup.models.visits import Visit, VisitQuerySet, plan_input

__all__ = [
    "AWAITING_BOOKING_STATUSES",
    "CALL_LIST_DAYS",
    "FHIR_STATUS",
    "MAX_DURATION_MINUTES",
    "MAX_OFFSET",
    "MAX_WINDOW_DAYS",
    "MRI_FLAG_DAYS",
    "NOT_YET_SEEN_STATUSES",
    "OPEN_STATUSES",
    "PATIENT_REQUEST",
    "SLOT_HOLDING_STATUSES",
    "UNSUCCESSFUL_OUTCOMES",
    "AppliesTo",
    "CancelReason",
    "ConsultationSession",
    "ContactAttempt",
    "ContactChannel",
    "ContactOutcome",
    "FollowUpRule",
    "FollowUpRuleQuerySet",
    "ImportJob",
    "ImportJobState",
    "MriStatus",
    "MriStudy",
    "OffsetUnit",
    "RecoveryMilestone",
    "RecoveryMilestoneQuerySet",
    "ReplanJob",
    "ReplanJobStatus",
    "Visit",
    "VisitEvent",
    "VisitQuerySet",
    "VisitStatus",
    "Weekday",
    "check_offset",
    "plan_input",
]
