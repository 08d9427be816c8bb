"""Whether a message's request (or rejection) has arrived.

A column with a constant default: on PostgreSQL 11+ adding it rewrites no rows. Rows stored
before it had their request or rejection if their `requested_at` is set (the default, true,
says so); 0016 sets the others.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0014_inbound_report_once_per_submitter"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="request_received",
            field=models.BooleanField(
                db_default=True,
                default=True,
                help_text="False while neither the request nor a rejection of the message has "
                "arrived: `requested_at` is then the time of its earliest known event.",
            ),
        ),
    ]
