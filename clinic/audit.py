"""The audit trail: writes recorded by django-auditlog, reads recorded here.

Writes to patients, procedures, users (clinic.apps) and calendar links
(feeds.apps) are recorded by django-auditlog's signals: who (the request's
user, through web.middleware.AuditMiddleware, or a service's `actor` under
`auditlog.context.set_actor`), when, and the fields' old and new values.

Reads are not signals: the patient page and the API's patient record call
`record_patient_view`, once per read, after the access check passed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from auditlog.context import auditlog_value, set_actor

from clinic.models import Patient, PatientView, PatientViewChannel

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def record_patient_view(
    *, patient: Patient, viewer: User, channel: PatientViewChannel, now: dt.datetime
) -> PatientView:
    """Record that `viewer` read `patient`'s record through `channel`."""
    view = PatientView(
        patient=patient,
        record_number=patient.record_number,
        viewer=viewer,
        viewer_username=viewer.get_username(),
        channel=channel,
        viewed_at=now,
    )
    view.save(force_insert=True)
    return view


@contextlib.contextmanager
def audited_as(actor: User | None) -> Iterator[None]:
    """Audit entries written inside name `actor`, request or not.

    Services that are given an `actor` use it, so a write made outside a
    request (a task, a command) still says who asked when one is known.
    auditlog's `set_actor` leaves its own context behind when it ends; the
    request's context (web.middleware.AuditMiddleware) is put back here.
    """
    if actor is None:
        yield
        return
    previous = auditlog_value.get(None)
    remote_addr = previous.get("remote_addr") if previous else None
    try:
        with set_actor(actor, remote_addr=remote_addr):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


def hidden(value: str) -> str:
    """How a password hash appears in the trail: not at all."""
    return "(hidden)"
