"""The desk's slot picker reaches every free slot of the window: "Later
slots" pages on from the last slot shown, and a day chooser shows one day's
slots, both plain links and GET forms that work without JavaScript."""

from __future__ import annotations

from typing import Any

from django.test import Client

from clinic.clock import start_of_day
from followup import services
from tests.web.desk_data import NOW, DeskCast
from web.slots import SLOT_LIMIT


def panel(response: Any, pk: int) -> Any:
    """The row's slot picker, as the desk page shows it."""
    return next(i for i in response.context["items"] if i.pk == pk).slots


def opened(desk: Client, pk: int, query: str = "") -> Any:
    return desk.get(f"/desk/?tab=open&open={pk}&panel=slots&{query}")


def test_later_slots_page_on_until_every_free_slot_of_the_window_was_offered(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    every = services.free_slots(visit=visit, now=NOW, limit=100)
    assert len(every) > 2 * SLOT_LIMIT  # more than the first page shows
    query: str | None = ""
    offered = []
    while query is not None:
        response = opened(desk, visit.pk, query)
        shown = panel(response, visit.pk)
        assert len(shown.slots) <= SLOT_LIMIT
        offered += [slot.start for slot in shown.slots]
        later = shown.later
        query = later.query if later else None
        assert ("Later slots" in response.content.decode()) == bool(later)
    # Every page follows on: the first hundred are the service's first hundred.
    assert offered[: len(every)] == [slot.start for slot in every]
    assert offered == sorted(set(offered))
    assert offered[-1].date() <= visit.window_end


def test_later_slots_without_javascript_is_a_link_to_the_page_with_the_next_slots(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    first = desk.get(f"/desk/?tab=open&open={visit.pk}&panel=slots")
    item = next(i for i in first.context["items"] if i.pk == visit.pk)
    later = item.slots.later
    assert later is not None
    html = first.content.decode()
    assert "Later slots" in html

    moved = desk.get(f"/desk/visits/{visit.pk}/?tab=open&panel=slots&{later.query}")
    assert moved.status_code == 302
    page = desk.get(moved["Location"])

    item = next(i for i in page.context["items"] if i.pk == visit.pk)
    assert item.slots.slots[0].start > first_last(first, visit.pk)
    assert "Soonest slots" in page.content.decode()


def first_last(response: Any, pk: int) -> Any:
    item = next(i for i in response.context["items"] if i.pk == pk)
    return item.slots.slots[-1].start


def test_the_day_chooser_shows_that_days_free_slots_inside_the_window(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    every = services.free_slots(visit=visit, now=NOW, limit=100)
    day = every[-1].start.date()  # a later day of the window with free slots
    that_day = [
        s.start
        for s in services.free_slots(
            visit=visit, now=NOW, after=start_of_day(day), limit=100, until=day
        )
    ]

    response = opened(desk, visit.pk, f"slots_day={day.isoformat()}")

    shown = panel(response, visit.pk)
    assert [s.start for s in shown.slots] == that_day[:SLOT_LIMIT]
    html = response.content.decode()
    assert f'min="{NOW.date().isoformat()}"' in html
    assert f'max="{visit.window_end.isoformat()}"' in html
    assert f'value="{day.isoformat()}"' in html


def test_a_day_outside_the_window_shows_the_soonest_slots(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    soonest = services.free_slots(visit=visit, now=NOW, limit=SLOT_LIMIT)

    response = opened(desk, visit.pk, "slots_day=2030-01-01&slots_after=x")

    assert response.status_code == 200
    shown = panel(response, visit.pk).slots
    assert [s.start for s in shown] == [s.start for s in soonest]


def test_a_booking_refused_keeps_the_day_it_was_chosen_on(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    every = services.free_slots(visit=visit, now=NOW, limit=100)
    day = every[-1].start.date().isoformat()

    response = desk.post(
        f"/desk/visits/{visit.pk}/book/",
        {"start": "", "surgeon": desk_cast.surgeon.pk, "slots_day": day},
    )

    assert response.status_code == 400
    shown = panel(response, visit.pk)
    assert shown.ask.day.isoformat() == day
    assert all(s.start.date().isoformat() == day for s in shown.slots)
