# Email status search by part of an address and by subject words: trigram GIN indexes on
# PostgreSQL (pg_trgm), plain indexes on SQLite (see sesconsole.lib.indexes.SearchIndex).

from django.db import migrations

import sesconsole.lib.indexes


def trigram_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0009_status_label_not_reported_yet"),
        ("sesconsole", "0003_tc3key_moves_to_tencent"),
    ]

    operations = [
        # Kept on the way back: other schemas may use it.
        migrations.RunPython(trigram_extension, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="message",
            index=sesconsole.lib.indexes.SearchIndex(
                fields=["recipient"], name="message_recipient_search"
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=sesconsole.lib.indexes.SearchIndex(
                fields=["subject"], name="message_subject_search"
            ),
        ),
    ]
