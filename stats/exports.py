"""What the statistics CSV holds: one row per bucket of a `stats.services.series()` body."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sesconsole.lib.csv_export import epoch_ms

from .models import COUNTERS

SERIES_HEADER = ["bucket_start_ms", "bucket_start", *COUNTERS]


def series_rows(body: dict) -> Iterator[list]:
    """Rows of a `stats.services.series()` body: one per bucket, then none for totals."""
    for bucket in body["buckets"]:
        start = datetime.fromisoformat(bucket["start"].replace("Z", "+00:00"))
        yield [epoch_ms(start), bucket["start"], *(bucket[c] for c in COUNTERS)]
