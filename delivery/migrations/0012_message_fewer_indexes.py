"""Fewer index writes per message: no separate account index (every message index starts with
the account), and free space on each page so that a fold's update can stay on the page
without touching the indexes (a HOT update) when no indexed column changes."""

import django.db.models.deletion
from django.db import migrations, models


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that does nothing on other databases (fillfactor is PostgreSQL's)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


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
