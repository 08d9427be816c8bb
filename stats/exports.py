"""CSV exports, streamed so memory stays flat however many rows.

UTF-8 with a header row; every instant as epoch milliseconds (UTC) plus an ISO-8601
column; cells that a spreadsheet would run as a formula are neutralised by defusedcsv.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime

from defusedcsv import csv
from django.db import connection
from django.db.models import F, QuerySet
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


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[bytes]:
    """Yield UTF-8 CSV a few thousand rows at a time (fewer, larger writes)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header).encode()
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow(row))
        if len(batch) >= CHUNK_ROWS:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def csv_response(filename: str, chunks: Iterable[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
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


def queryset_csv(queryset: QuerySet, columns: list[tuple[str, str]]) -> Iterator[bytes]:
    """The CSV of `queryset` with `columns`, streamed.

    On PostgreSQL the database formats the rows itself (`COPY ... TO STDOUT`), which keeps
    a million-row export at the speed of COPY; elsewhere Python formats them through
    defusedcsv. Both apply the same rules (see `_copy_sql`).
    """
    if connection.vendor == "postgresql":
        return _copy_chunks(queryset, columns)
    header, rows = queryset_rows(queryset, columns)
    return csv_chunks(header, rows)


def queryset_rows(queryset: QuerySet, columns: list[tuple[str, str]]) -> tuple[list, Iterator]:
    """Header and rows of `queryset`, read through a server-side cursor in chunks."""
    header = [h for h, _ in columns]
    fields = list(dict.fromkeys(f for _, f in columns))
    picks = [(fields.index(f), _formatter(h)) for h, f in columns]

    def rows() -> Iterator[list]:
        for values in queryset.values_list(*fields).iterator(chunk_size=CHUNK_ROWS):
            yield [fmt(values[i]) for i, fmt in picks]

    return header, rows()


# defusedcsv's rule, in SQL: a cell starting with = + - @ | % (other than a plain number)
# gets a leading apostrophe, and its pipes are escaped. The cheap first-character test
# comes first so the regular expression runs only on the rare suspicious cell.
_DEFUSE = (
    "CASE WHEN left({c}, 1) IN ('=', '+', '-', '@', '|', chr(37)) AND {c} !~ '^-?[0-9,.]+$' "
    "THEN '''' || replace({c}, '|', '\\|') ELSE {c} END"
)
# Text that ingestion has already constrained (choices, http(s) URLs) needs no defusing.
_SAFE_TEXT = {"url"}
_ISO = """to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


def _copy_sql(queryset: QuerySet, columns: list[tuple[str, str]]) -> tuple[str, tuple]:
    fields = list(dict.fromkeys(f for _, f in columns))
    aliases = {f: f"c{i}" for i, f in enumerate(fields)}
    inner = queryset.values(**{aliases[f]: F(f) for f in fields})
    sql, params = inner.query.sql_with_params()
    exprs = []
    for header, path in columns:
        c = f"q.{aliases[path]}"
        field = _resolve(queryset.model, path)
        kind = field.get_internal_type()
        if header.endswith("_ms"):
            expr = f"floor(extract(epoch FROM {c}) * 1000)::bigint"
        elif header in ("requested_at", "timestamp"):
            expr = _ISO.format(c=c)
        elif header in ("opened", "clicked", "unsubscribed", "complained"):
            expr = f"CASE WHEN {c} IS NULL THEN 'no' ELSE 'yes' END"
        elif kind == "GenericIPAddressField":
            expr = f"host({c})"
        elif kind in ("CharField", "TextField") and not (field.choices or header in _SAFE_TEXT):
            expr = _DEFUSE.format(c=c)
        else:
            expr = c
        exprs.append(f'{expr} AS "{header}"')
    statement = (
        f"COPY (SELECT {', '.join(exprs)} FROM ({sql}) q) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    return statement, params


def _resolve(model, path: str):
    *relations, name = path.split("__")
    for rel in relations:
        model = model._meta.get_field(rel).related_model
    return model._meta.get_field(name)


def _copy_chunks(queryset: QuerySet, columns: list[tuple[str, str]]) -> Iterator[bytes]:
    sql, params = _copy_sql(queryset, columns)
    buffer: list[bytes] = []
    size = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        for data in copy:
            buffer.append(bytes(data))
            size += len(data)
            if size >= 256 * 1024:
                yield b"".join(buffer)
                buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)
