"""A calendar link's card, the same on every page that hands links out: the
links, the URL at the one moment it is known, and its QR code."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property

import segno
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from feeds import links
from feeds.models import CalendarLink, LinkScope
from followup.access import Forbidden, Role, staff_of


@dataclass(frozen=True)
class NewUrl:
    """A feed URL at the one moment it is known."""

    link_id: int
    url: str

    @property
    def webcal(self) -> str:
        return "webcal://" + self.url.split("://", 1)[1]


def qr_svg(url: str) -> SafeString:
    """The URL as a QR code, an inline <svg> (no script, no style attribute)."""
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="qr-code",
        lineclass=None,
    )
    svg = out.getvalue().decode()
    # segno writes only the code's geometry; the URL itself is not in it.
    opening = format_html(
        '<svg role="img" aria-label="{}" ', "QR code of the link, to scan with a phone"
    )
    return mark_safe(svg.replace("<svg ", opening, 1))  # noqa: S308


@dataclass(frozen=True)
class LinkRow:
    """One live link on a card, with where its buttons post."""

    link: CalendarLink
    rotate_url: str
    revoke_url: str
    new_url: NewUrl | None
    # The link as the page shows it (`links.fingerprint`), which Rotate posts.
    shown: str


@dataclass(frozen=True)
class LinkCard:
    """One calendar a person may hand out links to, on whichever page.

    `anchor` is the card's element id; `patient_id` makes it a patient's card
    (the link's buttons post to the patient's page, the new URL comes with a
    QR code the patient scans at the desk); `compact` for a narrow column.
    """

    scope: LinkScope
    title: str
    about: str
    links: list[CalendarLink]
    may_create: bool
    anchor: str
    create_url: str
    # Why this person manages no link here, when they do not.
    note: str = ""
    new_url: NewUrl | None = None
    patient_id: int | None = None
    compact: bool = False

    @property
    def offers_create(self) -> bool:
        return self.may_create and not self.links

    @cached_property
    def rows(self) -> list[LinkRow]:
        return [
            LinkRow(
                link=link,
                rotate_url=self._url("rotate", link.pk),
                revoke_url=self._url("revoke", link.pk),
                new_url=self.new_url
                if self.new_url and self.new_url.link_id == link.pk
                else None,
                shown=links.fingerprint(link),
            )
            for link in self.links
        ]

    @cached_property
    def qr(self) -> SafeString | None:
        if self.patient_id is None or self.new_url is None:
            return None
        return qr_svg(self.new_url.url)

    @property
    def status(self) -> str:
        """A page header's word for the calendar."""
        if any(getattr(link, "serving", False) for link in self.links):
            return "Linked"
        return "Not serving" if self.links else "No link yet"

    def _url(self, action: str, link_id: int) -> str:
        if self.patient_id is None:
            return reverse(f"calendar-link-{action}-page", args=[link_id])
        return reverse(f"patient-link-{action}", args=[self.patient_id, link_id])


def may_create(request: HttpRequest, scope: LinkScope) -> bool:
    try:
        links.check_may_create(request.user, scope=scope, surgeon_id=None)
    except Forbidden:
        return False
    return True


def patient_card(
    request: HttpRequest, patient_id: int, new_url: NewUrl | None = None
) -> LinkCard | None:
    """A patient's calendar, for those who hand out a patient's link."""
    if not may_create(request, LinkScope.PATIENT):
        return None
    live = (
        links.visible_to(request.user)
        .filter(scope=LinkScope.PATIENT, patient_id=patient_id)
        .order_by("-created_at", "pk")
    )
    return LinkCard(
        scope=LinkScope.PATIENT,
        title="Patient's calendar",
        about="Their visits, the windows still to book and their recovery "
        "milestones, in the patient's own calendar app. The URL is shown once, "
        "when it is created or rotated.",
        links=list(live),
        may_create=True,
        anchor="calendar-link",
        create_url=reverse("patient-link-create", args=[patient_id]),
        new_url=new_url,
        patient_id=patient_id,
        compact=True,
    )


def own_cards(request: HttpRequest, new_url: NewUrl | None = None) -> list[LinkCard]:
    """The calendars a person's own role holds links to: a surgeon their own,
    the front desk and clinic admins the clinic's shared one."""
    staff = staff_of(request.user)
    visible = links.visible_to(request.user).order_by("-created_at", "pk")
    create_url = reverse("calendar-links-page")
    cards = []
    if staff.surgeon_id is not None:
        cards.append(
            LinkCard(
                scope=LinkScope.SURGEON,
                title="Your calendar",
                about="Every visit booked with you, in your own calendar app.",
                links=list(
                    visible.filter(scope=LinkScope.SURGEON, surgeon_id=staff.surgeon_id)
                ),
                may_create=may_create(request, LinkScope.SURGEON),
                anchor="calendar-link-surgeon",
                create_url=create_url,
                new_url=new_url,
            )
        )
    if staff.has(Role.ADMIN, Role.FRONT_DESK):
        creates = may_create(request, LinkScope.CLINIC)
        cards.append(
            LinkCard(
                scope=LinkScope.CLINIC,
                title="The clinic's calendar",
                about="Every booked visit of every surgeon, for a shared calendar.",
                links=list(visible.filter(scope=LinkScope.CLINIC)),
                may_create=creates,
                anchor="calendar-link-clinic",
                create_url=create_url,
                new_url=new_url,
                note=""
                if creates
                else (
                    "A clinic admin creates and rotates the clinic's calendar link. "
                    "A patient's own link is handed out from the patient's page."
                ),
            )
        )
    return cards
