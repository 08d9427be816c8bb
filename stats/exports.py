"""What the statistics CSV holds: one row per bucket of a `stats.services.series()` body.

`bucket_start` is the bucket's start in the account's zone with its offset (as the API
answers); `bucket_start_local` repeats it under the name every export uses for local
times, and the last column, `time_zone`, names the zone (sesconsole.lib.csv_zones).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from sesconsole.lib.csv_export import epoch_ms

from .models import COUNTERS

SERIES_HEADER = ["bucket_start_ms", "bucket_start", *COUNTERS]


def series_header() -> list[str]:
    return [*SERIES_HEADER, "bucket_start_local", "time_zone"]


def series_rows(body: dict, zone: ZoneInfo) -> Iterator[list]:
    """Rows of a `stats.services.series()` body: one per bucket, then none for totals."""
    for bucket in body["buckets"]:
        start = datetime.fromisoformat(bucket["start"].replace("Z", "+00:00"))
        local = start.astimezone(zone).isoformat()
        yield [epoch_ms(start), bucket["start"], *(bucket[c] for c in COUNTERS), local, str(zone)]
