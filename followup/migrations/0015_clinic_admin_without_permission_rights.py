"""The `clinic_admin` group loses the rights over permissions themselves
(`auth.{add,change,delete,view}_permission`).

0002 granted every `auth` right; the roles' rights are the migrations'
business, and only a superuser changes them (web.admin_users). Backwards
gives them back.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CODENAMES = [
    f"{action}_permission" for action in ("add", "change", "delete", "view")
]


def _rights(apps: StateApps) -> list[object]:
    Permission = apps.get_model("auth", "Permission")
    return list(
        Permission.objects.filter(
            content_type__app_label="auth", codename__in=CODENAMES
        )
    )


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for group in apps.get_model("auth", "Group").objects.filter(name="clinic_admin"):
        group.permissions.remove(*_rights(apps))


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for group in apps.get_model("auth", "Group").objects.filter(name="clinic_admin"):
        group.permissions.add(*_rights(apps))


class Migration(migrations.Migration):
    dependencies = [("followup", "0014_import_jobs")]

    operations = [migrations.RunPython(forwards, backwards)]
