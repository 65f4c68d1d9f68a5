"""The patient's booking page and its `.ics`: no login, the token is the key.
Also served ahead of the session middleware (`web.patient_link.middleware`),
as is every other address under /p/: none reaches the staff's pages, their
404 or Django's APPEND_SLASH redirect, which are not private."""

from django.urls import path, re_path

from web.patient_link import views

page_patterns = [
    path("p/<str:token>/", views.booking_page, name="booking-page"),
    path("p/<str:token>/visit.ics", views.booking_calendar, name="booking-calendar"),
    # The page's address with its last slash cut (a messages app may).
    path("p/<str:token>", views.add_slash),
    # Last: any other address under /p/.
    re_path(r"^p/", views.unknown),
]
