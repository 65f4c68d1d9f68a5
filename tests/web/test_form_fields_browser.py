"""Every field a clerk types into is drawn as a field: the phone number of
the registration form and of the patient's contact details was a bare
browser box, half the height of its neighbours (its `type="tel"` was left
out of the stylesheet's fields), and the email beside it, drawn, grew to
the height of the phone's three lines of help."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.web.desk_data import make_cast, pin_clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each typed-in field's drawing: its border, padding and height.
FIELDS = """() => [...document.querySelectorAll(
    'main input:not([type=hidden]):not([type=radio]):not([type=checkbox])'
    + ':not([type=submit]):not([type=button]):not([type=file]), main textarea')]
  .filter(field => field.offsetParent !== null)
  .map(field => {
    const style = getComputedStyle(field);
    return {name: field.name, type: field.type, border: style.borderTopColor,
            padding: style.paddingLeft, height: field.offsetHeight,
            top: Math.round(field.getBoundingClientRect().top)};
  })"""


# The stylesheet's fields (clinic.css: `border: 1px solid #8a99a4`).
HOUSE_BORDER = "rgb(138, 153, 164)"


def _drawn(page: Any) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = page.evaluate(FIELDS)
    assert fields, page.url
    return fields


def _one_style(fields: list[dict[str, Any]]) -> None:
    record = fields[0]
    for field in fields:
        assert field["border"] == HOUSE_BORDER, field
        assert field["padding"] == record["padding"], field
        if field["type"] != "date":  # its picker draws its own height
            assert abs(field["height"] - record["height"]) <= 2, field


def test_the_registration_form_s_fields_are_all_drawn_alike(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    page = new_page(width=1280, user=cast["front_desk"])
    page.goto("/desk/patients/new/")

    fields = _drawn(page)

    assert {"tel", "email"} <= {field["type"] for field in fields}
    _one_style(fields)
    side_by_side = [f["top"] for f in fields if f["name"] in ("phone", "email")]
    assert len(set(side_by_side)) == 1, side_by_side


def test_the_patient_page_s_contact_fields_are_drawn_alike(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pin_clock(monkeypatch)
    maria = make_cast().maria
    page = new_page(width=1280, user=cast["front_desk"])
    page.goto(f"/desk/patients/{maria.pk}/")
    page.locator("details:has(input[type=tel]) > summary").first.click()

    fields = [f for f in _drawn(page) if f["name"] in ("phone", "email")]

    assert {field["type"] for field in fields} == {"tel", "email"}
    _one_style(fields)


# The filters' fields, side by side: their tops and bottoms.
FILTERS = ".desk-filters input:not([type=hidden]), .desk-filters select"
EDGES = """(selector) => [...document.querySelectorAll(selector)].map(field => {
    const box = field.getBoundingClientRect();
    return [Math.round(box.top), Math.round(box.bottom)];
  })"""


@pytest.mark.parametrize(
    "url",
    [
        "/desk/appointments/",
        "/desk/",
    ],
)
def test_a_list_s_filters_line_up_whatever_their_kind(
    new_page: Callable[..., Any], cast: dict[str, User], url: str
) -> None:
    page = new_page(width=1280, user=cast["front_desk"])
    page.goto(url)

    edges = page.evaluate(EDGES, FILTERS)

    # Fields of a row line up at the bottom; drawn alike, at the top too.
    rows: dict[int, list[int]] = {}
    for top, bottom in edges:
        rows.setdefault(bottom, []).append(top)
    assert max(len(tops) for tops in rows.values()) >= 3, edges
    for tops in rows.values():
        assert len(set(tops)) == 1, edges
