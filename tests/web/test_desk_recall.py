"""What a recall desk expects of the worklist: a due-date range, the last
contact and the number of attempts on every row, one-click outcomes on the
call list, a print stylesheet and a CSV of any list.

The cast and the clock are `tests.web.desk_data`'s: Monday 30 November 2026.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Patient, PatientRead, PatientReadKind
from followup.models import ContactOutcome, Visit
from tests.web.desk_data import DeskCast, attempt, book_at

pytestmark = pytest.mark.django_db


def labels(response: Any) -> list[str]:
    return [item.row.patient_label for item in response.context["items"]]


def row_html(response: Any, visit: Visit) -> str:
    html = response.content.decode()
    start = html.index(f'id="visit-{visit.pk}"')
    return html[start : html.index("</tbody>", start)]


# --- the due-date range ----------------------------------------------------------


def test_the_due_date_range_keeps_the_visits_due_in_it_on_every_tab(
    desk: Client, desk_cast: DeskCast
) -> None:
    response = desk.get("/desk/?due_from=2026-11-26&due_to=2026-12-16")

    assert labels(response) == [
        "Ruiz, Jorge · MRN00020",  # post-op, due 26 Nov
        "García López, María · MRN00012",  # post-op, due 30 Nov
        "Ruiz, Jorge · MRN00020",  # one-month, due 16 Dec
    ]
    tabs = {tab.key: tab.count for tab in response.context["tabs"]}
    assert tabs["all"] == 3
    assert tabs["overdue"] == 0  # Pilar's are due in October and November
    html = response.content.decode()
    assert 'value="2026-11-26"' in html and 'value="2026-12-16"' in html
    assert "due from Thu 26 Nov 2026 to Wed 16 Dec 2026" in html
    # Every link of the list keeps the range.
    assert "due_from=2026-11-26&amp;due_to=2026-12-16" in html


def test_either_end_of_the_range_may_be_left_open(
    desk: Client, desk_cast: DeskCast
) -> None:
    assert labels(desk.get("/desk/?due_to=2026-11-01")) == [
        "Sanz, Pilar · MRN00030",
        "Sanz, Pilar · MRN00030",
    ]
    assert labels(desk.get("/desk/?due_from=2026-12-20")) == [
        "García López, María · MRN00012"
    ]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        # Named as the fields' labels name them.
        ("due_from=2026-13-01", "due from"),
        ("due_to=tomorrow", "due to"),
        ("due_from=2026-12-20&due_to=2026-12-01", "due to (before due from)"),
    ],
)
def test_a_range_not_understood_is_named_and_left_out(
    desk: Client, desk_cast: DeskCast, query: str, named: str
) -> None:
    response = desk.get(f"/desk/?{query}")

    assert response.status_code == 200
    assert f"Not understood, so left out: {named}." in response.content.decode()
    if "due_from=2026-12-20" in query:
        assert labels(response) == ["García López, María · MRN00012"]
    else:
        assert len(labels(response)) == 6


# --- the last contact on every row ---------------------------------------------------


def test_every_row_shows_its_last_contact_and_the_number_of_attempts(
    desk: Client, desk_cast: DeskCast
) -> None:
    maria = desk_cast.visit(desk_cast.maria, "one_month_control")
    attempt(maria, ContactOutcome.NO_ANSWER, days_ago=3)
    attempt(maria, ContactOutcome.LEFT_MESSAGE, days_ago=1)

    for tab in ("all", "not_open"):
        row = row_html(desk.get(f"/desk/?tab={tab}"), maria)
        assert "Left a message" in row
        assert "Sun 29 Nov, 08:00" in row
        assert "2 attempts" in row
    untried = desk_cast.visit(desk_cast.jorge, "one_month_control")
    assert "Not tried yet" in row_html(desk.get("/desk/"), untried)


# --- one-click outcomes on the call list ----------------------------------------------


def test_the_call_list_offers_three_one_click_outcomes_and_other_tabs_none(
    desk: Client, desk_cast: DeskCast
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")

    row = row_html(desk.get("/desk/?tab=call"), jorge)

    for outcome in ("no_answer", "left_message", "wrong_number"):
        assert f'name="outcome" value="{outcome}"' in row
    for ending in ("declined", "moved_away", "deceased", "call_back_later"):
        assert f'name="outcome" value="{ending}"' not in row
    assert 'name="outcome" value=' not in row_html(desk.get("/desk/"), jorge)


class QuickForms(HTMLParser):
    """The one-click outcomes of a row, as a browser would post them: the
    form's action and hidden fields, with the clicked button's name and
    value, one post per button."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and "quick-outcomes" in found.get("class", ""):
            self.inside = True
            self.action = found["action"]
        elif tag == "input" and self.inside:
            self.hidden[found["name"]] = found.get("value", "")
        elif tag == "button" and self.inside:
            self.buttons.append((found["name"], found["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False

    @property
    def forms(self) -> list[tuple[str, dict[str, str]]]:
        return [
            (self.action, {**self.hidden, name: value}) for name, value in self.buttons
        ]


def test_a_one_click_form_posted_as_rendered_records_the_call_without_javascript(
    desk: Client, desk_cast: DeskCast
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")
    parser = QuickForms()
    parser.feed(row_html(desk.get("/desk/?tab=call"), jorge))
    assert len(parser.forms) == 3
    action, fields = parser.forms[2]
    assert fields["outcome"] == "wrong_number"

    response = desk.post(action, fields)

    assert response.status_code == 302
    assert response["Location"] == f"/desk/?tab=call#visit-{jorge.pk}"
    (recorded,) = jorge.contact_attempts.all()
    assert (recorded.channel, recorded.outcome) == ("phone", "wrong_number")
    page = desk.get(response["Location"])
    assert "Phone attempt recorded: wrong number." in page.content.decode()
    assert "1 attempt" in row_html(page, jorge)


def test_a_number_found_to_reach_someone_else_is_marked_where_the_desk_dials_it(
    desk: Client, desk_cast: DeskCast
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")
    Patient.objects.filter(pk=jorge.patient_id).update(
        phone="+34612345678", reminders="sms"
    )
    parser = QuickForms()
    parser.feed(row_html(desk.get("/desk/?tab=call"), jorge))
    assert "Reported wrong" not in row_html(desk.get("/desk/?tab=call"), jorge)
    action, fields = parser.forms[2]

    response = desk.post(action, fields)

    after = desk.get(response["Location"])
    assert (
        "Phone attempt recorded: wrong number; no text goes to 612 34 56 78 "
        "until it is corrected." in after.content.decode()
    )
    assert "Reported wrong" in row_html(desk.get("/desk/?tab=call"), jorge)
    page = desk.get(f"/desk/patients/{jorge.patient_id}/").content.decode()
    assert page.count("Reported wrong") == 2  # the head and the contact card
    assert (
        ">612 34 56 78</a>: on Mon 30 Nov 2026 a call or a text found it reaches "
        "someone else. Correct the number below, or record a call that reaches "
        "the patient on it, and texts go again." in page
    )
    found = desk.get("/desk/?q=612345678").content.decode()
    assert "Reported wrong" in found


# --- the list as CSV -----------------------------------------------------------


def csv_lines(response: Any) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(response.content.decode())))


def test_each_tab_links_its_csv_with_the_list_s_filters(
    desk: Client, desk_cast: DeskCast
) -> None:
    surgeon = desk_cast.surgeon.pk
    html = desk.get(
        f"/desk/?tab=call&surgeon={surgeon}&due_from=2026-10-01&page=1"
    ).content.decode()

    url = f"/desk/list.csv?tab=call&amp;surgeon={surgeon}&amp;due_from=2026-10-01"
    assert f'href="{url}" hx-boost="false" download>Download CSV' in html
    assert "(3 visits)" in html  # Pilar's two, María's post-op


def test_the_csv_holds_the_tab_s_rows_in_its_order_with_their_last_contact(
    desk: Client, desk_cast: DeskCast
) -> None:
    pilar = desk_cast.visit(desk_cast.pilar, "postop_control")
    attempt(pilar, ContactOutcome.NO_ANSWER, days_ago=1)

    response = desk.get("/desk/list.csv?tab=call")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="worklist-call-2026-11-30.csv"' in response["Content-Disposition"]
    header, *lines = csv_lines(response)
    assert header[:3] == ["Record number", "Family name", "Given name"]
    assert [line[0] for line in lines] == [
        "MRN00030",
        "MRN00030",
        "MRN00020",
        "MRN00012",
    ]
    assert lines[0] == [
        "MRN00030",
        "Sanz",
        "Pilar",
        "Post-operative control",
        "Dr. Lucía Moreno",
        "2026-10-11",
        "2026-10-08",
        "2026-10-16",
        "To book",
        "",
        "No answer",
        "2026-11-29 08:00",
        "1",
    ]


def test_a_name_a_spreadsheet_would_run_is_written_as_text(
    desk: Client, desk_cast: DeskCast
) -> None:
    desk_cast.pilar.family_name = "=HYPERLINK(1)"
    desk_cast.pilar.save()

    lines = csv_lines(desk.get("/desk/list.csv?tab=overdue"))

    assert lines[1][1] == "'=HYPERLINK(1)"


def test_a_download_is_recorded_in_the_patient_read_audit(
    desk: Client, desk_cast: DeskCast, front_desk: User
) -> None:
    desk.get("/desk/list.csv?tab=overdue&page=3")

    (read,) = PatientRead.objects.filter(kind=PatientReadKind.DESK_CSV)
    assert read.reader == front_desk
    assert read.query == "/desk/list.csv?tab=overdue"
    assert read.count == 2
    assert read.patient_ids == [desk_cast.pilar.pk]


def test_the_csv_stops_at_its_cap_and_its_link_says_so(
    desk: Client, desk_cast: DeskCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.list_csv.CSV_LIMIT", 4)

    assert "(the first 4 visits)" in desk.get("/desk/").content.decode()
    assert len(csv_lines(desk.get("/desk/list.csv"))) == 1 + 4
    assert "(2 visits)" in desk.get("/desk/?tab=overdue").content.decode()


def test_a_bad_filter_is_left_out_of_the_csv_too_and_a_surgeon_gets_none(
    desk: Client, desk_cast: DeskCast, surgeon_a: Any
) -> None:
    assert len(csv_lines(desk.get("/desk/list.csv?due_from=nope&rule=x"))) == 1 + 6
    assert desk.post("/desk/list.csv").status_code == 405
    desk.force_login(surgeon_a.user)
    assert desk.get("/desk/list.csv").status_code == 403


def test_the_appointments_link_their_csv_the_day_s_bookings_and_it_is_audited(
    desk: Client, desk_cast: DeskCast
) -> None:
    maria = desk_cast.visit(desk_cast.maria, "postop_control")
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")
    book_at(maria, "2026-12-01T09:00:00+01:00", desk_cast.surgeon)
    book_at(jorge, "2026-12-01T09:10:00+01:00", desk_cast.other_surgeon)
    attempt(jorge, ContactOutcome.NO_ANSWER, days_ago=1)

    html = desk.get("/desk/appointments/?day=2026-12-01").content.decode()
    assert 'href="/desk/appointments.csv?day=2026-12-01" hx-boost="false"' in html
    assert "(at most the first 1,000 bookings)" in html
    response = desk.get("/desk/appointments.csv?day=2026-12-01&page=2")

    assert 'filename="appointments-2026-11-30.csv"' in response["Content-Disposition"]
    _, *lines = csv_lines(response)
    assert [(line[0], line[9]) for line in lines] == [
        ("MRN00012", "2026-12-01 09:00"),
        ("MRN00020", "2026-12-01 09:10"),
    ]
    assert lines[1][10:] == ["No answer", "2026-11-29 08:00", "1"]
    (read,) = PatientRead.objects.filter(kind=PatientReadKind.DESK_CSV)
    assert read.query == "/desk/appointments.csv?day=2026-12-01"
    assert sorted(read.patient_ids) == sorted([desk_cast.maria.pk, desk_cast.jorge.pk])
