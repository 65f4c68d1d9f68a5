"""`/calendar-links/`: one's own calendar feed links, as plain forms.

A surgeon manages their own surgeon link; a clinic admin the clinic's shared
link. Who may create, rotate and revoke which link is `feeds.links`' rule,
the API's own. A feed URL carries its token, stored only hashed: it is shown
in the answer to create or rotate and nowhere else, so those answers are
rendered directly (never kept for a redirect) and never cached.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from clinic import clock
from feeds import links
from feeds.models import CalendarLink, LinkScope
from followup.access import Forbidden, Role, staff_of
from followup.exceptions import DomainError, NotFound
from web.links.cards import NewUrl
from web.roles import staff_required


@dataclass(frozen=True)
class Section:
    scope: LinkScope
    title: str
    about: str
    links: list[CalendarLink]
    may_create: bool
    # Why this person manages no link here, when they do not.
    note: str = ""

    @property
    def offers_create(self) -> bool:
        return self.may_create and not self.links


def _may_create(request: HttpRequest, scope: LinkScope) -> bool:
    try:
        links.check_may_create(request.user, scope=scope, surgeon_id=None)
    except Forbidden:
        return False
    return True


def _sections(request: HttpRequest) -> list[Section]:
    staff = staff_of(request.user)
    visible = links.visible_to(request.user).order_by("-created_at", "pk")
    sections = []
    if staff.surgeon_id is not None:
        sections.append(
            Section(
                scope=LinkScope.SURGEON,
                title="Your calendar",
                about="Every visit booked with you, in your own calendar app.",
                links=list(
                    visible.filter(scope=LinkScope.SURGEON, surgeon_id=staff.surgeon_id)
                ),
                may_create=_may_create(request, LinkScope.SURGEON),
            )
        )
    if staff.has(Role.ADMIN, Role.FRONT_DESK):
        may_create = _may_create(request, LinkScope.CLINIC)
        sections.append(
            Section(
                scope=LinkScope.CLINIC,
                title="The clinic's calendar",
                about="Every booked visit of every surgeon, for a shared calendar.",
                links=list(visible.filter(scope=LinkScope.CLINIC)),
                may_create=may_create,
                note=""
                if may_create
                else (
                    "A clinic admin creates and rotates the clinic's calendar link. "
                    "A patient's own link is handed out from the patient's page."
                ),
            )
        )
    return sections


def _page(
    request: HttpRequest, *, new_url: NewUrl | None = None, status: int = 200
) -> HttpResponse:
    response = render(
        request,
        "web/calendar_links.html",
        {"title": "Calendar links", "sections": _sections(request), "new_url": new_url},
        status=status,
    )
    if new_url is not None:
        add_never_cache_headers(response)
    return response


def _issued(request: HttpRequest, issued: links.IssuedLink, said: str) -> HttpResponse:
    messages.success(request, said)
    url = request.build_absolute_uri(issued.path)
    return _page(request, new_url=NewUrl(link_id=issued.link.pk, url=url))


def _refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404(error.message)
    if isinstance(error, Forbidden):
        raise PermissionDenied(error.message)
    messages.error(request, error.message)
    return _page(request, status=error.status)


@staff_required
def calendar_links(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    scope = request.POST.get("scope", "")
    section = next((s for s in _sections(request) if s.scope == scope), None)
    if section is None or not section.may_create:
        raise PermissionDenied("You cannot create this calendar link.")
    if section.links:
        messages.error(
            request,
            "This calendar already has a link. Rotate it for a new URL, "
            "or revoke it first.",
        )
        return _page(request, status=409)
    try:
        surgeon_id = links.check_may_create(request.user, scope=scope, surgeon_id=None)
        issued = links.create_link(
            scope=scope,
            surgeon_id=surgeon_id,
            actor=request.user,  # type: ignore[arg-type]
        )
    except DomainError as error:
        return _refused(request, error)
    return _issued(request, issued, "Link created. Copy its URL now: it is shown once.")


@require_POST
@staff_required
def rotate(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        link = links.access_link(request.user, pk)
        issued = links.rotate_link(link_id=link.pk, actor=request.user, now=clock.now())
    except DomainError as error:
        return _refused(request, error)
    return _issued(
        request,
        issued,
        "Link rotated: the old URL no longer works. Copy the new one now.",
    )


@require_POST
@staff_required
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        link = links.access_link(request.user, pk)
        links.revoke_link(link_id=link.pk, now=clock.now(), actor=request.user)
    except DomainError as error:
        return _refused(request, error)
    messages.success(request, "Link revoked: its URL no longer works.")
    return HttpResponseRedirect(reverse("calendar-links-page"))
