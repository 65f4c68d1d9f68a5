"""A link says whether a management command issued its current URL,
instead of that being read from an empty issuer.

Existing links all start as issued by a person. An existing patient or
clinic link with no issuer (no `created_by`, or rotated with no
`rotated_by`) was either made by code run by hand or issued by someone whose
account was since deleted; nothing recorded tells the two apart, and no
management command of this project makes links. Ambiguous is dead: such a
link gets a 404 from now on, and the desk or an admin rotates it (a new URL
under their name) if it is still wanted. Surgeon links are unaffected (they
live by the surgeon's own login).

Every web process is told to forget the links it holds (`feeds_links`), so
none keeps serving one this migration ended.
"""

from django.db import migrations, models


def forget_held_links(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SELECT pg_notify('feeds_links', '')")


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0010_link_change_notifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="calendarlink",
            name="issued_by_command",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(forget_held_links, migrations.RunPython.noop),
    ]
