"""Minute rollups by day (PostgreSQL): created ahead, pruned by dropping whole days."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from delivery.ingest import ingest_events
from stats import partitions
from stats.models import Rollup
from stats.rollups import MINUTE_RETENTION, prune_minute_rows
from tests.events import make_event

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitions exist on PostgreSQL only"
)

NOW = datetime.combine(datetime.now(UTC).date(), time(12), tzinfo=UTC)


def at(days_ago: int, hour: int = 10) -> str:
    moment = datetime.combine(NOW.date() - timedelta(days=days_ago), time(hour), tzinfo=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def partition_of_minute_row(bucket: datetime) -> str:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT tableoid::regclass::text FROM stats_rollup"
            " WHERE size = 1 AND bucket = %s",
            [bucket],
        )
        return cur.fetchone()[0]


def test_the_migration_partitions_minute_rows_by_day(db):
    assert partitions.is_partitioned()
    days = partitions.minute_days()
    assert NOW.date() in days
    assert NOW.date() + timedelta(days=partitions.AHEAD_DAYS) in days


def test_ingestion_upserts_into_the_day_partition(account):
    ingest_events(account, [make_event("request", "m1", timestamp=at(0))])
    ingest_events(account, [make_event("request", "m2", timestamp=at(0))])
    bucket = datetime.fromisoformat(at(0))
    assert partition_of_minute_row(bucket) == f"stats_rollup_minute_p{NOW:%Y%m%d}"
    row = Rollup.objects.get(account=account, size=1, bucket=bucket, sender_domain="*")
    assert row.requests == 2


def test_pruning_drops_expired_days_only_and_keeps_coarser_rows(account):
    for n in (6, 5, 4):
        partitions.create_minute_day(NOW.date() - timedelta(days=n))
    events = [make_event("request", f"m{n}", timestamp=at(n)) for n in (6, 5, 4, 3, 1)]
    ingest_events(account, events)
    hours_before = Rollup.objects.filter(size=60, sender_domain="*").aggregate(n=Sum("requests"))

    pruned = prune_minute_rows(NOW)

    # Cutoff: noon 3 days ago. Days 6, 5 and 4 end before it: dropped whole (2 minute rows
    # each: the all-domains row and the pair's); day 3 is cut by it: its 10:00 rows deleted.
    assert pruned == 8
    days = partitions.minute_days()
    assert NOW.date() - timedelta(days=4) not in days
    assert NOW.date() - timedelta(days=3) in days
    left = Rollup.objects.filter(size=1, sender_domain="*")
    assert list(left.values_list("bucket", flat=True)) == [datetime.fromisoformat(at(1))]
    assert all(b >= NOW - MINUTE_RETENTION for b in left.values_list("bucket", flat=True))
    hours_after = Rollup.objects.filter(size=60, sender_domain="*").aggregate(n=Sum("requests"))
    assert hours_after == hours_before == {"n": 5}
    assert Rollup.objects.filter(size=15, sender_domain="*").aggregate(n=Sum("requests")) == {
        "n": 5
    }


def test_a_new_day_takes_its_rows_from_the_default_partition(account):
    later = NOW + timedelta(days=20)
    stamp = later.isoformat().replace("+00:00", "Z")
    ingest_events(account, [make_event("request", "m1", timestamp=stamp)])
    assert partition_of_minute_row(later) == partitions.MINUTE_DEFAULT

    partitions.ensure_minute_days(later, ahead_days=0)

    assert partition_of_minute_row(later) == f"stats_rollup_minute_p{later:%Y%m%d}"
    assert Rollup.objects.get(size=1, bucket=later, sender_domain="*").requests == 1
