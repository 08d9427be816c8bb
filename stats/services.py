"""Statistics queries. Everything here reads rollups, never raw events.

`series()` returns exactly the body of `GET /api/v1/stats/`; other code (pages, exports,
the Tencent-compatible endpoint) calls it rather than querying rollups itself.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Max, Sum
from django.utils import timezone

from sesconsole.models import Account

from .models import COUNTERS, Rollup

GRANULARITIES = ("minute", "hour", "day")
# Bounded ranges keep every chart query a small index range scan.
MAX_BUCKETS = {"minute": 48 * 60, "hour": 45 * 24, "day": 400}
_STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}


class StatsError(ValueError):
    """Bad input to a statistics query, with a stable code for the API."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def zone_of(account: Account) -> ZoneInfo:
    tz = account.time_zone
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def series(
    account: Account,
    start: date,
    end: date,
    granularity: str,
    sender_domain: str | None = None,
    recipient_domain: str | None = None,
) -> dict:
    """Counters per bucket for the days `start`..`end` (inclusive, in the account's zone).

    Returns `{"granularity", "timezone", "totals", "buckets": [{"start", <counters>}]}`,
    every bucket present (zeros included). Raises StatsError on a bad or too large range.
    """
    if end < start:
        raise StatsError("invalid_range", "'end' must not be before 'start'.")
    tz = zone_of(account)
    return series_between(
        account,
        local_midnight(start, tz),
        local_midnight(end + timedelta(days=1), tz),
        granularity,
        sender_domain,
        recipient_domain,
    )


def series_between(
    account: Account,
    start: datetime,
    end: datetime,
    granularity: str,
    sender_domain: str | None = None,
    recipient_domain: str | None = None,
) -> dict:
    """Like `series()` for the instants [start, end), which should fall on bucket starts."""
    if granularity not in GRANULARITIES:
        raise StatsError("invalid_granularity", "'granularity' must be minute, hour or day.")
    tz = zone_of(account)
    bounds = _boundaries(start.astimezone(UTC), end.astimezone(UTC), granularity, tz)
    starts = bounds[:-1]
    if not starts:
        raise StatsError("invalid_range", "The range is empty.")

    rows = (
        Rollup.objects.for_account(account)
        .filter(size=_size_for(granularity, bounds), bucket__gte=bounds[0])
        .filter(bucket__lt=bounds[-1])
    )
    if sender_domain:
        rows = rows.filter(sender_domain=sender_domain)
    if recipient_domain:
        rows = rows.filter(recipient_domain=recipient_domain)
    rows = rows.order_by().values("bucket").annotate(**{c: Sum(c) for c in COUNTERS})

    values = [[0] * len(COUNTERS) for _ in starts]
    for row in rows:
        i = bisect_right(starts, row["bucket"]) - 1
        acc = values[i]
        for j, c in enumerate(COUNTERS):
            acc[j] += row[c]
    totals = [sum(col) for col in zip(*values, strict=True)]
    return {
        "granularity": granularity,
        "timezone": str(tz),
        "totals": dict(zip(COUNTERS, totals, strict=True)),
        "buckets": [
            {"start": _iso(s, tz), **dict(zip(COUNTERS, v, strict=True))}
            for s, v in zip(starts, values, strict=True)
        ],
    }


def _boundaries(start: datetime, end: datetime, granularity: str, tz: ZoneInfo) -> list[datetime]:
    """Bucket starts in UTC plus the final end: local days, or fixed hours/minutes."""
    if end <= start:
        return [start]
    limit = MAX_BUCKETS[granularity]
    if granularity == "day":
        first = start.astimezone(tz).date()
        last = (end - timedelta(microseconds=1)).astimezone(tz).date()
        days = (last - first).days + 1
        if days > limit:
            raise _too_large(granularity)
        bounds = [local_midnight(first + timedelta(days=i), tz) for i in range(days + 1)]
        bounds[0], bounds[-1] = max(bounds[0], start), min(bounds[-1], end)
        return bounds
    step = _STEP[granularity]
    if (end - start) / step > limit:
        raise _too_large(granularity)
    bounds = []
    at = start
    while at < end:
        bounds.append(at)
        at += step
    bounds.append(end)
    return bounds


def _too_large(granularity: str) -> StatsError:
    return StatsError(
        "range_too_large",
        f"At '{granularity}' granularity a range holds at most {MAX_BUCKETS[granularity]} "
        "buckets; choose a coarser granularity or a shorter range.",
    )


def _size_for(granularity: str, bounds: list[datetime]) -> int:
    """The coarsest rollup whose buckets tile the requested ones exactly.

    Local hours and days start on whole UTC hours unless the zone's offset is not a whole
    number of hours (Asia/Kolkata +5:30): then quarter-hours, which tile every zone.
    """
    if granularity == "minute" or any(b.minute % 15 or b.second or b.microsecond for b in bounds):
        return Rollup.Size.MINUTE
    if any(b.minute for b in bounds):
        return Rollup.Size.QUARTER
    return Rollup.Size.HOUR


def _iso(at: datetime, tz: ZoneInfo) -> str:
    text = at.astimezone(tz).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


# ---------------------------------------------------------------------------------------
# Smaller questions the pages ask.


@dataclass(frozen=True)
class Freshness:
    as_of: datetime
    latest_bucket: datetime | None


def freshness(account: Account) -> Freshness:
    """When the figures were read, and the newest minute that has any event."""
    latest = (
        Rollup.objects.for_account(account)
        .filter(size=Rollup.Size.MINUTE)
        .aggregate(latest=Max("bucket"))["latest"]
    )
    return Freshness(as_of=timezone.now(), latest_bucket=latest)


def domain_choices(account: Account) -> tuple[list[str], list[str]]:
    """The sender and recipient domains the account's rollups hold (for filter menus)."""
    rows = Rollup.objects.for_account(account).filter(size=Rollup.Size.HOUR)
    senders = rows.order_by("sender_domain").values_list("sender_domain", flat=True).distinct()
    recipients = (
        rows.order_by("recipient_domain").values_list("recipient_domain", flat=True).distinct()
    )
    return [d for d in senders if d], [d for d in recipients if d]
