"""The overview's tiles count an account's active blocks of each kind from an index alone."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("blocklist", "0007_visible_blocks"),
        ("delivery", "0013_message_recipient_account"),
        ("sesconsole", "0003_tc3key_moves_to_tencent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="block",
            index=models.Index(
                condition=models.Q(("released_at", None)),
                fields=["account", "kind", "expires_at"],
                name="block_unreleased_account_kind",
            ),
        ),
    ]
