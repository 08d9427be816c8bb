"""Minute rollups by day on PostgreSQL: created ahead, dropped whole when pruned.

`stats_rollup` is partitioned by size (migration stats/0003); its minute partition
`stats_rollup_minute` is partitioned by day of `bucket` (`stats_rollup_minute_p20261130`),
with a default partition for buckets outside every created day. Minute rows live
MINUTE_RETENTION (3 days): pruning drops the days that ended before the cutoff, where a
DELETE would leave the dead rows of every expired minute behind. SQLite keeps the plain
table and the DELETE.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction

MINUTE_TABLE = "stats_rollup_minute"
MINUTE_DEFAULT = f"{MINUTE_TABLE}_default"
_DAY_NAME = re.compile(rf"^{MINUTE_TABLE}_p(\d{{4}})(\d{{2}})(\d{{2}})$")
AHEAD_DAYS = 7


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [MINUTE_TABLE])
        row = cur.fetchone()
    return bool(row) and row[0] == "p"


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _name(day: date) -> str:
    return f"{MINUTE_TABLE}_p{day:%Y%m%d}"


def minute_days() -> list[date]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass",
            [MINUTE_TABLE],
        )
        names = [name for (name,) in cur.fetchall()]
    days = []
    for name in names:
        match = _DAY_NAME.match(name)
        if match:
            days.append(date(*(int(part) for part in match.groups())))
    return sorted(days)


def create_minute_day(day: date) -> None:
    """Create the day's partition, moving in the rows the default partition holds for it."""
    qn = connection.ops.quote_name
    name = _name(day)
    start, end = _bounds(day)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {qn(name)}"
            f" (LIKE {qn(MINUTE_TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cur.execute(
            f"WITH moved AS (DELETE FROM {qn(MINUTE_DEFAULT)}"
            " WHERE bucket >= %s AND bucket < %s RETURNING *)"
            f" INSERT INTO {qn(name)} SELECT * FROM moved",
            [start, end],
        )
        cur.execute(
            f"ALTER TABLE {qn(MINUTE_TABLE)} ATTACH PARTITION {qn(name)}"
            " FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )


def ensure_minute_days(now: datetime, ahead_days: int = AHEAD_DAYS) -> list[str]:
    existing = set(minute_days())
    today = now.astimezone(UTC).date()
    created = []
    for offset in range(ahead_days + 1):
        day = today + timedelta(days=offset)
        if day not in existing:
            create_minute_day(day)
            created.append(_name(day))
    return created


def drop_minute_days(cutoff: datetime) -> int:
    """Drop the minute days that ended before `cutoff`; returns how many rows went."""
    qn = connection.ops.quote_name
    dropped = 0
    for day in minute_days():
        if _bounds(day)[1] > cutoff:
            break
        name = _name(day)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checks owed by these rows first
            cur.execute(f"SELECT count(*) FROM {qn(name)}")
            dropped += cur.fetchone()[0]
            cur.execute(f"ALTER TABLE {qn(MINUTE_TABLE)} DETACH PARTITION {qn(name)}")
            cur.execute(f"DROP TABLE {qn(name)}")
    return dropped
