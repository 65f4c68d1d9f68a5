"""Booking links sit above `followup` and `clinic`: they read visits and book
them through `followup.services`; neither of those imports this app. Their
figures join the follow-up report through `followup.report_figures`, and a
wrong number reported ends the patient's links (`followup.changes`)."""

from django.apps import AppConfig


class BookingLinksConfig(AppConfig):
    name = "booking_links"
    verbose_name = "Booking links"

    def ready(self) -> None:
        from booking_links import figures, services  # models are ready only now
        from followup import changes, report_figures

        report_figures.register(figures.PROVIDER)
        changes.on_number_reached_someone_else(services.end_patients_links)
