from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    """Fill the first human open/click of messages stored before those fields existed."""
    Message = apps.get_model("delivery", "Message")
    DeliveryEvent = apps.get_model("delivery", "DeliveryEvent")
    for field, event_type in (
        ("first_human_opened_at", "opened"),
        ("first_human_clicked_at", "clicked"),
    ):
        first = (
            DeliveryEvent.objects.filter(message=OuterRef("pk"), type=event_type, is_machine=False)
            .order_by("timestamp")
            .values("timestamp")[:1]
        )
        source = "first_opened_at" if event_type == "opened" else "first_clicked_at"
        Message.objects.filter(**{field: None, f"{source}__isnull": False}).update(
            **{field: Subquery(first)}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0003_human_engagement"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
