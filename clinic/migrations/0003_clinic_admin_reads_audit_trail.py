"""Clinic admins read the audit trail: audit entries and patient views.

View rights only: nobody is granted to add, change or delete a row of the
trail (and the admin refuses it to superusers too).
"""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

RIGHTS = [("auditlog", "view_logentry"), ("clinic", "view_patientview")]


def _rights(apps: Apps) -> list[object]:
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in RIGHTS
    ]


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for label in ("auditlog", "clinic"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name="clinic_admin")
    group.permissions.add(*_rights(apps))


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="clinic_admin"):
        group.permissions.remove(*_rights(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_patient_view"),
        ("auditlog", "0017_add_actor_email"),
        ("followup", "0002_default_protocol_and_groups"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
