"""The appointments view's presentation: its columns, heading and pager.
Its rows are the visit rows every list shares (`web.visit_rows`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import date_format

from web.appointments.state import AppointmentsState
from web.visit_rows import ColumnHeader

PAGE_SIZE = 50


def columns(state: AppointmentsState) -> list[ColumnHeader]:
    """A day's list has a time column; a search over days shows the window."""
    if state.is_today:
        middle = [ColumnHeader("Time", "", "ascending"), ColumnHeader("Patient")]
        middle += [ColumnHeader("Visit"), ColumnHeader("Surgeon")]
    else:
        middle = [ColumnHeader("Patient"), ColumnHeader("Visit")]
        middle += [ColumnHeader("Surgeon"), ColumnHeader("Window")]
        middle.append(ColumnHeader("Days left"))
    return [*middle, ColumnHeader("Status"), ColumnHeader("Actions")]


def heading(state: AppointmentsState) -> str:
    day = date_format(state.day, "DATE_FORMAT")
    if state.q:
        return f"Bookings from {day} on"
    if state.day == state.today:
        return f"Bookings today, {day}"
    return f"Bookings on {day}"


@dataclass(frozen=True)
class Pager:
    """A page of the list; whether there is a next one is read by asking
    for one row more than the page holds, so paging costs no count."""

    number: int
    shown: int
    more: bool

    @property
    def first_item(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1 if self.shown else 0

    @property
    def last_item(self) -> int:
        return (self.number - 1) * PAGE_SIZE + self.shown

    @property
    def offset(self) -> int:
        return (self.number - 1) * PAGE_SIZE
