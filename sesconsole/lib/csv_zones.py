"""The account's time zone in CSV exports.

The convention every CSV follows: `<name>_ms` is epoch milliseconds; `<name>` is ISO-8601
in UTC (`Z`), as it always was; `<name>_local` is the same instant in the account's zone,
ISO-8601 with that moment's offset (`+05:30`); the last column, `time_zone`, names the zone
(an IANA name such as `Asia/Kolkata`). Columns are only ever appended, so a reader that
picks columns by header keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from .csv_export import INSTANT_ISO, Column, Kind

# The offset of the local time from UTC, as `+HH:MM`, for an instant {c} in zone {z}.
_LOCAL_SQL = (
    "CASE WHEN {c} IS NULL THEN NULL ELSE "
    "to_char({c} AT TIME ZONE {z}, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') || ("
    "SELECT CASE WHEN o.s < 0 THEN '-' ELSE '+' END"
    " || lpad((abs(o.s) / 3600)::text, 2, '0') || ':'"
    " || lpad((mod(abs(o.s), 3600) / 60)::text, 2, '0')"
    " FROM (SELECT extract(epoch FROM ({c} AT TIME ZONE {z}) - ({c} AT TIME ZONE 'UTC'))::int"
    " AS s) o) END"
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def local_iso_kind(zone: ZoneInfo) -> Kind:
    """ISO-8601 in `zone` with the offset in force at that instant."""

    def python(at: datetime | None) -> str:
        return "" if at is None else at.astimezone(zone).isoformat(timespec="milliseconds")

    sql = _LOCAL_SQL.replace("{z}", _literal(str(zone)))
    return Kind("instant_local", python, sql)


def zone_kind(zone: ZoneInfo) -> Kind:
    name = str(zone)
    return Kind("time_zone", lambda _value: name, _literal(name))


def with_zone(columns: Sequence[Column], zone: ZoneInfo) -> list[Column]:
    """`columns`, then a `<name>_local` column for each ISO instant, then `time_zone`."""
    local = local_iso_kind(zone)
    extra = [Column(f"{c.header}_local", c.path, local) for c in columns if c.kind is INSTANT_ISO]
    return [*columns, *extra, Column("time_zone", columns[0].path, zone_kind(zone))]
