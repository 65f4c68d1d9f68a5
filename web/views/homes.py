"""Each role's home. Placeholders for now: the worklist and the surgeon's
reviews are built on top of these (issue 10, items 2 and 5)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from web.roles import DESK_ROLES, SURGEON_ROLES, role_required


@role_required(*DESK_ROLES)
def desk(request: HttpRequest) -> HttpResponse:
    return render(request, "web/desk.html", {"title": "Worklist"})


@role_required(*SURGEON_ROLES)
def surgeon(request: HttpRequest) -> HttpResponse:
    return render(request, "web/surgeon.html", {"title": "My reviews"})
