"""The set-based claim of event keys (PostgreSQL): ingestion claims (account, event id) in
delivery_deliveryeventkey and inserts only the events it won, under racing batches, beside
the key trigger that still guards other writers, and across retention."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.db import connection, transaction

from delivery import partitions
from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, DeliveryEventKey, Message
from stats.rollups import rebuild
from tests.concurrency import run_together
from tests.delivery.test_partitions import NOW, days_ago, hour_totals, iso, message_events
from tests.factories import AccountFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the key table is used on PostgreSQL only"
)


def _race(*batches_per_thread):
    """Ingest each list of batches in its own thread, all starting together."""

    def worker(account, batches):
        return [ingest_events(account, batch) for batch in batches]

    # A deadlock or any other error raises here.
    per_thread = run_together(*(partial(worker, *args) for args in batches_per_thread))
    return [result for results in per_thread for result in results]


@pytest.fixture
def past_days():
    """Partitions of 4 to 6 days ago, dropped again afterwards (a transactional test's
    flush keeps tables, and other tests create the days just before today)."""
    days = [days_ago(n).date() for n in (6, 5, 4)]
    for day in days:
        partitions.create_partition(day)
    yield days
    with connection.cursor() as cur:
        for day in days:
            cur.execute(f'DROP TABLE IF EXISTS "{partitions.partition_name(day)}"')


@pytest.mark.django_db(transaction=True)
def test_racing_batches_overlapping_in_any_order_store_each_event_once(past_days):
    account = AccountFactory(name="acme")
    events = []
    for i in range(150):
        events += message_events(f"m{i}", days_ago(4 + i % 3, hour=i % 20))
    # Three writers: the whole set, its second half reversed, and a shuffle of its middle,
    # each split into batches, so claims overlap in different orders and batch boundaries.
    middle = events[100:350]
    reordered = middle[1::2] + middle[::2]
    results = _race(
        (account, [events[i : i + 100] for i in range(0, len(events), 100)]),
        (account, [list(reversed(events[225:]))]),
        (account, [reordered[:120], reordered[120:]]),
    )

    assert sum(r.accepted for r in results) == 450
    assert sum(r.accepted + r.duplicates for r in results) == 450 + 225 + 250
    assert DeliveryEvent.objects.count() == 450
    assert DeliveryEventKey.objects.count() == 450
    assert set(Message.objects.values_list("open_count", flat=True)) == {1}
    live = hour_totals(account)
    assert live["requests"] == live["delivered"] == live["opened_unique"] == 150
    assert {p for p in _partitions_of(account)} == {
        partitions.partition_name(day) for day in past_days
    }
    rebuild(days_ago(7), NOW, account)
    assert hour_totals(account) == live


def _partitions_of(account) -> set[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT tableoid::regclass::text FROM delivery_deliveryevent"
            " WHERE account_id = %s",
            [account.pk],
        )
        return {name for (name,) in cur.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_two_accounts_claim_the_same_event_ids_apart():
    acme, other = AccountFactory(name="acme"), AccountFactory(name="other")
    events = message_events("m", days_ago(1))
    results = _race((acme, [events]), (other, [events]))
    assert [r.accepted for r in results] == [3, 3]
    assert DeliveryEvent.objects.filter(account=acme).count() == 3
    assert DeliveryEvent.objects.filter(account=other).count() == 3


def test_other_writers_are_still_guarded_by_the_key_trigger(db):
    account = AccountFactory(name="acme")
    ingest_events(account, message_events("m", days_ago(1)))
    message = Message.objects.get(message_id="m")
    insert = (
        "INSERT INTO delivery_deliveryevent (account_id, event_id, message_id, type,"
        " timestamp, received_at, bounce_class, smtp_enhanced, response_text, reason, url,"
        " user_agent, is_machine) VALUES (%s, %s, %s, 'opened', %s, now(), '', '', '', '',"
        " '', '', false)"
    )
    with connection.cursor() as cur:
        # A repeat of a stored event is skipped by the trigger ...
        cur.execute(insert, [account.pk, "m-o", message.pk, days_ago(1)])
        assert cur.rowcount == 0
        # ... and a new one claims its key, so ingestion then sees it as a duplicate.
        cur.execute(insert, [account.pk, "m-x", message.pk, days_ago(1)])
        assert cur.rowcount == 1
        cur.execute("SELECT current_setting('delivery.event_keys', true)")
        assert cur.fetchone()[0] in (None, "")
    again = ingest_events(account, [{**message_events("m", days_ago(1))[2], "id": "m-x"}])
    assert (again.accepted, again.duplicates) == (0, 1)
    assert DeliveryEventKey.objects.filter(event_id__startswith="m-").count() == 4


def test_a_failed_batch_leaves_no_claimed_key_behind(db, monkeypatch):
    account = AccountFactory(name="acme")
    from delivery import ingest

    def broken(*args, **kwargs):
        raise RuntimeError("consumer failed")

    monkeypatch.setattr(ingest, "_act_at_once", broken)
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest_events(account, message_events("m", days_ago(1)))
    assert not DeliveryEventKey.objects.exists()
    monkeypatch.undo()
    assert ingest_events(account, message_events("m", days_ago(1))).accepted == 3


def test_retention_drop_then_resend(db, settings):
    account = AccountFactory(name="acme")
    for n in (15, 9):
        partitions.create_partition(days_ago(n).date())
    ingest_events(account, message_events("old", days_ago(15)))
    ingest_events(account, message_events("kept", days_ago(9)))
    before = hour_totals(account)

    settings.EVENT_RETENTION_DAYS = 10
    partitions.maintain(NOW)
    assert not DeliveryEventKey.objects.filter(event_id__startswith="old-").exists()

    # The expired events sent again are refused (their keys are gone with them), the kept
    # ones are duplicates, and nothing is counted twice.
    resent = ingest_events(account, message_events("old", days_ago(15)))
    assert resent.accepted == 0
    assert {e["code"] for e in resent.errors} == {"expired_timestamp"}
    kept = ingest_events(account, message_events("kept", days_ago(9)))
    assert (kept.accepted, kept.duplicates) == (0, 3)
    assert hour_totals(account) == before

    # An id whose key expired is free again: claimed once more, and only once.
    reused = [{**message_events("old", days_ago(1))[0], "id": "old-r"}]
    assert ingest_events(account, reused).accepted == 1
    assert ingest_events(account, reused).duplicates == 1
    assert DeliveryEventKey.objects.filter(event_id="old-r").get().timestamp == days_ago(1)
    assert iso(DeliveryEvent.objects.get(event_id="old-r").timestamp) == iso(days_ago(1))


@pytest.mark.django_db(transaction=True)
def test_batches_racing_to_create_the_same_messages_fold_into_one_row_each(past_days):
    """Each batch writes a message it sees first in its final state; the batch that loses
    the race to create it folds its events into the winner's row instead."""
    account = AccountFactory(name="acme")
    at = days_ago(5)
    requests, later = [], []
    for i in range(120):
        events = message_events(f"m{i}", at + timedelta(minutes=i))
        requests.append(events[0])
        later += events[1:]
    _race((account, [requests]), (account, [later]), (account, [list(reversed(later))]))

    assert Message.objects.filter(account=account).count() == 120
    for message in Message.objects.filter(account=account):
        i = int(message.message_id[1:])
        assert message.status == Message.Status.DELIVERED
        assert message.requested_at == at + timedelta(minutes=i)
        assert message.recipient == f"m{i}@gmail.com"
        assert message.open_count == 1
        assert message.first_opened_at == at + timedelta(minutes=i, hours=2)
    live = hour_totals(account)
    assert live["requests"] == live["delivered"] == live["opened"] == live["opened_unique"] == 120
    rebuild(days_ago(7), NOW, account)
    assert hour_totals(account) == live
