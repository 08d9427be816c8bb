"""Which accounts mailed an address, by index: the blocklist shows a new invalid-address block
to each of them (blocklist.changes.show_new_invalid_blocks)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0012_message_fewer_indexes"),
        ("sesconsole", "0003_tc3key_moves_to_tencent"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["recipient", "account"], name="message_recipient_account"),
        ),
    ]
