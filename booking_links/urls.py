"""The booking-link API; the patient's page itself is web's (`/p/<token>/`)."""

from django.urls import path

from booking_links import api

urlpatterns = [
    path(
        "api/visits/<int:pk>/booking-link/",
        api.CreateBookingLink.as_view(),
        name="visit-booking-link",
    ),
]
