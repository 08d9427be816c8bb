"""Tc3Key now belongs to the tencent app; the table and its rows are kept (state only)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sesconsole", "0002_tc3_credentials"),
        ("tencent", "0001_tc3key_from_sesconsole"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Tc3Key")],
            database_operations=[],
        ),
    ]
