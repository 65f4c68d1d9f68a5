"""Offers sit above `followup`, `booking_links` and `messaging`: they hear of
freed slots and bookings through `followup.changes`, write their messages
to the outbox, are claimed through the booking link, and add their figures
to the follow-up report (`followup.report_figures`). None of those imports
this app."""

from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = "Offers of freed slots"

    def ready(self) -> None:
        from followup import changes, report_figures
        from offers import bookkeeping, figures, freeing  # models are ready now

        changes.on_slot_freed(freeing.slot_freed)
        changes.on_visits_changed(bookkeeping.visits_changed)
        report_figures.register(figures.PROVIDER)
        # Registers the beat task in every process, not only workers.
        from offers import tasks  # noqa: F401
