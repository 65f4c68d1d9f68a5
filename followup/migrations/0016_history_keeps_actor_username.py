"""Visit events and contact attempts keep their author's username:
deleting an account empties `actor`, and the history would no
longer say who did what. Rows already written take their author's current
username; a row whose author was deleted before now stays nameless.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    User = apps.get_model("auth", "User")
    username = Subquery(User.objects.filter(pk=OuterRef("actor_id")).values("username")[:1])
    for name in ("VisitEvent", "ContactAttempt"):
        model = apps.get_model("followup", name)
        model.objects.filter(actor__isnull=False).update(actor_username=username)


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0015_clinic_admin_without_permission_rights"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="contactattempt",
            name="actor_username",
            field=models.CharField(blank=True, editable=False, max_length=150),
        ),
        migrations.AddField(
            model_name="visitevent",
            name="actor_username",
            field=models.CharField(blank=True, editable=False, max_length=150),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
