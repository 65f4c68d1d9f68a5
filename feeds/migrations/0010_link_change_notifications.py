"""Writes that change what a feed poll may find NOTIFY `feeds_links`, so
that every web process drops the links it holds in memory
(`feeds.link_cache`). PostgreSQL only; elsewhere nothing is held.

- a link row changed (but for the poll's own `last_used_at`) or deleted:
  the payload is its old token hash, and only that link is dropped;
- a user's `is_active` or `is_superuser`, a group membership, a group's
  name, a surgeon's login: the payload is empty, and every link is dropped.
"""

from django.db import migrations

CHANNEL = "feeds_links"

CREATE = f"""
CREATE FUNCTION feeds_link_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       OR (to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM
          (to_jsonb(NEW) - 'last_used_at') THEN
        PERFORM pg_notify('{CHANNEL}', OLD.token_hash);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION feeds_link_holders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END $$;

CREATE TRIGGER feeds_link_changed
    AFTER UPDATE OR DELETE ON feeds_calendarlink
    FOR EACH ROW EXECUTE FUNCTION feeds_link_changed();
CREATE TRIGGER feeds_link_table_emptied
    AFTER TRUNCATE ON feeds_calendarlink
    FOR EACH STATEMENT EXECUTE FUNCTION feeds_link_holders_changed();
CREATE TRIGGER feeds_link_holders_changed
    AFTER UPDATE OF is_active, is_superuser OR DELETE OR TRUNCATE ON auth_user
    FOR EACH STATEMENT EXECUTE FUNCTION feeds_link_holders_changed();
CREATE TRIGGER feeds_link_holders_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth_user_groups
    FOR EACH STATEMENT EXECUTE FUNCTION feeds_link_holders_changed();
CREATE TRIGGER feeds_link_holders_changed
    AFTER UPDATE OF name OR DELETE OR TRUNCATE ON auth_group
    FOR EACH STATEMENT EXECUTE FUNCTION feeds_link_holders_changed();
CREATE TRIGGER feeds_link_holders_changed
    AFTER UPDATE OF user_id OR DELETE OR TRUNCATE ON clinic_surgeon
    FOR EACH STATEMENT EXECUTE FUNCTION feeds_link_holders_changed();
"""

DROP = """
DROP TRIGGER IF EXISTS feeds_link_holders_changed ON clinic_surgeon;
DROP TRIGGER IF EXISTS feeds_link_holders_changed ON auth_group;
DROP TRIGGER IF EXISTS feeds_link_holders_changed ON auth_user_groups;
DROP TRIGGER IF EXISTS feeds_link_holders_changed ON auth_user;
DROP TRIGGER IF EXISTS feeds_link_table_emptied ON feeds_calendarlink;
DROP TRIGGER IF EXISTS feeds_link_changed ON feeds_calendarlink;
DROP FUNCTION IF EXISTS feeds_link_holders_changed();
DROP FUNCTION IF EXISTS feeds_link_changed();
"""


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("clinic", "0005_procedure_ids_by_surgeon"),
        ("feeds", "0009_caldav_password_encrypted_https_only"),
    ]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
