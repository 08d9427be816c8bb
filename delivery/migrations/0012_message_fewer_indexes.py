"""Fewer index writes per message: no separate account index (every message index starts with
the account), and free space on each page so that a fold's update can stay on the page
without touching the indexes (a HOT update) when no indexed column changes."""

import django.db.models.deletion
from django.db import migrations, models

from sesconsole.lib.migrations import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0011_event_key_claim"),
        ("sesconsole", "0003_tc3key_moves_to_tencent"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deliveryeventkey",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="sesconsole.account",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="messages",
                to="sesconsole.account",
            ),
        ),
        # New pages keep a fifth free; existing pages are rewritten by VACUUM FULL or pg_repack.
        PostgresOnlySQL(
            "ALTER TABLE delivery_message SET (fillfactor = 80)",
            "ALTER TABLE delivery_message RESET (fillfactor)",
        ),
    ]
