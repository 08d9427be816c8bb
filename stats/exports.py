"""CSV exports, streamed so memory stays flat however many rows.

UTF-8 with a header row; every instant as epoch milliseconds (UTC) plus an ISO-8601
column; cells that a spreadsheet would run as a formula are neutralised by defusedcsv.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime

from defusedcsv import csv
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from .models import COUNTERS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHUNK_ROWS = 2000


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def epoch_ms(at: datetime | None) -> int | str:
    if at is None:
        return ""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def iso(at: datetime | None) -> str:
    if at is None:
        return ""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """Yield the CSV text a few thousand rows at a time (fewer, larger writes)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow(row))
        if len(batch) >= CHUNK_ROWS:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]):
    response = StreamingHttpResponse(
        (line.encode() for line in csv_lines(header, rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------------------------------
# What each export holds.

SERIES_HEADER = ["bucket_start_ms", "bucket_start", *COUNTERS]


def series_rows(body: dict) -> Iterator[list]:
    """Rows of a `stats.services.series()` body: one per bucket, then none for totals."""
    for bucket in body["buckets"]:
        start = datetime.fromisoformat(bucket["start"].replace("Z", "+00:00"))
        yield [epoch_ms(start), bucket["start"], *(bucket[c] for c in COUNTERS)]


MESSAGE_COLUMNS: list[tuple[str, str]] = [
    # (CSV header, Message field path)
    ("message_id", "message_id"),
    ("from", "from_address"),
    ("to", "recipient"),
    ("subject", "subject"),
    ("requested_at_ms", "requested_at"),
    ("requested_at", "requested_at"),
    ("status", "status"),
    ("bounce_class", "bounce_class"),
    ("response_text", "response_text"),
    ("opened", "first_opened_at"),
    ("clicked", "first_clicked_at"),
    ("unsubscribed", "unsubscribed_at"),
    ("complained", "complained_at"),
    ("open_count", "open_count"),
    ("click_count", "click_count"),
]

EVENT_COLUMNS: list[tuple[str, str]] = [
    ("event_id", "event_id"),
    ("type", "type"),
    ("timestamp_ms", "timestamp"),
    ("timestamp", "timestamp"),
    ("message_id", "message__message_id"),
    ("from", "message__from_address"),
    ("to", "message__recipient"),
    ("subject", "message__subject"),
    ("requested_at_ms", "message__requested_at"),
    ("requested_at", "message__requested_at"),
    ("bounce_class", "bounce_class"),
    ("smtp_code", "smtp_code"),
    ("smtp_enhanced", "smtp_enhanced"),
    ("response_text", "response_text"),
    ("reason", "reason"),
    ("url", "url"),
    ("user_agent", "user_agent"),
    ("ip", "ip"),
]


def _formatter(header: str) -> Callable:
    if header.endswith("_ms"):
        return epoch_ms
    if header in ("requested_at", "timestamp"):
        return iso
    if header in ("opened", "clicked", "unsubscribed", "complained"):
        return lambda at: "yes" if at is not None else "no"
    return lambda value: "" if value is None else value


def queryset_rows(queryset: QuerySet, columns: list[tuple[str, str]]) -> tuple[list, Iterator]:
    """Header and rows of `queryset`, read through a server-side cursor in chunks."""
    header = [h for h, _ in columns]
    fields = list(dict.fromkeys(f for _, f in columns))
    picks = [(fields.index(f), _formatter(h)) for h, f in columns]

    def rows() -> Iterator[list]:
        for values in queryset.values_list(*fields).iterator(chunk_size=CHUNK_ROWS):
            yield [fmt(values[i]) for i, fmt in picks]

    return header, rows()
