from django.apps import AppConfig


class WebConfig(AppConfig):
    """The people's pages: the top layer, over clinic, followup and feeds."""

    name = "web"
    verbose_name = "Pages"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from clinic.withdrawal import remember_epoch
        from web.middleware import start_activity_clock

        # Django's own login hook (not domain flow): the session's activity
        # time starts at sign-in, so the first page writes no session.
        user_logged_in.connect(start_activity_clock, dispatch_uid="web-activity")
        # And it lives under the account's current deactivation count.
        user_logged_in.connect(remember_epoch, dispatch_uid="web-credentials-epoch")
