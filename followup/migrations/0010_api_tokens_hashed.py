"""API tokens move from DRF's authtoken (plain text, no expiry) to knox
(SHA-512 digests, expiring).

Removes what authtoken left in a database that had it: its table (the old
tokens stop working; issue new ones with `manage.py create_api_token`), its
content types and permissions, and its migration records. Clinic admins may
see and revoke (delete) knox tokens in the admin, never read one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="authtoken").delete()
    schema_editor.execute("DROP TABLE IF EXISTS authtoken_token")
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")

    knox = apps.get_app_config("knox")
    knox.models_module = True
    create_permissions(knox, verbosity=0, apps=apps)
    knox.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin_group, _ = Group.objects.get_or_create(name="clinic_admin")
    admin_group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="knox",
            codename__in=["view_authtoken", "delete_authtoken"],
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0009_replan_job"),
        ("knox", "0009_extend_authtoken_field"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Backwards leaves knox's grants: the old plain-text tokens are gone.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
