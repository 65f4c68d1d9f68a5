"""A clinic admin manages calendars too: links, export state, CalDAV settings.

The groups were created before this app had models, so its permissions were
missing from `clinic_admin`; SPEC section 1 lets the admin revoke any link.
"""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    app_config = apps.get_app_config("feeds")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="clinic_admin")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="feeds"))


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="clinic_admin"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="feeds")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0005_entry_rendered_format"),
        ("followup", "0002_default_protocol_and_groups"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
