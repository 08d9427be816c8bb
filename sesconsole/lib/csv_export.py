"""CSV exports, streamed so memory stays flat however many rows.

UTF-8 with a header row; every instant as epoch milliseconds (UTC) plus an ISO-8601
column; cells that a spreadsheet would run as a formula are neutralised by defusedcsv.

A column is declared once with its kind (`Column("to", "recipient", TEXT)`); the kind owns
both the Python formatter and the SQL expression, so the two ways a queryset becomes CSV
(Python rows on any database, `COPY … TO STDOUT` on PostgreSQL) give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from defusedcsv import csv
from django.db import connection
from django.db.models import F, QuerySet
from django.http import StreamingHttpResponse

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


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence], lineterminator: str = "\r\n"
) -> Iterator[bytes]:
    """Yield UTF-8 CSV a few thousand rows at a time (fewer, larger writes)."""
    writer = csv.writer(_Echo(), lineterminator=lineterminator)
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
# Column kinds: a Python formatter and the SQL expression that formats alike.

# defusedcsv's rule, in SQL: a cell starting with = + - @ | % (other than a plain number)
# gets a leading apostrophe, and its pipes are escaped. The cheap first-character test
# comes first so the regular expression runs only on the rare suspicious cell; it compares
# code points (ascii() of = + - @ | %), which allocates nothing where left(c, 1) made a
# string per cell (a million-row export 8% faster, docs/performance.md). Empty text
# becomes NULL so that COPY writes it unquoted, as Python's writer does.
_DEFUSE = (
    "NULLIF(CASE WHEN ascii({c}) IN (61, 43, 45, 64, 124, 37) "
    "AND {c} !~ '^-?[0-9,.]+$' THEN '''' || replace({c}, '|', '\\|') ELSE {c} END, '')"
)


def _plain(value):
    return "" if value is None else value


@dataclass(frozen=True)
class Kind:
    name: str
    python: Callable
    sql: str  # with {c} for the column


INSTANT_MS = Kind("instant_ms", epoch_ms, "floor(extract(epoch FROM {c}) * 1000)::bigint")
INSTANT_ISO = Kind(
    "instant_iso", iso, """to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
)
# "yes" when the instant is set: opened, clicked, unsubscribed, complained.
HAPPENED = Kind(
    "happened",
    lambda at: "yes" if at is not None else "no",
    "CASE WHEN {c} IS NULL THEN 'no' ELSE 'yes' END",
)
# "yes" when a boolean column is true.
YES_NO = Kind(
    "yes_no", lambda value: "yes" if value else "no", "CASE WHEN {c} THEN 'yes' ELSE 'no' END"
)
# Free text a recipient or sender chose: defused against formulas.
TEXT = Kind("text", _plain, _DEFUSE)
# Text the database has already constrained (choices, http(s) URLs): as it is.
CODE = Kind("code", _plain, "NULLIF({c}, '')")
NUMBER = Kind("number", _plain, "{c}")
IP = Kind("ip", _plain, "host({c})")


@dataclass(frozen=True)
class Column:
    header: str
    path: str  # a field path of the exported queryset's model, e.g. "message__recipient"
    kind: Kind


def instant(header: str, path: str) -> list[Column]:
    """The two columns of an instant: `<header>_ms` (epoch milliseconds) and `<header>` (ISO)."""
    return [Column(f"{header}_ms", path, INSTANT_MS), Column(header, path, INSTANT_ISO)]


def queryset_csv(queryset: QuerySet, columns: Sequence[Column]) -> Iterator[bytes]:
    """The CSV of `queryset` with `columns`, streamed.

    On PostgreSQL the database formats the rows itself (`COPY ... TO STDOUT`), which keeps
    a million-row export at the speed of COPY; elsewhere Python formats them through
    defusedcsv. The column kinds make both give the same bytes.
    """
    if connection.vendor == "postgresql":
        return copy_csv(queryset, columns)
    return python_csv(queryset, columns)


def python_csv(queryset: QuerySet, columns: Sequence[Column]) -> Iterator[bytes]:
    header, rows = queryset_rows(queryset, columns)
    # COPY ends lines with \n; so does this path.
    return csv_chunks(header, rows, lineterminator="\n")


def queryset_rows(queryset: QuerySet, columns: Sequence[Column]) -> tuple[list, Iterator]:
    """Header and rows of `queryset`, read through a server-side cursor in chunks."""
    header = [c.header for c in columns]
    fields = list(dict.fromkeys(c.path for c in columns))
    picks = [(fields.index(c.path), c.kind.python) for c in columns]

    def rows() -> Iterator[list]:
        for values in queryset.values_list(*fields).iterator(chunk_size=CHUNK_ROWS):
            yield [fmt(values[i]) for i, fmt in picks]

    return header, rows()


def _copy_sql(queryset: QuerySet, columns: Sequence[Column]) -> tuple[str, tuple]:
    fields = list(dict.fromkeys(c.path for c in columns))
    aliases = {f: f"c{i}" for i, f in enumerate(fields)}
    inner = queryset.values(**{aliases[f]: F(f) for f in fields})
    sql, params = inner.query.sql_with_params()
    exprs = [
        f'{column.kind.sql.format(c=f"q.{aliases[column.path]}")} AS "{column.header}"'
        for column in columns
    ]
    statement = (
        f"COPY (SELECT {', '.join(exprs)} FROM ({sql}) q) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    return statement, params


def copy_csv(queryset: QuerySet, columns: Sequence[Column]) -> Iterator[bytes]:
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
