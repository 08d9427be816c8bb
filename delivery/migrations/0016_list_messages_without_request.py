"""Messages stored before 0015 whose request never arrived: listed at their earliest event.

Only rows without a request time are read (one pass over the message table) and written;
a row whose events have all expired keeps no time.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Message = apps.get_model("delivery", "Message")
    DeliveryEvent = apps.get_model("delivery", "DeliveryEvent")
    earliest = (
        DeliveryEvent.objects.filter(message=OuterRef("pk"))
        .order_by("timestamp")
        .values("timestamp")[:1]
    )
    Message.objects.filter(requested_at=None).update(
        requested_at=Subquery(earliest), request_received=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0015_message_request_received"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
