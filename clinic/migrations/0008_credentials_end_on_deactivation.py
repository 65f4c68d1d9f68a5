"""Credentials end however an account is deactivated.

A trigger on `auth_user`, for each row whose `is_active` goes from true to
false (a save, a bulk `update()`, raw SQL alike), counts one more
deactivation in `clinic_credentialsepoch` and deletes the account's API
tokens. Sessions cannot be found by user in the database, so each one
remembers the count it signed in under and is ended by
`web.middleware.CredentialsEpochMiddleware` when the count moved on.
PostgreSQL and SQLite both.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRESQL = """
CREATE FUNCTION clinic_credentials_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO clinic_credentialsepoch (user_id, epoch) VALUES (NEW.id, 1)
    ON CONFLICT (user_id)
    DO UPDATE SET epoch = clinic_credentialsepoch.epoch + 1;
    DELETE FROM knox_authtoken WHERE user_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER clinic_credentials_end
    AFTER UPDATE OF is_active ON auth_user
    FOR EACH ROW WHEN (OLD.is_active AND NOT NEW.is_active)
    EXECUTE FUNCTION clinic_credentials_end();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS clinic_credentials_end ON auth_user;
DROP FUNCTION IF EXISTS clinic_credentials_end();
"""

SQLITE = """
CREATE TRIGGER clinic_credentials_end
    AFTER UPDATE OF is_active ON auth_user
    FOR EACH ROW WHEN OLD.is_active AND NOT NEW.is_active
BEGIN
    INSERT INTO clinic_credentialsepoch (user_id, epoch) VALUES (NEW.id, 1)
    ON CONFLICT (user_id) DO UPDATE SET epoch = epoch + 1;
    DELETE FROM knox_authtoken WHERE user_id = NEW.id;
END;
"""

SQLITE_DROP = "DROP TRIGGER IF EXISTS clinic_credentials_end;"


def _by_vendor(postgresql, sqlite):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        sql = {"postgresql": postgresql, "sqlite": sqlite}.get(vendor)
        if sql is None:
            raise RuntimeError(f"No credentials trigger for {vendor}.")
        schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("knox", "0009_extend_authtoken_field"),
        ("clinic", "0007_record_number_safe_characters"),
    ]

    operations = [
        migrations.CreateModel(
            name="CredentialsEpoch",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="credentials_epoch",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("epoch", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(
            _by_vendor(POSTGRESQL, SQLITE), _by_vendor(POSTGRESQL_DROP, SQLITE_DROP)
        ),
    ]
