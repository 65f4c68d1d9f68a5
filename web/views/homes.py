"""Each role's home. A placeholder for now: the worklist is built on top of
it (issue 10, item 2); the surgeon's home is `web.views.surgeon`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from web.roles import DESK_ROLES, role_required


@role_required(*DESK_ROLES)
def desk(request: HttpRequest) -> HttpResponse:
    return render(request, "web/desk.html", {"title": "Worklist"})
