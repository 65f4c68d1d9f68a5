"""The surgeon's home. A placeholder for now: their reviews are built on top
of it (issue 10, item 5). The front desk's home is `web.views.desk`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from web.roles import SURGEON_ROLES, role_required


@role_required(*SURGEON_ROLES)
def surgeon(request: HttpRequest) -> HttpResponse:
    return render(request, "web/surgeon.html", {"title": "My reviews"})
