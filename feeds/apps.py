"""The calendars: feeds, links, rendering and the CalDAV export.

`feeds` sits above `followup` and `clinic`: it reads their models and is
told of every visit change through `followup.changes`, registered here.
Neither of them imports `feeds`.
"""

from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Calendars"

    def ready(self) -> None:
        from feeds import export, versions  # models are ready only now
        from followup import changes

        changes.on_visits_changed(export.visits_changed)
        changes.on_milestones_changed(versions.bump_patient_feeds)
        # Registers the tasks, which `feeds.export` sends by name
        # (`core.queue`), in every process, not only workers.
        from feeds import tasks  # noqa: F401

        self._forget_links_when_their_holders_change()

        from auditlog.registry import auditlog

        from feeds.models import CalendarLink

        # The audit trail of links (clinic.audit): who created, rotated and
        # revoked which. Never the token's hash; the poll's last-use time
        # and the feed stamp are written by .update(), outside the trail.
        auditlog.register(
            CalendarLink,
            exclude_fields=[
                "token_hash",
                "feed",
                "feed_version",
                "feed_changed_at",
                "last_used_at",
            ],
        )

    @staticmethod
    def _forget_links_when_their_holders_change() -> None:
        # Other processes hear of it from the database (feeds.link_cache);
        # this one forgets its links at commit, before its reply leaves: a
        # link saved (rotated, revoked), a user, a group or a surgeon. Bulk
        # updates send no signal: `versions.bump` forgets explicitly.
        from django.contrib.auth.models import Group, User
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from clinic.models import Surgeon
        from feeds.link_cache import clearing_on_commit
        from feeds.models import CalendarLink

        for model in (CalendarLink, User, Group, Surgeon):
            post_save.connect(clearing_on_commit, sender=model, weak=False)
            post_delete.connect(clearing_on_commit, sender=model, weak=False)
        m2m_changed.connect(clearing_on_commit, sender=User.groups.through, weak=False)
