"""The offer texts still queued end with their offers (`Message.send_until`),
as every offer text written from now on does."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import OuterRef, Subquery


def end_queued_texts_with_their_offers(
    apps: Apps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    Offer = apps.get_model("offers", "Offer")
    Message = apps.get_model("messaging", "Message")
    ends = Offer.objects.filter(message=OuterRef("pk")).values("expires_at")[:1]
    Message.objects.filter(kind="offer", status="queued", send_until=None).update(
        send_until=Subquery(ends)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0005_messages_end_with_what_they_offer"),
        ("offers", "0001_offers"),
    ]

    operations = [
        migrations.RunPython(
            end_queued_texts_with_their_offers, migrations.RunPython.noop
        ),
    ]
