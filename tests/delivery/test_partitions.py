"""Event partitions (PostgreSQL) and retention: days created ahead, only expired days dropped,
counts that outlive the events, and exactly-once ingestion across partitions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import partial

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.urls import reverse

from blocklist.models import Block
from delivery import partitions
from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, DeliveryEventKey, Message
from stats.models import Rollup
from tests.concurrency import run_together
from tests.events import make_event
from tests.factories import AccountFactory

needs_partitions = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitions exist on PostgreSQL only"
)

# Noon today: whole days before it are easy to name.
NOW = datetime.combine(datetime.now(UTC).date(), time(12), tzinfo=UTC)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def days_ago(n: int, hour: int = 10) -> datetime:
    return datetime.combine(NOW.date() - timedelta(days=n), time(hour), tzinfo=UTC)


def partition_of(event_id: str) -> str:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tableoid::regclass::text FROM delivery_deliveryevent WHERE event_id = %s",
            [event_id],
        )
        return cur.fetchone()[0]


def message_events(mid: str, at: datetime, bounce: bool = False) -> list[dict]:
    """A message's request, delivery (or hard bounce) and open, one hour apart."""
    second = (
        make_event(
            "bounced",
            mid,
            id=f"{mid}-b",
            timestamp=iso(at + timedelta(hours=1)),
            smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 No such user"},
        )
        if bounce
        else make_event("delivered", mid, id=f"{mid}-d", timestamp=iso(at + timedelta(hours=1)))
    )
    return [
        make_event("request", mid, id=f"{mid}-r", timestamp=iso(at), to=f"{mid}@gmail.com"),
        second,
        make_event("opened", mid, id=f"{mid}-o", timestamp=iso(at + timedelta(hours=2))),
    ]


def hour_totals(account) -> dict:
    return Rollup.objects.filter(account=account, size=60, sender_domain="*").aggregate(
        requests=Sum("requests"),
        delivered=Sum("delivered"),
        bounced=Sum("bounced"),
        opened=Sum("opened"),
        opened_unique=Sum("opened_unique"),
    )


@needs_partitions
def test_the_migration_made_a_partitioned_table_with_days_ahead(db):
    assert partitions.is_partitioned()
    days = partitions.partition_days()
    today = datetime.now(UTC).date()
    assert today in days
    assert today + timedelta(days=partitions.AHEAD_DAYS) in days


@needs_partitions
def test_maintain_creates_the_coming_days_once(db):
    later = NOW + timedelta(days=30)
    done = partitions.maintain(later)
    expected = [
        partitions.partition_name(later.date() + timedelta(days=n))
        for n in range(partitions.AHEAD_DAYS + 1)
    ]
    assert done.created == expected
    assert set(expected) <= {partitions.partition_name(d) for d in partitions.partition_days()}
    assert partitions.maintain(later).created == []


@needs_partitions
def test_a_new_day_takes_over_its_rows_from_the_default_partition(db):
    account = AccountFactory(name="acme")
    far = NOW + timedelta(days=40)
    ingest_events(account, message_events("m1", far))
    assert partition_of("m1-r") == partitions.DEFAULT_PARTITION

    partitions.ensure_partitions(far, ahead_days=0)

    assert partition_of("m1-r") == partitions.partition_name(far.date())
    assert DeliveryEvent.objects.filter(account=account).count() == 3
    # The moved events keep their keys: a retry is still a duplicate.
    again = ingest_events(account, message_events("m1", far))
    assert (again.accepted, again.duplicates) == (0, 3)


@needs_partitions
def test_retention_drops_only_expired_days_and_counts_survive(db, settings):
    account = AccountFactory(name="acme")
    for n in (15, 12, 11, 9, 1):
        partitions.create_partition(days_ago(n).date())
    ingest_events(account, message_events("old", days_ago(15), bounce=True))
    ingest_events(account, message_events("edge", days_ago(11)))
    ingest_events(account, message_events("kept", days_ago(9)))
    ingest_events(account, message_events("new", days_ago(1)))
    block = Block.objects.get(address="old@gmail.com")
    assert block.event_id is not None
    before = hour_totals(account)
    assert before == {
        "requests": 4,
        "delivered": 3,
        "bounced": 1,
        "opened": 4,
        "opened_unique": 4,
    }

    settings.EVENT_RETENTION_DAYS = 10
    done = partitions.maintain(NOW)

    # Cutoff: noon 10 days ago. Days 15, 12 and 11 end before it; day 10 holds it.
    assert done.dropped == [partitions.partition_name(days_ago(n).date()) for n in (15, 12, 11)]
    days = partitions.partition_days()
    assert days_ago(9).date() in days and days_ago(1).date() in days
    assert days_ago(11).date() not in days
    assert set(DeliveryEvent.objects.values_list("message__message_id", flat=True)) == {
        "kept",
        "new",
    }
    assert set(DeliveryEventKey.objects.values_list("event_id", flat=True)) == {
        f"{m}-{t}" for m in ("kept", "new") for t in "rdo"
    }
    # Messages, blocks and the hour rollups outlive the events.
    assert Message.objects.filter(account=account).count() == 4
    block.refresh_from_db()
    assert block.event_id is None
    assert hour_totals(account) == before
    # A second run finds nothing more to drop.
    assert partitions.maintain(NOW).dropped == []


@needs_partitions
def test_retention_deletes_old_rows_left_in_the_default_partition(db, settings):
    account = AccountFactory(name="acme")
    ingest_events(account, message_events("ancient", days_ago(400)))
    ingest_events(account, message_events("recent", days_ago(2)))
    assert partition_of("ancient-r") == partitions.DEFAULT_PARTITION

    settings.EVENT_RETENTION_DAYS = 30
    done = partitions.maintain(NOW)

    assert done.deleted_rows == 3
    assert set(DeliveryEvent.objects.values_list("message__message_id", flat=True)) == {"recent"}
    assert not DeliveryEventKey.objects.filter(event_id__startswith="ancient").exists()


def test_retention_without_partitions_deletes_in_chunks(db, settings, monkeypatch):
    """The SQLite path (a plain DELETE), run here on whatever database the tests use."""
    monkeypatch.setattr(partitions, "CHUNK", 2)
    account = AccountFactory(name="acme")
    ingest_events(account, message_events("old", days_ago(40), bounce=True))
    ingest_events(account, message_events("new", days_ago(1)))
    settings.EVENT_RETENTION_DAYS = 30

    done = partitions.delete_expired(NOW)

    assert done.deleted_rows == 3
    assert set(DeliveryEvent.objects.values_list("event_id", flat=True)) == {
        "new-r",
        "new-d",
        "new-o",
    }
    assert Block.objects.get(address="old@gmail.com").event_id is None
    assert hour_totals(account)["requests"] == 2


def test_events_older_than_the_retention_are_refused(db, settings):
    account = AccountFactory(name="acme")
    settings.EVENT_RETENTION_DAYS = 30
    result = ingest_events(account, message_events("m", days_ago(31)) + message_events("n", NOW))
    assert result.accepted == 3
    assert [(e["index"], e["code"]) for e in result.errors] == [
        (0, "expired_timestamp"),
        (1, "expired_timestamp"),
        (2, "expired_timestamp"),
    ]


def test_rebuild_refuses_a_range_whose_events_expired(db, settings):
    settings.EVENT_RETENTION_DAYS = 30
    since = days_ago(31).date().isoformat()
    with pytest.raises(CommandError, match="expired"):
        call_command("rebuild_stats", "--since", since, "--until", NOW.date().isoformat())


def test_a_message_whose_events_expired_says_so(alice_client, account, settings):
    ingest_events(account, message_events("m1", days_ago(40)))
    settings.EVENT_RETENTION_DAYS = 30
    partitions.delete_expired(NOW)

    page = alice_client.get(reverse("delivery:message_detail", args=["m1"]))
    assert page.status_code == 200
    assert b'id="events-expired"' in page.content
    assert b"Events are kept 30 days" in page.content
    assert b"No events recorded" not in page.content

    ingest_events(account, message_events("m2", days_ago(1)))
    page = alice_client.get(reverse("delivery:message_detail", args=["m2"]))
    assert b'id="events-expired"' not in page.content


@needs_partitions
def test_repeats_count_once_across_partitions(db):
    account = AccountFactory(name="acme")
    for n in (3, 2):
        partitions.create_partition(days_ago(n).date())
    first = ingest_events(account, message_events("m", days_ago(3)))
    # The same ids again, one of them with a timestamp of another day (another partition).
    repeat = message_events("m", days_ago(3))
    repeat[2]["timestamp"] = iso(days_ago(2))
    again = ingest_events(account, repeat)
    assert (first.accepted, again.accepted, again.duplicates) == (3, 0, 3)
    assert DeliveryEvent.objects.count() == 3
    assert Message.objects.get(message_id="m").open_count == 1
    assert hour_totals(account)["opened"] == 1


@needs_partitions
@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_spread_over_partitions_count_once():
    account = AccountFactory(name="acme")
    for n in (3, 2, 1):
        partitions.create_partition(days_ago(n).date())
    events = []
    for i in range(100):
        events += message_events(f"m{i}", days_ago(1 + i % 3, hour=i % 20))
    results = run_together(*[partial(ingest_events, account, events)] * 2)

    assert sorted(r.accepted for r in results) == [0, 300]
    assert DeliveryEvent.objects.count() == 300
    assert DeliveryEventKey.objects.count() == 300
    assert set(Message.objects.values_list("open_count", flat=True)) == {1}
    assert hour_totals(account)["requests"] == 100
