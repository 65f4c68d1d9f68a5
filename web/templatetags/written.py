"""Dates and links a list writes on every row, remembered once written
(`web.dates`, `web.reversing`): `{{ visit.start|written:"D j M Y" }}` for
`|date:` and `|time:`, `{% link 'patient-page' visit.patient_id %}` for
`{% url %}`, each some 25 µs the first time and under 1 µs after."""

from __future__ import annotations

import datetime as dt

from django import template

from web.dates import written as written_as
from web.reversing import reversed_url

register = template.Library()


@register.filter(expects_localtime=True)
def written(value: dt.date | None, fmt: str) -> str:
    return written_as(value, fmt)


@register.simple_tag
def link(name: str, *args: int) -> str:
    return reversed_url(name, *args)
