"""A calendar link's card, the same on every page that hands links out: the
links, the URL at the one moment it is known, and its QR code."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


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
