"""Re-planning every active procedure after a rule edit: preview, then apply.

A clinic admin who edits a follow-up rule first sees what re-planning would
do (`preview_replan`: counts per action, the patients affected), writing
nothing. Applying (`start_replan`) records a `ReplanJob` and hands it to a
Celery task (`run_replan_job`), which works through the procedures in id
order, each in its own transaction, and records its progress: a worker that
dies resumes where it stopped, no procedure is left half re-planned, and
re-running the job after it finished changes nothing. The preview carries
a digest of the rules it used (`rules_digest`): an apply sent from a preview
of other rules (a rule edited since the page was shown) is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone

from clinic.models import Procedure
from core import queue
from followup.exceptions import Conflict
from followup.models import FollowUpRule, ReplanJob, ReplanJobStatus, Visit
from followup.services.plan import VisitChange, active_rules, preview, replan

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CHUNK = 200
SHOWN = 100  # affected patients listed on the page; the CSV has them all


@dataclass(frozen=True)
class Affected:
    procedure_id: int
    patient_id: int
    patient: str  # the patient's label
    actions: tuple[str, ...]  # what happens to their visits, e.g. ("moved",)
    # Each visit's change with its old and new dates: for the first `SHOWN`
    # patients only (those the page lists).
    changes: tuple[VisitChange, ...] = ()


@dataclass
class ReplanPreview:
    procedures: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    affected: list[Affected] = field(default_factory=list)
    rules: str = ""  # `rules_digest()` of the rules it applied

    @property
    def shown(self) -> list[Affected]:
        return self.affected[:SHOWN]


def _active_procedures() -> Iterator[list[Procedure]]:
    """Active procedures with their patient and visits, a chunk at a time."""
    ids = list(Procedure.objects.active().order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        yield list(
            Procedure.objects.filter(pk__in=ids[start : start + CHUNK])
            .select_related("patient")
            .prefetch_related(
                Prefetch("visits", queryset=Visit.objects.select_related("rule"))
            )
            .order_by("pk")
        )


# What a rule plans with: an edit of any of these changes what a re-plan does.
PLANNED_BY = (
    "code",
    "applies_to",
    "offset_amount",
    "offset_unit",
    "window_days_before",
    "window_days_after",
    "duration_minutes",
    "requires_mri",
    "recurring",
)

STALE_PREVIEW = (
    "The follow-up rules changed since this preview was shown, so it no "
    "longer says what re-planning would do. Nothing was re-planned: check "
    "the preview of the current rules below and apply again."
)
UNSEEN_PREVIEW = (
    "This Apply did not say which preview it applies, so it could re-plan "
    "with rules you have not seen. Nothing was re-planned: check the preview "
    "of the current rules below and apply again."
)


def rules_digest(rules: dict[str, FollowUpRule]) -> str:
    """A short digest of the active rules, as a re-plan uses them."""
    rows = sorted(
        repr(tuple(getattr(rule, name) for name in PLANNED_BY))
        for rule in rules.values()
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


def preview_replan(*, today: dt.date) -> ReplanPreview:
    """What re-planning every active procedure with the current rules would
    do, writing nothing. A few queries per chunk of procedures."""
    rows = active_rules()
    answer = ReplanPreview(rules=rules_digest(rows))
    for chunk in _active_procedures():
        for procedure in chunk:
            answer.procedures += 1
            changes = [
                c
                for c in preview(
                    procedure, today=today, rule_rows=rows, prefetched=True
                )
                if c.action != "unchanged"
            ]
            answer.counts.update(c.action for c in changes)
            if changes:
                answer.affected.append(
                    Affected(
                        procedure_id=procedure.pk,
                        patient_id=procedure.patient_id,
                        patient=procedure.patient.label(),
                        actions=tuple(sorted({c.action for c in changes})),
                        changes=(
                            tuple(changes) if len(answer.affected) < SHOWN else ()
                        ),
                    )
                )
    return answer


@transaction.atomic
def start_replan(
    *, actor: User | None, today: dt.date, rules_seen: str | None = None
) -> ReplanJob:
    """Record a re-plan of every active procedure; a worker runs it after
    the commit. `rules_seen`, the digest of the preview applied, must still
    be the rules' (None: no preview to compare; empty, an Apply that did not
    say which preview: refused)."""
    if rules_seen == "":
        raise Conflict(UNSEEN_PREVIEW, code="unseen_preview")
    if rules_seen is not None and rules_seen != rules_digest(active_rules()):
        raise Conflict(STALE_PREVIEW, code="stale_preview")
    task = queue.task("followup.tasks.run_replan_job")

    job = ReplanJob.objects.create(
        created_by=actor, today=today, total=Procedure.objects.active().count()
    )
    # celery-types predates Celery 5.4's delay_on_commit.
    task.delay_on_commit(job.pk)  # type: ignore[attr-defined]
    return job


def run_replan_job(*, job_id: int, now: dt.datetime | None = None) -> ReplanJob:
    """Work through the job's procedures from where it stopped.

    Each procedure is re-planned in its own transaction together with the
    job's progress, so the two never disagree and a crash loses nothing.
    """
    ReplanJob.objects.filter(pk=job_id, status=ReplanJobStatus.PENDING).update(
        status=ReplanJobStatus.RUNNING
    )
    job = ReplanJob.objects.get(pk=job_id)
    if job.status == ReplanJobStatus.FINISHED:
        return job
    remaining = (
        Procedure.objects.active()
        .filter(pk__gt=job.last_procedure_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for procedure_id in remaining.iterator(chunk_size=CHUNK):
        with transaction.atomic():
            procedure = Procedure.objects.select_for_update().get(pk=procedure_id)
            result = replan(procedure, today=job.today, actor=None, action="replanned")
            changed = sum(len(ids) for ids in result.as_dict().values())
            ReplanJob.objects.filter(pk=job_id).update(
                done=F("done") + 1,
                visits_changed=F("visits_changed") + changed,
                last_procedure_id=procedure_id,
            )
    ReplanJob.objects.filter(pk=job_id).update(
        status=ReplanJobStatus.FINISHED, finished_at=now or timezone.now()
    )
    job.refresh_from_db()
    return job
