"""A patient as the pages reach them: scoped by `access_patient`, and the
address of their page. Shared by the patient, registration and link views.

`access_patient` raises `NotFound` for a patient out of the person's scope
and `Forbidden` for a write their role may not make; the pages' translator
(`web.errors`) answers those as the 404 and 403 pages.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from clinic.models import Patient
from followup.access import access_patient


def patient_for(request: HttpRequest, pk: int, *, write: bool = False) -> Patient:
    return access_patient(request.user, pk, write=write)


def page_url(patient_id: int, anchor: str = "") -> str:
    """The patient's page, at `anchor` (an element id) when one is given."""
    url = reverse("patient-page", args=[patient_id])
    return f"{url}#{anchor}" if anchor else url
