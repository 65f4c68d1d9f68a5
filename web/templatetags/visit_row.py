"""The shared visit row's filters (`web/_visit_row.html`)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def panel_url(visit_url: str, link_prefix: str) -> str:
    """A row's panel links' URL but their panel's name: the visit's URL
    with its list's state (`link_prefix`, "" or "…&"), then "panel="."""
    return f"{visit_url}?{link_prefix}panel="
