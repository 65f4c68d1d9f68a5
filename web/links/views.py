"""The calendar-link views, one set for every page that hands links out.

`/calendar-links/` is one's own links: a surgeon's own, the clinic's shared
one for a clinic admin. A patient's link is handed out from the patient's
page, by the same views: the URL conf passes each a `place`, the page the
card sits on (`LinkPlace`), which says which cards a person sees there,
which links they may touch, and renders itself with a new URL.

Who may create, rotate and revoke which link is `feeds.links`' rule, the
API's own. A feed URL carries its token, stored only hashed: it is shown in
the answer to create or rotate and nowhere else, so those answers are
rendered directly (never kept for a redirect) and never cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from clinic import clock
from feeds import links
from feeds.models import CalendarLink
from followup.access import Role, staff_of
from followup.exceptions import DomainError, InvalidInput
from web.links.cards import LinkCard, NewUrl, own_cards
from web.methods import post_or_show
from web.refusals import say
from web.roles import staff_required


class LinkPlace(Protocol):
    """A page with calendar-link cards; `kwargs` are its URL's."""

    # Who opens the page's link forms at all, before any other check.
    roles: tuple[Role, ...]
    # The calendar a create form posted without a scope is for ("" for none).
    scope: str
    # What the page says once a link is created, rotated, or is a second one.
    created: str
    rotated: str
    duplicate: str

    def cards(self, request: HttpRequest, **kwargs: Any) -> list[LinkCard]: ...

    def link(
        self, request: HttpRequest, link_id: int, *, revoked: bool, **kwargs: Any
    ) -> CalendarLink:
        """A link of this page the person may manage, or with `revoked` one
        revoked since (`links.access_link`); NotFound for any other."""
        ...

    def page(
        self,
        request: HttpRequest,
        *,
        new_url: NewUrl | None,
        status: int,
        **kwargs: Any,
    ) -> HttpResponse: ...

    def back(self, **kwargs: Any) -> str:
        """Where a revoke lands."""
        ...


class OwnLinks:
    """`/calendar-links/`: one's own calendars."""

    roles = tuple(Role)
    scope = ""
    created = "Link created. Copy its URL now: it is shown once."
    rotated = "Link rotated: the old URL no longer works. Copy the new one now."
    duplicate = (
        "This calendar already has a link. Rotate it for a new URL, or revoke it first."
    )

    def cards(self, request: HttpRequest, **kwargs: Any) -> list[LinkCard]:
        return own_cards(request)

    def link(
        self, request: HttpRequest, link_id: int, *, revoked: bool, **kwargs: Any
    ) -> CalendarLink:
        return links.access_link(request.user, link_id, revoked=revoked)

    def page(
        self,
        request: HttpRequest,
        *,
        new_url: NewUrl | None,
        status: int,
        **kwargs: Any,
    ) -> HttpResponse:
        return render(
            request,
            "web/links/page.html",
            {
                "title": "Calendar links",
                "sections": own_cards(request, new_url),
                "new_url": new_url,
            },
            status=status,
        )

    def back(self, **kwargs: Any) -> str:
        return reverse("calendar-links-page")


OWN_LINKS = OwnLinks()


def _page(
    request: HttpRequest,
    place: LinkPlace,
    kwargs: dict[str, Any],
    *,
    new_url: NewUrl | None = None,
    status: int = 200,
) -> HttpResponse:
    response = place.page(request, new_url=new_url, status=status, **kwargs)
    if new_url is not None:
        add_never_cache_headers(response)
    return response


def _issued(
    request: HttpRequest,
    place: LinkPlace,
    kwargs: dict[str, Any],
    issued: links.IssuedLink,
    said: str,
) -> HttpResponse:
    messages.success(request, said)
    new_url = NewUrl(
        link_id=issued.link.pk, url=request.build_absolute_uri(issued.path)
    )
    return _page(request, place, kwargs, new_url=new_url)


def _guard(request: HttpRequest, place: LinkPlace) -> None:
    if not staff_of(request.user).has(*place.roles):
        raise PermissionDenied("Your role does not open this page.")


def _create(
    request: HttpRequest, place: LinkPlace, kwargs: dict[str, Any]
) -> HttpResponse:
    _guard(request, place)
    cards = place.cards(request, **kwargs)
    scope = request.POST.get("scope", "") or place.scope
    card = next((card for card in cards if card.scope == scope), None)
    if card is None or not card.may_create:
        raise PermissionDenied("You cannot create this calendar link.")
    if card.links:
        messages.error(request, place.duplicate)
        return _page(request, place, kwargs, status=409)
    try:
        surgeon_id = links.check_may_create(request.user, scope=scope, surgeon_id=None)
        issued = links.create_link(
            scope=scope,
            surgeon_id=surgeon_id,
            patient_id=card.patient_id,
            actor=request.user,  # type: ignore[arg-type]
            # A second click of Create finds the first one's link here.
            only_link=True,
        )
    except DomainError as error:
        said = place.duplicate if error.code == links.LINK_EXISTS else say(error)
        messages.error(request, said)
        return _page(request, place, kwargs, status=error.status)
    return _issued(request, place, kwargs, issued, place.created)


@staff_required
def calendar_links(request: HttpRequest, place: LinkPlace = OWN_LINKS) -> HttpResponse:
    """`/calendar-links/`: the page, and its create form."""
    if request.method != "POST":
        return _page(request, place, {})
    return _create(request, place, {})


def _shown(request: HttpRequest, *args: Any, place: LinkPlace, **kwargs: Any) -> str:
    """Where a GET of a link action's URL goes: the page holding the links."""
    kwargs.pop("link_id", None)
    kwargs.pop("move", None)
    return place.back(**kwargs)


@staff_required
@post_or_show(_shown)
def create(request: HttpRequest, place: LinkPlace, **kwargs: Any) -> HttpResponse:
    return _create(request, place, kwargs)


# A link's fingerprint as a page carries it (`links.fingerprint`).
FINGERPRINT = re.compile(r"[0-9a-f]{16}")


def _seen(request: HttpRequest) -> str | None:
    """The link as the page showed it (`shown`, hidden): None when the form
    carries none (an old page: not compared), refused when unreadable."""
    shown = request.POST.get("shown", "")
    if not shown:
        return None
    if not FINGERPRINT.fullmatch(shown):
        raise InvalidInput(
            "This page's copy of the link is unreadable, so nothing was "
            "changed. Here is the page again: rotate from it.",
            code="invalid_shown",
        )
    return shown


def _rotate(
    request: HttpRequest, place: LinkPlace, kwargs: dict[str, Any], link: CalendarLink
) -> HttpResponse:
    # A stale page (another tab's rotation or revocation, a second click) is
    # refused here.
    issued = links.rotate_link(
        link_id=link.pk,
        actor=request.user,
        now=clock.now(),
        shown=_seen(request),
        seen_live=True,
    )
    return _issued(request, place, kwargs, issued, place.rotated)


def _revoke(
    request: HttpRequest, place: LinkPlace, kwargs: dict[str, Any], link: CalendarLink
) -> HttpResponse:
    try:
        # A second click of Revoke finds the first one's revocation here.
        links.revoke_link(
            link_id=link.pk, now=clock.now(), actor=request.user, seen_live=True
        )
    except DomainError as error:
        if error.code != links.LINK_REVOKED:
            raise
        messages.info(request, say(error))
    else:
        messages.success(request, "Link revoked: its URL no longer works.")
    return HttpResponseRedirect(place.back(**kwargs))


# What each link move does, by the name its URL passes as `move`.
MOVES: dict[str, Callable[..., HttpResponse]] = {"rotate": _rotate, "revoke": _revoke}


@staff_required
@post_or_show(_shown)
def change(
    request: HttpRequest, link_id: int, place: LinkPlace, move: str, **kwargs: Any
) -> HttpResponse:
    """Rotate or revoke one of the page's links; a refusal is the page again."""
    _guard(request, place)
    # A second Revoke, or a Rotate from a page shown before a Revoke, finds
    # its link revoked, to say so rather than 404.
    link = place.link(request, link_id, revoked=True, **kwargs)
    try:
        return MOVES[move](request, place, kwargs, link)
    except DomainError as error:
        messages.error(request, say(error))
        return _page(request, place, kwargs, status=error.status)
