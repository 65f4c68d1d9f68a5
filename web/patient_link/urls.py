"""The patient's booking page and its `.ics`: no login, the token is the key.
Also served ahead of the session middleware (`web.patient_link.middleware`)."""

from django.urls import path

from web.patient_link import views

page_patterns = [
    path("p/<str:token>/", views.booking_page, name="booking-page"),
    path("p/<str:token>/visit.ics", views.booking_calendar, name="booking-calendar"),
]
