"""`/p/<token>/`: the patient's booking page, opened from a text message.

No login: the token is the key, so the page is handled like a feed URL.
Each request is throttled per token and per address, guesses counted apart
(`core.throttle`, as the feeds); an unknown, malformed or ended link gets
the very same 404, as does any other address under /p/; `/p/<token>`, its
last slash cut, is sent to the page. Every answer is private:
`Cache-Control: no-store`, `Referrer-Policy: no-referrer`, and Django never
logs its path (the token).

The form posts to the page itself, with a signed form token of the link's
own instead of Django's CSRF check (`forms`: under `no-referrer` browsers
post `Origin: null`, which that check refuses). A booking, a move or "I
can't come" is one call of `booking_links.services`, which calls the desk's
services; success redirects to the page (`?done=`), a refusal re-renders it
with the reason in words and fresh slots. A form sent twice (a double tap)
is refused as stale by the services; when the visit already is what it
asked for, the patient reads it done. Each use is recorded
(`BookingLinkUse`).

`?offer=<id>` (an offer message's link) shows that offer's slot first, in
a form of its own; posting it claims the offer (`offers.claims`). While
it is open, the page's "Later times" and "Earliest times" and its other
form keep it in their addresses, so paging or a refused booking shows it
still. An id that is not one of this visit's offers shows the page as it
is without it.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt

from booking_links import services
from booking_links.models import BookingLink, LinkUse
from clinic import clock
from core.addresses import client_address
from core.throttle import TokenThrottle
from core.tokens import hash_token, looks_like_token
from feeds.rendering import patient_visit_calendar
from followup.exceptions import DomainError
from followup.models import Visit, VisitStatus
from followup.services.staleness import STALE
from offers import claims
from web.patient_link.forms import CANCEL, SlotForm, form_token
from web.patient_link.rows import after_of, booked, offer, offer_said, query

PAGE = "web/patient_link/page.html"
DONE = {
    "booked": "Booked. See you then.",
    "moved": "Your visit is moved to the new time.",
    "gave_up": (
        "Your time is given up. Choose another below, or call the clinic when you can."
    ),
}


def _done(done: str, visit: Visit) -> str | None:
    """What `?done=` says, while the visit still is as it says: a page kept
    on the phone and reloaded after the desk changed the visit says nothing."""
    if booked(visit) != (done in ("booked", "moved")):
        return None
    return DONE.get(done)


throttle = TokenThrottle("booking_links", settings_prefix="BOOKING_LINK")


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    # Django would log the path of every 4xx, and the path is the secret.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


# What a link that cannot be served says: the same for an unknown and an
# ended link (404), and for an address changed on its way (400).
NOTICE = "web/patient_link/notice.html"
NOT_FOUND = {
    "title": "Link not working",
    "heading": "This link does not work",
    "text": "It may be old or mistyped: use the newest link the clinic sent you.",
}
BAD_ADDRESS = {
    "title": "Link not complete",
    "heading": "This link was changed on its way",
    "text": "Something was added to it. Open it again from the clinic's message.",
}


TOO_MANY = "web/patient_link/too_many.html"


def _notice(said: dict[str, str], *, status: int) -> HttpResponse:
    context = {**said, "clinic_phone": settings.CLINIC_PHONE}
    return _private(HttpResponse(render_to_string(NOTICE, context), status=status))


def _not_found() -> HttpResponse:
    return _notice(NOT_FOUND, status=404)


def bad_address() -> HttpResponse:
    """A 400 in the patient's words, as private as the page (a NUL in the
    query string: `middleware`)."""
    return _notice(BAD_ADDRESS, status=400)


def _too_many(retry_after: int) -> HttpResponse:
    """A 429 in the patient's words: when to try again (`Retry-After`, in
    minutes on the page), or to call the clinic."""
    context = {
        "minutes": max(1, math.ceil(retry_after / 60)),
        "clinic_phone": settings.CLINIC_PHONE,
    }
    response = HttpResponse(render_to_string(TOO_MANY, context), status=429)
    response["Retry-After"] = str(retry_after)
    return _private(response)


def _open(
    request: HttpRequest, token: str, *, now: dt.datetime, use: LinkUse | None = None
) -> BookingLink | HttpResponse:
    """The live link at `now`, or the answer to give instead (404 or 429);
    with `use`, that use of the link is recorded."""
    moment, ip = time.time(), client_address(request)
    digest = hash_token(token) if looks_like_token(token) else None
    retry, known = throttle.check(ip=ip, digest=digest, now=moment)
    if retry is not None:
        return _too_many(retry)
    link = None if digest is None else services.find_live(digest, now=now, use=use)
    if link is None:
        retry = throttle.guessed(ip=ip, now=moment)
        return _not_found() if retry is None else _too_many(retry)
    if not known and digest is not None:
        throttle.served(ip=ip, digest=digest, now=moment)
    return link


def _page(
    request: HttpRequest,
    link: BookingLink,
    *,
    now: dt.datetime,
    form: SlotForm | None = None,
    status: int = 200,
) -> HttpResponse:
    visit = link.visit
    # The offer the form claimed, else the one the address names: the
    # page's other form and its paging links carry it (`kept`).
    asked = (form.data.get("offer") if form else None) or request.GET.get("offer")
    offered = claims.offer_on_page(link, asked, now=now)
    kept = str(offered.pk) if offered and offered.open else ""
    slots = offer(
        visit, now=now, after=None if form else after_of(request.GET.get("after"))
    )
    context: dict[str, Any] = {
        "offered": offered,
        "offered_said": offer_said(offered),
        "title": visit.rule.name,
        "visit": visit,
        "given_name": visit.patient.given_name,
        "booked": booked(visit),
        "begun": services.has_begun(visit, now),
        "offer": slots,
        "form": form,
        "form_token": form_token(link.pk),
        "done": _done(request.GET.get("done", ""), visit) if form is None else None,
        # The page's own address, and its .ics beside it (web.patient_link.urls);
        # its query keeps an open offer on the page.
        "here": request.path,
        "kept": query(offer=kept),
        "later": query(after=slots.later, offer=kept) if slots.later else "",
        "calendar": f"{request.path}visit.ics",
        "clinic_phone": settings.CLINIC_PHONE,
    }
    # No context processor: the page shows nothing of a session or a sign-in.
    return _private(HttpResponse(render_to_string(PAGE, context), status=status))


@csrf_exempt  # the form's own signed token instead (`forms`)
def booking_page(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return _private(HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"}))
    now = clock.now()
    viewed = request.method != "POST"
    found = _open(request, token, now=now, use=LinkUse.VIEWED if viewed else None)
    if isinstance(found, HttpResponse):
        return found
    link = found
    if viewed:
        return _page(request, link, now=now)
    form = SlotForm(request.POST, link_id=link.pk)
    if not form.is_valid():
        services.record_use(link, LinkUse.REFUSED, now=now)
        return _page(request, link, now=now, form=form, status=400)
    data = form.cleaned_data
    try:
        if data["action"] == CANCEL:
            services.give_up_through_link(link=link, now=now, sequence=data["sequence"])
            done = "gave_up"
        else:
            done = _book(link, data, now=now)
    except DomainError as error:
        services.record_use(link, LinkUse.REFUSED, now=now)
        link.visit.refresh_from_db()
        if error.code == STALE and _already(link.visit, data):
            # A double tap: the first tap did it, and the phone shows the
            # answer to the second. The visit is as asked: said as done.
            done = "gave_up" if data["action"] == CANCEL else "booked"
        else:
            form.refuse(error)
            return _page(request, link, now=now, form=form, status=error.status)
    # Back to the page itself, which the form posted to.
    return _private(HttpResponseRedirect(f"{request.path}?done={done}", status=303))


def _already(visit: Visit, data: dict[str, Any]) -> bool:
    """Whether the visit already is what the form asks for: to book after
    "I can't come", booked at the slot posted."""
    if data["action"] == CANCEL:
        return visit.status == VisitStatus.TO_BOOK
    return booked(visit) and visit.start == data["start"]


def _book(link: BookingLink, data: dict[str, Any], *, now: dt.datetime) -> str:
    """Book or move the visit to the slot posted, claiming the offer posted
    with it; what was done."""
    moving = booked(link.visit)
    if data["offer"]:
        claims.claim(
            link=link,
            offer_id=claims.offer_id_of(data["offer"]),
            start=data["start"],
            now=now,
            sequence=data["sequence"],
        )
    else:
        services.book_through_link(
            link=link, start=data["start"], now=now, sequence=data["sequence"]
        )
    return "moved" if moving else "booked"


def add_slash(request: HttpRequest, token: str) -> HttpResponse:
    """`/p/<token>`, its last slash cut by a messages app: to the page, its
    query kept (`?offer=`), as private as the page. Whatever the token: the
    page itself says whether it is a link."""
    location = request.get_full_path(force_append_slash=True)
    return _private(HttpResponsePermanentRedirect(location))


def unknown(request: HttpRequest) -> HttpResponse:
    """Any other address under /p/ (`/p/<token>/visit`): the very 404 of an
    unknown link."""
    return _not_found()


def booking_calendar(request: HttpRequest, token: str) -> HttpResponse:
    """The visit as an `.ics` file, as the patient's own feed shows it."""
    if request.method not in ("GET", "HEAD"):
        return _private(HttpResponse(status=405, headers={"Allow": "GET, HEAD"}))
    now = clock.now()
    found = _open(request, token, now=now, use=LinkUse.CALENDAR)
    if isinstance(found, HttpResponse):
        return found
    response = HttpResponse(
        patient_visit_calendar(found.visit_id),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="visit.ics"'
    return _private(response)
