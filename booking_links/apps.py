"""Booking links sit above `followup` and `clinic`: they read visits and book
them through `followup.services`; neither of those imports this app."""

from django.apps import AppConfig


class BookingLinksConfig(AppConfig):
    name = "booking_links"
    verbose_name = "Booking links"
