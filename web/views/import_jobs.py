"""A big CSV import's page (`/desk/import/jobs/<id>/`), and the import
throttle the import page shares with the API.

The job's progress is a `<progress>` bar that htmx refreshes every two
seconds by asking this same view for its section only; without JavaScript
a `<noscript>` meta refresh reloads the page, and a plain link does too.
When the job ends, the section shows the counts or the problems by line,
and no longer asks to be refreshed.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import ScopedRateThrottle

from followup import services
from followup.exceptions import NotFound
from web.roles import DESK_ROLES, role_required

# Seconds between two refreshes of a running job's progress.
REFRESH_SECONDS = 2


class _ImportScope:
    """What DRF's ScopedRateThrottle reads from a view: its scope."""

    throttle_scope = "import"


def import_throttle_wait(request: HttpRequest) -> float | None:
    """Seconds until this person may import again, or None when they may now.

    The API's own throttle (scope `import`, per user): the page and the API
    draw on one allowance, so neither is a way around the other.
    """
    throttle = ScopedRateThrottle()
    if throttle.allow_request(request, _ImportScope()):  # type: ignore[arg-type]
        return None
    return throttle.wait() or 1.0


@role_required(*DESK_ROLES)
def import_job_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = services.job_for(request.user, pk)
    except NotFound as error:
        raise Http404(error.message) from None
    context = {
        "title": f"Importing {job.file_name or 'a CSV file'}",
        "job": job,
        "refresh_seconds": REFRESH_SECONDS,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/patients/_import_job.html", context)
    return render(request, "web/patients/import_job.html", context)
