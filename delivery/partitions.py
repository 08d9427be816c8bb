"""Event retention, and on PostgreSQL the daily partitions of the event table.

On PostgreSQL `delivery_deliveryevent` is partitioned by range of `timestamp`, one
partition per UTC day (`delivery_deliveryevent_p20261130`), plus a default partition for
rows outside every day created so far. `maintain(now)` (the beat job
`delivery.tasks.maintain_event_partitions`) creates the days ahead and, when
`EVENT_RETENTION_DAYS` is set, drops each day that lies wholly before the retention cutoff:
dropping a partition is instant and leaves no dead rows, where a DELETE of millions of rows
would bloat the table and the indexes.

What outlives the events: messages (their state is folded at ingestion) and the
quarter-hour and hour rollups, so history charts and totals stay exact after events expire.
The ingestion refuses events older than the retention (`expired_timestamp`), so a late
repeat of an expired event cannot be counted twice once its idempotency key has gone.

SQLite (the demo) keeps a plain table; retention there is a chunked DELETE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction

from .models import DeliveryEvent, DeliveryEventKey

TABLE = "delivery_deliveryevent"
DEFAULT_PARTITION = f"{TABLE}_default"
_DAY_NAME = re.compile(rf"^{TABLE}_p(\d{{8}})$")
# Days created ahead of today, so no event of the coming week lands in the default partition.
AHEAD_DAYS = 7
# Rows per DELETE where rows are deleted (SQLite, the default partition, keys).
CHUNK = 10_000


@dataclass
class Maintenance:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    deleted_rows: int = 0


def retention_days() -> int | None:
    days = getattr(settings, "EVENT_RETENTION_DAYS", None)
    return int(days) if days else None


def retention_cutoff(now: datetime) -> datetime | None:
    """Events before this instant are expired (None: kept forever)."""
    days = retention_days()
    return now - timedelta(days=days) if days else None


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cur.fetchone()
    return bool(row) and row[0] == "p"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def partition_days() -> list[date]:
    """The days that have a partition, in order."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [name for (name,) in cur.fetchall()]
    days = []
    for name in names:
        match = _DAY_NAME.match(name)
        if match:
            y, m, d = match.group(1)[:4], match.group(1)[4:6], match.group(1)[6:]
            days.append(date(int(y), int(m), int(d)))
    return sorted(days)


def create_partition(day: date) -> None:
    """Create the day's partition, moving in any rows the default partition holds for it.

    The rows are moved by hand before ATTACH (which would otherwise refuse: the default
    partition may not keep rows of an attached range). The new table is not attached while
    they are copied, so the key trigger does not fire and their keys stay as they are.
    """
    name = partition_name(day)
    start, end = day_bounds(day)
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {qn(name)} (LIKE {qn(TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cur.execute(
            f"WITH moved AS (DELETE FROM {qn(DEFAULT_PARTITION)}"
            ' WHERE "timestamp" >= %s AND "timestamp" < %s RETURNING *)'
            f" INSERT INTO {qn(name)} SELECT * FROM moved",
            [start, end],
        )
        cur.execute(
            f"ALTER TABLE {qn(TABLE)} ATTACH PARTITION {qn(name)} FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )


def ensure_partitions(now: datetime, ahead_days: int = AHEAD_DAYS) -> list[str]:
    """Create the partitions of today and the next `ahead_days` days that are missing."""
    existing = set(partition_days())
    today = now.astimezone(UTC).date()
    created = []
    for offset in range(ahead_days + 1):
        day = today + timedelta(days=offset)
        if day not in existing:
            create_partition(day)
            created.append(partition_name(day))
    return created


def _clear_references(where: str, params: list) -> None:
    """Emulate SET_NULL and CASCADE for the foreign keys pointing at the events about to go.

    They carry no database constraint (none can point into a partitioned table).
    """
    qn = connection.ops.quote_name
    relations = [
        f
        for f in DeliveryEvent._meta.get_fields(include_hidden=True)
        if (f.one_to_many or f.one_to_one) and f.auto_created and not f.concrete
    ]
    for rel in relations:
        table = qn(rel.related_model._meta.db_table)
        column = qn(rel.field.column)
        if rel.on_delete.__name__ == "SET_NULL":
            change = f"UPDATE {table} SET {column} = NULL WHERE {column} IS NOT NULL AND"
        elif rel.on_delete.__name__ == "CASCADE":
            # Rows that only exist for their event (a fold queued, a notification).
            change = f"DELETE FROM {table} WHERE"
        else:
            raise RuntimeError(f"{rel} must be SET_NULL or CASCADE for events to expire.")
        with connection.cursor() as cur:
            cur.execute(f"{change} {column} IN (SELECT id FROM {where})", params)


def _delete_keys(start: datetime | None, end: datetime) -> None:
    qn = connection.ops.quote_name
    table = qn(DeliveryEventKey._meta.db_table)
    lower = '"timestamp" >= %s AND ' if start else ""
    params = [start, end] if start else [end]
    with connection.cursor() as cur:
        while True:
            cur.execute(
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
                f'SELECT ctid FROM {table} WHERE {lower}"timestamp" < %s LIMIT {CHUNK}))',
                params,
            )
            if cur.rowcount < CHUNK:
                break


def drop_expired(now: datetime) -> Maintenance:
    """Drop every day partition wholly before the cutoff; delete older default-partition rows."""
    done = Maintenance()
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return done
    qn = connection.ops.quote_name
    for day in partition_days():
        start, end = day_bounds(day)
        if end > cutoff:
            break
        name = partition_name(day)
        with transaction.atomic(), connection.cursor() as cur:
            # Deferred foreign-key checks still owed by this transaction must run before
            # their rows go (only when called inside a wider transaction, as tests do).
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            _clear_references(qn(name), [])
            _delete_keys(start, end)
            cur.execute(f"ALTER TABLE {qn(TABLE)} DETACH PARTITION {qn(name)}")
            cur.execute(f"DROP TABLE {qn(name)}")
        done.dropped.append(name)
    # Stragglers from before the first day partition.
    with transaction.atomic(), connection.cursor() as cur:
        where = f'{qn(DEFAULT_PARTITION)} WHERE "timestamp" < %s'
        _clear_references(where, [cutoff])
        cur.execute(f"DELETE FROM {where}", [cutoff])
        done.deleted_rows += cur.rowcount
        days = partition_days()
        _delete_keys(None, min(cutoff, day_bounds(days[0])[0]) if days else cutoff)
    return done


def delete_expired(now: datetime) -> Maintenance:
    """Retention without partitions (SQLite): delete expired events in chunks."""
    done = Maintenance()
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return done
    while True:
        ids = list(
            DeliveryEvent.objects.filter(timestamp__lt=cutoff).values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            break
        with transaction.atomic():
            # The ORM's delete also clears the blocks that name these events (SET_NULL).
            DeliveryEvent.objects.filter(pk__in=ids).delete()
        done.deleted_rows += len(ids)
    DeliveryEventKey.objects.filter(timestamp__lt=cutoff).delete()  # none unless partitioned
    return done


def maintain(now: datetime) -> Maintenance:
    """Create the partitions ahead, then apply the retention. Safe to re-run."""
    if not is_partitioned():
        return delete_expired(now)
    with connection.cursor() as cur:
        # One maintainer at a time (two beat ticks, a manual run).
        cur.execute("SELECT pg_advisory_lock(hashtext(%s))", [TABLE])
        try:
            created = ensure_partitions(now)
            done = drop_expired(now)
        finally:
            cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", [TABLE])
    done.created = created
    return done
