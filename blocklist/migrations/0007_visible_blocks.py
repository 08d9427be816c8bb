"""Which invalid-address blocks each account may see, kept as rows (VisibleBlock), filled
here from the active blocks: each block's trigger, and every account that mailed its
address. Released blocks are not shown by any list, so they get no rows."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("blocklist", "0006_invalid_surges"),
        ("delivery", "0013_message_recipient_account"),
        ("sesconsole", "0003_tc3key_moves_to_tencent"),
    ]

    operations = [
        migrations.CreateModel(
            name="VisibleBlock",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "account",
                        "blocked_at",
                        "block",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("blocked_at", models.DateTimeField()),
                (
                    "account",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="sesconsole.account",
                    ),
                ),
                (
                    "block",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="visible_to",
                        to="blocklist.block",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(
            # UNION drops the pairs both halves name; the table is new, so nothing else clashes.
            """
            INSERT INTO blocklist_visibleblock (account_id, blocked_at, block_id)
            SELECT account_id, blocked_at, id FROM blocklist_block
            WHERE kind = 'invalid' AND released_at IS NULL
            UNION
            SELECT m.account_id, b.blocked_at, b.id
            FROM blocklist_block b JOIN delivery_message m ON m.recipient = b.address
            WHERE b.kind = 'invalid' AND b.released_at IS NULL
            """,
            migrations.RunSQL.noop,
        ),
    ]
