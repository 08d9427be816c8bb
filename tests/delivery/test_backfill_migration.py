"""The 0004 data migration fills first human opens/clicks of messages stored before 0003."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("delivery", "0003_human_engagement")]
AFTER = [("delivery", "0004_backfill_first_human_engagement")]


def test_it_backfills_first_human_opens_and_clicks():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Account = apps.get_model("sesconsole", "Account")
    Message = apps.get_model("delivery", "Message")
    Event = apps.get_model("delivery", "DeliveryEvent")
    account = Account.objects.create(name="old")
    m = Message.objects.create(
        account=account,
        message_id="m1",
        first_opened_at="2026-11-01T10:00Z",
        first_clicked_at="2026-11-01T10:05Z",
    )
    untouched = Message.objects.create(account=account, message_id="m2")
    for event_id, type_, ts, machine in [
        ("e1", "opened", "2026-11-01T10:00Z", True),  # a proxy prefetch
        ("e2", "opened", "2026-11-01T11:00Z", False),
        ("e3", "opened", "2026-11-01T12:00Z", False),
        ("e4", "clicked", "2026-11-01T10:05Z", False),
    ]:
        Event.objects.create(
            account=account,
            message=m,
            event_id=event_id,
            type=type_,
            timestamp=ts,
            is_machine=machine,
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Message = apps.get_model("delivery", "Message")
    m = Message.objects.get(message_id="m1")
    assert m.first_human_opened_at.isoformat() == "2026-11-01T11:00:00+00:00"
    assert m.first_human_clicked_at.isoformat() == "2026-11-01T10:05:00+00:00"
    assert Message.objects.get(pk=untouched.pk).first_human_opened_at is None

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
