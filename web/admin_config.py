from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    """Django's admin on the clinic's site, which only clinic admins enter.

    Stands in for "django.contrib.admin" in INSTALLED_APPS, so every
    `@admin.register` in clinic, followup and feeds lands on that site.
    """

    default_site = "web.admin_site.ClinicAdminSite"
