from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.contrib.auth.models import User
        from django.db.models.signals import post_save

        from clinic.models import Patient, Procedure
        from clinic.withdrawal import on_user_saved

        # A deactivated account's sessions and API tokens end with it.
        post_save.connect(on_user_saved, sender=User, dispatch_uid="clinic-withdraw")

        # The audit trail of writes (clinic.audit). Timestamps that move on
        # every save add nothing to the diff; a password hash must never be
        # in it, not even half (auditlog's default mask): a change of password
        # shows as the field's name with both values hidden.
        auditlog.register(Patient, exclude_fields=["updated_at"])
        auditlog.register(Procedure, exclude_fields=["updated_at"])
        auditlog.register(
            User,
            exclude_fields=["last_login"],
            mask_fields=["password"],
            mask_callable="clinic.audit.hidden",
            m2m_fields=["groups", "user_permissions"],
        )
