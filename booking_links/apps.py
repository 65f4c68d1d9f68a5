"""Booking links sit above `followup` and `clinic`: they read visits and book
them through `followup.services`; neither of those imports this app. Their
figures join the follow-up report through `followup.report_figures`."""

from django.apps import AppConfig


class BookingLinksConfig(AppConfig):
    name = "booking_links"
    verbose_name = "Booking links"

    def ready(self) -> None:
        from booking_links import figures  # models are ready only now
        from followup import report_figures

        report_figures.register(figures.PROVIDER)
