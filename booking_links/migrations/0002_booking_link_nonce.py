"""Booking links keep the random nonce their token is derived from, so the
server can put a visit's live link in a message at send time; links made
before have none (they still open, they are not derivable)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('booking_links', '0001_booking_links'),
    ]

    operations = [
        migrations.AddField(
            model_name='bookinglink',
            name='nonce',
            field=models.CharField(blank=True, default='', editable=False, max_length=32),
        ),
    ]
