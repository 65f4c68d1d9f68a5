"""`/desk/appointments/`, a visit's own page, and stale row actions, through
Django's test client: the bookings of the chosen day and surgeon, a search
that finds a patient's bookings on later days, reschedule / unbook / cancel
from the list with and without htmx, and a refusal (a visit another clerk
changed meanwhile) that keeps what was typed and shows the fresh row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.clock import start_of_day
from followup import services
from followup.models import Visit, VisitStatus
from followup.services.slots import Slot, SlotSearch
from tests.factories import PatientFactory, UserFactory
from tests.racing import at_once
from tests.web.desk_data import TODAY, DeskCast, make_cast, pin_clock
from web.refusals import day as day_words
from web.slots import SlotAsk, _but_its_own, no_slots

pytestmark = pytest.mark.django_db

NINE = start_of_day(TODAY) + dt.timedelta(hours=9)
TOMORROW = TODAY + dt.timedelta(days=1)
TOMORROW_NINE = NINE + dt.timedelta(days=1)
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cast(monkeypatch: pytest.MonkeyPatch) -> DeskCast:
    """María booked today at 09:00 with Moreno; Jorge tomorrow at 09:00 with
    Ortega."""
    pin_clock(monkeypatch)
    cast = make_cast()
    for patient, start, surgeon in (
        (cast.maria, NINE, cast.surgeon),
        (cast.jorge, TOMORROW_NINE, cast.other_surgeon),
    ):
        services.book_visit(
            visit_id=cast.visit(patient, "postop_control").pk,
            start=start,
            surgeon_id=surgeon.pk,
            actor=None,
            now=NINE - dt.timedelta(hours=1),
        )
    return cast


@pytest.fixture
def desk(client: Client, front_desk: User) -> Client:
    client.force_login(front_desk)
    return client


def names(response: Any) -> list[str]:
    return [item.row.visit.patient.family_name for item in response.context["items"]]


def fresh(visit: Visit) -> Visit:
    return Visit.objects.get(pk=visit.pk)


def post(client: Client, visit: Visit, action: str, back: str, **data: Any) -> Any:
    extra = HTMX if data.pop("htmx", False) else {}
    fields = {"back": back, "sequence": fresh(visit).sequence, **data}
    return client.post(f"/desk/visits/{visit.pk}/{action}/", fields, **extra)


# --- the list ------------------------------------------------------------------


def test_the_appointments_list_todays_bookings_by_default(
    desk: Client, cast: DeskCast
) -> None:
    response = desk.get("/desk/appointments/")

    assert response.status_code == 200
    assert names(response) == ["García López"]
    html = response.content.decode()
    assert "Bookings today, Mon 30 Nov 2026" in html
    assert "09:00" in html
    assert 'href="/desk/appointments/"' in html  # the navigation's link


def test_a_chosen_day_and_surgeon_narrow_the_list(desk: Client, cast: DeskCast) -> None:
    tomorrow = desk.get(f"/desk/appointments/?day={TOMORROW}")
    his = desk.get(
        f"/desk/appointments/?day={TOMORROW}&surgeon={cast.other_surgeon.pk}"
    )
    hers = desk.get(f"/desk/appointments/?day={TOMORROW}&surgeon={cast.surgeon.pk}")

    assert names(tomorrow) == ["Ruiz"]
    assert "Bookings on Tue 1 Dec 2026" in tomorrow.content.decode()
    assert names(his) == ["Ruiz"]
    assert names(hers) == []
    assert "No bookings on this day with these filters." in hers.content.decode()


@pytest.mark.parametrize("q", ["Ruiz", "ruiz", "MRN00020", "Jorge"])
def test_a_search_finds_the_patients_bookings_on_later_days(
    desk: Client, cast: DeskCast, q: str
) -> None:
    response = desk.get(f"/desk/appointments/?q={q}")

    assert names(response) == ["Ruiz"]
    html = response.content.decode()
    assert "Bookings from Mon 30 Nov 2026 on" in html
    assert "Reschedule" in html and "Unbook or cancel…" in html


def test_a_search_matching_more_patients_than_it_lists_says_so(
    desk: Client, cast: DeskCast
) -> None:
    # Ten other Garcías, first by name, none booked: María García López,
    # booked today, is the eleventh, past the patients a search lists.
    PatientFactory.create_batch(10, given_name="Ana", family_name="García Abad")

    broad = desk.get("/desk/appointments/?q=garcia")
    narrow = desk.get("/desk/appointments/?q=garcia+lopez")

    assert names(broad) == []
    assert "More than 10 patients match “garcia”" in broad.content.decode()
    assert names(narrow) == ["García López"]
    assert "patients match" not in narrow.content.decode()


def test_a_day_that_is_no_date_is_said_and_today_shown(
    desk: Client, cast: DeskCast
) -> None:
    response = desk.get("/desk/appointments/?day=tomorrow&surgeon=x")

    assert response.status_code == 200
    assert names(response) == ["García López"]
    assert "Not understood, so left out: day, surgeon." in response.content.decode()


@pytest.mark.parametrize("gone", ["unknown", "deactivated"])
def test_a_surgeon_the_select_does_not_offer_is_said_and_everyone_shown(
    desk: Client, cast: DeskCast, gone: str
) -> None:
    # An old bookmark, or an id typed by hand: it matched nobody, under a
    # select that said "Every surgeon".
    surgeon = cast.surgeon.pk
    if gone == "unknown":
        surgeon = 999_999
    else:
        cast.surgeon.active = False
        cast.surgeon.save(update_fields=["active"])

    response = desk.get(f"/desk/appointments/?surgeon={surgeon}")
    export = desk.get(f"/desk/appointments.csv?surgeon={surgeon}")

    assert names(response) == ["García López"]
    assert "Not understood, so left out: surgeon." in response.content.decode()
    assert response.context["state"].surgeon is None
    assert "García López" in export.content.decode()


def test_an_offered_surgeon_filters_the_list(desk: Client, cast: DeskCast) -> None:
    mine = desk.get(f"/desk/appointments/?surgeon={cast.surgeon.pk}&day={TOMORROW}")
    theirs = desk.get(
        f"/desk/appointments/?surgeon={cast.other_surgeon.pk}&day={TOMORROW}"
    )

    assert names(mine) == []
    assert names(theirs) == ["Ruiz"]
    assert "Not understood" not in theirs.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2032-06-01"])
def test_a_day_out_of_reach_is_said_and_today_shown_on_the_page_and_in_its_csv(
    desk: Client, cast: DeskCast, day: str
) -> None:
    # Its next or previous day would not exist, or it is years away: a typo.
    response = desk.get(f"/desk/appointments/?day={day}")

    assert response.status_code == 200
    assert names(response) == ["García López"]
    assert "Not understood, so left out: day." in response.content.decode()
    export = desk.get(f"/desk/appointments.csv?day={day}")
    assert export.status_code == 200
    assert "García López" in export.content.decode()


# Within the database's integers, but fifty rows a page past them: the
# query's OFFSET overflowed (a 500 on PostgreSQL).
HUGE_PAGE = str(2**62)


@pytest.mark.postgres
def test_a_page_past_any_list_is_said_and_the_first_page_shown(
    desk: Client, cast: DeskCast
) -> None:
    response = desk.get(f"/desk/appointments/?q=ruiz&page={HUGE_PAGE}")

    assert response.status_code == 200
    assert names(response) == ["Ruiz"]
    assert "Not understood, so left out: page." in response.content.decode()


@pytest.mark.postgres
def test_an_action_from_a_page_past_any_list_comes_back_to_its_first_page(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    back = f"place=appointments&page={HUGE_PAGE}"

    refused = post(desk, visit, "cancel", back, reason="")
    done = post(desk, visit, "unbook", back)

    assert refused.status_code == 400
    assert "Say why the visit is no longer needed." in refused.content.decode()
    assert (done.status_code, done["Location"]) == (
        302,
        f"/desk/appointments/#visit-{visit.pk}",
    )
    assert fresh(visit).status == VisitStatus.TO_BOOK


def test_with_htmx_a_search_answers_with_the_list_alone(
    desk: Client, cast: DeskCast
) -> None:
    response = desk.get(
        "/desk/appointments/?q=ruiz", HTTP_HX_TARGET="appointments", **HTMX
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="appointments"')
    assert "Ruiz" in html and "<h1>" not in html


# --- reschedule, unbook, cancel from the list -------------------------------------


def test_a_reschedule_without_javascript_opens_the_slots_and_comes_back(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.jorge, "postop_control")
    back = f"place=appointments&day={TOMORROW}"

    opened = desk.get(f"/desk/visits/{visit.pk}/?{back}&panel=slots")
    assert opened.status_code == 302
    page = desk.get(opened["Location"])
    row = next(item for item in page.context["items"] if item.pk == visit.pk)
    assert row.panel == "slots" and row.slots is not None and row.slots.slots

    later = TOMORROW_NINE + dt.timedelta(minutes=30)
    response = post(
        desk,
        visit,
        "reschedule",
        back,
        start=later.isoformat(),
        surgeon=cast.other_surgeon.pk,
    )

    assert response.status_code == 302
    assert response["Location"] == (
        f"/desk/appointments/?day={TOMORROW}#visit-{visit.pk}"
    )
    assert fresh(visit).start == later
    shown = desk.get(response["Location"]).content.decode()
    assert "Saved. Ruiz, Jorge · MRN00020: Moved to Tue 1 Dec 2026, 09:30" in shown


def test_a_reschedule_with_htmx_answers_with_the_row(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    later = NINE + dt.timedelta(hours=1)

    response = post(
        desk,
        visit,
        "reschedule",
        "place=appointments",
        start=later.isoformat(),
        surgeon=cast.surgeon.pk,
        htmx=True,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tbody id="visit-{visit.pk}"')
    assert "Saved. Moved to Mon 30 Nov 2026, 10:00" in html
    assert fresh(visit).start == later


@pytest.mark.parametrize("htmx", [False, True])
def test_unbook_from_the_appointments_gives_the_slot_back(
    desk: Client, cast: DeskCast, htmx: bool
) -> None:
    visit = cast.visit(cast.maria, "postop_control")

    response = post(desk, visit, "unbook", "place=appointments", htmx=htmx)

    assert fresh(visit).status == VisitStatus.TO_BOOK
    if htmx:
        assert "Saved. Unbooked" in response.content.decode()
    else:
        assert response["Location"] == f"/desk/appointments/#visit-{visit.pk}"
        assert names(desk.get("/desk/appointments/")) == []


def test_unbooking_the_last_row_of_the_last_page_comes_back_to_the_rows_left(
    desk: Client, cast: DeskCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.appointments.rows.PAGE_SIZE", 1)
    # María today, Jorge tomorrow: Jorge alone on page 2.
    jorge = cast.visit(cast.jorge, "postop_control")
    back = "place=appointments&q=MRN000&page=2"
    assert names(desk.get("/desk/appointments/?q=MRN000&page=2")) == ["Ruiz"]

    response = post(desk, jorge, "unbook", back)
    page = desk.get(response["Location"])

    assert fresh(jorge).status == VisitStatus.TO_BOOK
    assert names(page) == ["García López"]
    assert "No bookings from this day on" not in page.content.decode()


@pytest.mark.parametrize("htmx", [False, True])
def test_cancel_from_the_appointments_records_the_reason(
    desk: Client, cast: DeskCast, htmx: bool
) -> None:
    visit = cast.visit(cast.jorge, "postop_control")
    back = "place=appointments&q=ruiz"

    response = post(desk, visit, "cancel", back, reason="Seen elsewhere", htmx=htmx)

    assert fresh(visit).status == VisitStatus.CANCELLED
    assert fresh(visit).cancel_reason == "Seen elsewhere"
    if not htmx:
        assert response["Location"] == f"/desk/appointments/?q=ruiz#visit-{visit.pk}"


def test_a_refused_cancel_keeps_the_reason_typed_beside_the_row(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    typed = "Patient asked " + "x" * 600

    response = post(desk, visit, "cancel", "place=appointments", reason=typed)

    assert response.status_code == 400
    row = next(item for item in response.context["items"] if item.pk == visit.pk)
    assert row.panel == "change" and row.error
    assert typed in response.content.decode()
    assert fresh(visit).status == VisitStatus.BOOKED


# --- a stale action ----------------------------------------------------------------


def _moved_by_another_clerk(cast: DeskCast, visit: Visit) -> int:
    """The sequence this clerk's row showed, before desk2 moved the visit."""
    seen = fresh(visit).sequence
    services.reschedule_visit(
        visit_id=visit.pk,
        start=NINE + dt.timedelta(hours=2),
        surgeon_id=cast.surgeon.pk,
        actor=UserFactory.create(username="desk2", group="front_desk"),
        now=NINE - dt.timedelta(hours=1),
    )
    return seen


@pytest.mark.parametrize("place", ["", "place=appointments", "place=visit&visit="])
def test_a_stale_cancel_is_refused_with_who_changed_it_and_the_fresh_row(
    desk: Client, cast: DeskCast, place: str
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    seen = _moved_by_another_clerk(cast, visit)
    back = f"{place}{visit.pk}" if place.endswith("=") else place

    response = desk.post(
        f"/desk/visits/{visit.pk}/cancel/",
        {"back": back, "sequence": seen, "reason": "Feeling better"},
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "desk2 moved it to Mon 30 Nov 2026, 11:00" in html
    assert 'value="Feeling better"' in html  # what was typed, kept
    assert f'name="sequence" value="{seen + 1}"' in html  # the fresh row's
    assert fresh(visit).status == VisitStatus.BOOKED


def test_a_stale_reschedule_with_htmx_answers_with_the_fresh_row(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    seen = _moved_by_another_clerk(cast, visit)

    response = desk.post(
        f"/desk/visits/{visit.pk}/reschedule/",
        {
            "back": "place=appointments",
            "sequence": seen,
            "start": (NINE + dt.timedelta(hours=3)).isoformat(),
            "surgeon": cast.surgeon.pk,
        },
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "This visit changed after it was shown: desk2 moved it" in html
    assert "11:00" in html  # the slot desk2 chose, on the fresh row
    assert fresh(visit).start == NINE + dt.timedelta(hours=2)


def test_a_stale_cancel_on_the_visits_page_with_htmx_shows_its_facts_as_they_are(
    desk: Client, cast: DeskCast
) -> None:
    # "Here it is as it now is": the page's slot and history too, not the
    # row alone under a slot still at 09:00.
    visit = cast.visit(cast.maria, "postop_control")
    seen = _moved_by_another_clerk(cast, visit)

    response = desk.post(
        f"/desk/visits/{visit.pk}/cancel/",
        {
            "back": f"place=visit&visit={visit.pk}",
            "sequence": seen,
            "reason": "Feeling better",
        },
        **HTMX,
    )

    html = response.content.decode().replace("\N{EN DASH}", "-")
    assert "This visit changed after it was shown: desk2 moved it" in html
    assert 'value="Feeling better"' in html
    facts = html[html.index('<dl id="visit-facts"') :]
    facts = facts[: facts.index("</dl>")]
    assert 'hx-swap-oob="true"' in facts
    assert "Mon 30 Nov 2026, 11:00-11:20 with" in facts
    history = html[html.index('<ol id="visit-history"') :]
    assert "Rescheduled" in history[: history.index("</ol>")]
    assert fresh(visit).status == VisitStatus.BOOKED


def test_a_sequence_that_is_no_number_is_refused_and_changes_nothing(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")

    response = desk.post(
        f"/desk/visits/{visit.pk}/unbook/",
        {"back": "place=appointments", "sequence": "abc"},
    )

    assert response.status_code == 400
    assert "reload the page" in response.content.decode()
    assert fresh(visit).status == VisitStatus.BOOKED


# --- a visit's own page --------------------------------------------------------------


@pytest.mark.parametrize("cancelled", [False, True])
def test_a_visits_own_url_shows_the_visit_whatever_its_state(
    desk: Client, cast: DeskCast, cancelled: bool
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    if cancelled:
        services.cancel_visit(
            visit_id=visit.pk, reason="Seen elsewhere", actor=None, now=NINE
        )

    response = desk.get(f"/desk/visits/{visit.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Post-operative control for María García López</h1>" in html
    if cancelled:
        assert "Nothing more can be done to a cancelled visit." in html
        assert "Reschedule" not in html
    else:
        assert "Mon 30 Nov 2026, 09:00" in html
        assert "Reschedule" in html and "Check in" in html


def test_a_checked_in_visits_page_offers_complete_not_nothing_more(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    services.check_in_visit(visit_id=visit.pk, actor=None, now=NINE)

    html = desk.get(f"/desk/visits/{visit.pk}/").content.decode()

    assert "Nothing more can be done" not in html
    assert f'action="/desk/visits/{visit.pk}/complete/"' in html
    assert "complete the visit once they have been seen" in html
    response = desk.post(
        f"/desk/visits/{visit.pk}/complete/",
        {"back": "", "sequence": fresh(visit).sequence},
    )
    assert fresh(visit).status == VisitStatus.COMPLETED
    page = desk.get(response["Location"]).content.decode()
    assert "Saved. García López, María · MRN00012: Completed." in page


def test_an_action_on_the_visits_page_comes_back_to_it(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")

    response = post(desk, visit, "check-in", f"place=visit&visit={visit.pk}")

    assert response["Location"] == f"/desk/visits/{visit.pk}/#visit-{visit.pk}"
    assert fresh(visit).status == VisitStatus.CHECKED_IN
    page = desk.get(f"/desk/visits/{visit.pk}/").content.decode()
    assert "Saved. García López, María · MRN00012: Checked in." in page


def test_a_reschedule_never_offers_the_time_the_visit_already_holds(
    desk: Client, cast: DeskCast
) -> None:
    # Its own time is free to it, but a move there changes nothing but its
    # history: Jorge is booked tomorrow at 09:00 with Ortega.
    visit = cast.visit(cast.jorge, "postop_control")
    back = f"place=appointments&day={TOMORROW}"

    opened = desk.get(
        f"/desk/visits/{visit.pk}/?{back}&panel=slots&slots_day={TOMORROW}"
    )
    page = desk.get(opened["Location"])

    row = next(item for item in page.context["items"] if item.pk == visit.pk)
    starts = [slot.start for slot in row.slots.slots]
    assert starts and all(start.date() == TOMORROW for start in starts)
    assert TOMORROW_NINE not in starts
    assert TOMORROW_NINE + dt.timedelta(minutes=20) in starts


def test_when_its_own_time_was_the_only_free_one_the_panel_says_all_are_taken(
    cast: DeskCast,
) -> None:
    visit = cast.visit(cast.jorge, "postop_control")
    own = Slot(
        start=TOMORROW_NINE,
        end=TOMORROW_NINE + dt.timedelta(minutes=20),
        surgeon_id=cast.other_surgeon.pk,
    )

    search = _but_its_own(SlotSearch([own]), visit, TOMORROW, TOMORROW, False)

    assert search.slots == []
    assert no_slots(search, SlotAsk(day=TOMORROW)) == (
        f"Every slot of {cast.other_surgeon} on {day_words(TOMORROW)} is taken. "
        "Choose another day, or see the soonest slots."
    )


def test_the_visits_page_opens_the_slots_without_javascript(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")

    response = desk.get(
        f"/desk/visits/{visit.pk}/?place=visit&visit={visit.pk}&panel=slots"
    )

    assert response.status_code == 200
    assert response.context["item"].slots.slots
    assert "Move to" in response.content.decode()


# --- the patient page ----------------------------------------------------------------


def test_the_patient_page_offers_a_bookings_moves_and_comes_back_to_it(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    patient_page = f"/desk/patients/{cast.maria.pk}/"

    html = desk.get(patient_page).content.decode()
    back = f"place=visit&amp;visit={visit.pk}&amp;patient={cast.maria.pk}"
    assert f"/desk/visits/{visit.pk}/?{back}&amp;panel=slots" in html
    assert "Reschedule" in html and "Unbook or cancel…" in html
    assert "Check in" in html

    opened = desk.get(
        f"/desk/visits/{visit.pk}/?place=visit&visit={visit.pk}"
        f"&patient={cast.maria.pk}&panel=slots"
    )
    assert opened.status_code == 200 and opened.context["item"].slots.slots
    later = NINE + dt.timedelta(hours=1)
    response = post(
        desk,
        visit,
        "reschedule",
        f"place=visit&visit={visit.pk}&patient={cast.maria.pk}",
        start=later.isoformat(),
        surgeon=cast.surgeon.pk,
    )

    assert response["Location"] == f"{patient_page}#visit-{visit.pk}"
    assert fresh(visit).start == later
    assert "Moved to Mon 30 Nov 2026, 10:00" in desk.get(patient_page).content.decode()


@pytest.mark.parametrize("from_patient", [False, True])
def test_a_move_done_on_the_visits_page_with_htmx_shows_the_page_as_it_now_is(
    desk: Client, cast: DeskCast, from_patient: bool
) -> None:
    # The page's facts (the slot) and its history above and below the row
    # changed too: never "Moved to 10:00" beside a slot still at 09:00.
    visit = cast.visit(cast.maria, "postop_control")
    back = f"place=visit&visit={visit.pk}"
    if from_patient:
        back += f"&patient={cast.maria.pk}"
    later = NINE + dt.timedelta(hours=1)

    response = post(
        desk,
        visit,
        "reschedule",
        back,
        start=later.isoformat(),
        surgeon=cast.surgeon.pk,
        htmx=True,
    )

    there = (
        f"/desk/patients/{cast.maria.pk}/"
        if from_patient
        else f"/desk/visits/{visit.pk}/"
    )
    assert response["HX-Redirect"] == f"{there}#visit-{visit.pk}"
    assert fresh(visit).start == later
    html = desk.get(there).content.decode().replace("\N{EN DASH}", "-")
    assert "Saved. García López, María · MRN00012: Moved to Mon 30 Nov 2026, 10:00" in (
        html
    )
    assert "Mon 30 Nov 2026, 10:00-10:20 with" in html
    assert "Mon 30 Nov 2026, 09:00-09:20 with" not in html


def test_a_surgeon_sees_the_patient_page_without_the_desks_moves(
    client: Client, cast: DeskCast
) -> None:
    cast.surgeon.user = UserFactory.create(username="moreno", group="surgeon")
    cast.surgeon.save(update_fields=["user"])
    client.force_login(cast.surgeon.user)

    html = client.get(f"/desk/patients/{cast.maria.pk}/").content.decode()

    assert "Unbook or cancel…" not in html
    assert "/desk/visits/" not in html


# --- a GET of a form's URL -----------------------------------------------------------


def test_a_get_of_the_patient_pages_forms_shows_the_patient(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    page = f"/desk/patients/{cast.maria.pk}/"

    for url, anchor in (
        (f"{page}visits/{visit.pk}/contact/", f"#visit-{visit.pk}"),
        (f"{page}mri-studies/", "#mri-studies"),
        (f"{page}calendar-link/", "#calendar-link"),
    ):
        response = desk.get(url)
        assert (response.status_code, response["Location"]) == (302, page + anchor)
    assert desk.get(page).status_code == 200


def test_a_form_whose_list_address_cannot_be_read_gets_a_page_and_changes_nothing(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.maria, "postop_control")

    response = post(desk, visit, "unbook", "place=appointments&q=\x00")

    assert response.status_code == 400
    assert "That request could not be read" in response.content.decode()
    assert fresh(visit).status == VisitStatus.BOOKED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_moving_one_booking_from_the_page_at_once_get_one_winner(
    cast: DeskCast, front_desk: User
) -> None:
    visit = cast.visit(cast.maria, "postop_control")
    seen = fresh(visit).sequence

    def clerk(hours: int) -> Callable[[], int]:
        def move() -> int:
            client = Client()
            client.force_login(front_desk)
            response = client.post(
                f"/desk/visits/{visit.pk}/reschedule/",
                {
                    "back": "place=appointments",
                    "sequence": seen,
                    "start": (NINE + dt.timedelta(hours=hours)).isoformat(),
                    "surgeon": cast.surgeon.pk,
                },
            )
            return response.status_code

        return move

    answers = at_once([clerk(1), clerk(2)])

    assert sorted(answers) == [302, 409]
    assert fresh(visit).sequence == seen + 1
    assert visit.events.filter(action="rescheduled").count() == 1
