"""The 0016 data migration lists messages stored without a request at their first event."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("delivery", "0014_inbound_report_once_per_submitter")]
AFTER = [("delivery", "0016_list_messages_without_request")]


def test_it_lists_messages_without_request_at_their_first_event():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Account = apps.get_model("sesconsole", "Account")
    Message = apps.get_model("delivery", "Message")
    Event = apps.get_model("delivery", "DeliveryEvent")
    account = Account.objects.create(name="old")
    lost = Message.objects.create(account=account, message_id="lost", status="bounced")
    requested = Message.objects.create(
        account=account, message_id="requested", requested_at="2026-11-01T09:00Z"
    )
    empty = Message.objects.create(account=account, message_id="empty")
    for event_id, message, type_, ts in [
        ("e1", lost, "opened", "2026-11-01T10:30Z"),
        ("e2", lost, "bounced", "2026-11-01T10:05Z"),
        ("e3", requested, "request", "2026-11-01T09:00Z"),
    ]:
        Event.objects.create(
            account=account, message=message, event_id=event_id, type=type_, timestamp=ts
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Message = executor.loader.project_state(AFTER).apps.get_model("delivery", "Message")
    lost = Message.objects.get(message_id="lost")
    assert lost.requested_at.isoformat() == "2026-11-01T10:05:00+00:00"
    assert lost.request_received is False
    requested = Message.objects.get(message_id="requested")
    assert requested.requested_at.isoformat() == "2026-11-01T09:00:00+00:00"
    assert requested.request_received is True
    empty = Message.objects.get(message_id="empty")
    assert (empty.requested_at, empty.request_received) == (None, False)

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
