"""Importing patients and procedures from a CSV file.

`/desk/import/` takes a CSV file: all rows or none, problems by line. A file
past `IMPORT_SYNC_MAX_ROWS` rows goes to a background job, whose page
(`/desk/import/jobs/<id>/`) shows its progress: a `<progress>` bar that htmx
refreshes every two seconds by asking the same view for its section only;
without JavaScript a `<noscript>` meta refresh reloads the page, and a plain
link does too. When the job ends, the section shows the counts or the
problems by line, and no longer asks to be refreshed.

Imports are throttled per person by the API's own allowances
(`followup.api.throttling`): the page and the API draw on the same ones, so
neither is a way around the other, and a file refused unread counts apart
from the imports.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from clinic import clock
from followup import services
from followup.api.throttling import ImportAllowance, ImportWait
from followup.exceptions import DomainError
from followup.models import ImportJob
from web.patients.forms import ImportForm
from web.roles import DESK_ROLES, role_required

# Seconds between two refreshes of a running job's progress.
REFRESH_SECONDS = 2


@role_required(*DESK_ROLES)
def import_job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = services.job_for(request.user, pk)
    context = {
        "title": f"Importing {job.file_name or 'a CSV file'}",
        "job": job,
        "refresh_seconds": REFRESH_SECONDS,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/patients/import_job.html#job", context)
    return render(request, "web/patients/import_job.html", context)


@role_required(*DESK_ROLES)
def import_csv(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"title": "Import from CSV", "columns": _COLUMNS}
    if request.method != "POST":
        context["form"] = ImportForm()
        return render(request, "web/patients/import.html", context)
    allowance = ImportAllowance(request)
    wait = allowance.wait()
    if wait is not None:
        return _throttled(request, context, wait)
    form = ImportForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        allowance.refused()
        return render(request, "web/patients/import.html", context, status=400)
    upload = form.cleaned_data["file"]
    limit = settings.IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        allowance.refused()
        context["refusal"] = (
            f"The file is larger than {limit // (1024 * 1024)} MB; split it into "
            "smaller files. Nothing was imported."
        )
        return render(request, "web/patients/import.html", context, status=400)
    try:
        result = services.accept_import(
            data=bytes(upload.read()),
            file_name=upload.name or "",
            actor=request.user,  # type: ignore[arg-type]
            today=clock.today(),
            now=clock.now(),
            checked=allowance.file_read,
        )
    except DomainError as error:
        allowance.refused()
        context["refusal"] = error.message
        context["problems"] = error.errors
        context["error_count"] = error.error_count
        context["file_name"] = upload.name
        return render(request, "web/patients/import.html", context, status=error.status)
    if isinstance(result, ImportJob):
        return HttpResponseRedirect(reverse("import-job-page", args=[result.pk]))
    context["result"] = result
    context["file_name"] = upload.name
    context["form"] = ImportForm()
    messages.success(request, f"Imported {upload.name}.")
    return render(request, "web/patients/import.html", context)


def _throttled(
    request: HttpRequest, context: dict[str, object], wait: ImportWait
) -> HttpResponse:
    minutes = max(1, math.ceil(wait.seconds / 60))
    context["form"] = ImportForm()
    context["refusal"] = (
        f"{wait.reason}; import this one again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}. Nothing was imported."
    )
    context["throttled"] = True
    response = render(request, "web/patients/import.html", context, status=429)
    response["Retry-After"] = str(math.ceil(wait.seconds))
    return response


_COLUMNS = [
    (
        "record_number",
        "the patient's medical record number: at most 32 letters and digits, "
        "with - / . _ or spaces between them",
    ),
    ("given_name", "the patient's given name"),
    ("family_name", "the patient's family name"),
    ("birth_date", "yyyy-mm-dd or dd/mm/yyyy"),
    (
        "surgeon",
        "the surgeon's full name (“Ana Álvarez” or “Dra. Ana Álvarez”; accents "
        "and capitals as you like), the username of their login, or their id",
    ),
    ("kind", "endoscopic or endoscopic_stem_cell"),
    ("surgery_date", "yyyy-mm-dd or dd/mm/yyyy"),
    (
        "phone",
        "optional: the patient's phone, in any format; with its country code "
        "unless it is in the clinic's country",
    ),
    ("email", "optional: the patient's email address"),
    (
        "reminders",
        "optional: sms, email or none (the default): the reminders the patient "
        "agreed to; sms needs a mobile phone, email an address",
    ),
]
