"""The audit trail: writes recorded by django-auditlog, reads recorded here.

Writes to patients, procedures, users (clinic.apps) and calendar links
(feeds.apps) are recorded by django-auditlog's signals: who (the request's
user, through web.middleware.AuditMiddleware, or a service's `actor` under
`auditlog.context.set_actor`), when, and the fields' old and new values.

Reads are not signals: the patient page and the API's patient record call
`record_patient_view`, once per read, after the access check passed. Reads
of many rows at once (lists, searches, a patient's MRI studies or contact
attempts, the re-plan CSV) call `record_patient_read` once per request, with
the patients the answer held: one insert, however many rows were read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from auditlog.context import auditlog_value, set_actor

from clinic.models import (
    Patient,
    PatientRead,
    PatientReadKind,
    PatientView,
    PatientViewChannel,
)

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


# Long enough for any URL the pages and the API build; a longer one is cut.
QUERY_MAX_LENGTH = 1000


def record_patient_read(
    *,
    reader: User,
    kind: PatientReadKind,
    query: str,
    patient_ids: Iterable[int],
    count: int,
    now: dt.datetime,
) -> PatientRead:
    """Record that `reader` read `count` rows about `patient_ids` at once.

    `query` is what was asked (the path and its query string). Called after
    the rows were read and scoped, so it names only what the reader saw.
    """
    read = PatientRead(
        reader=reader,
        reader_username=reader.get_username(),
        kind=kind,
        query=query[:QUERY_MAX_LENGTH],
        count=count,
        patient_ids=sorted(set(patient_ids)),
        read_at=now,
    )
    read.save(force_insert=True)
    return read


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
