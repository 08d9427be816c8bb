"""Statistics queries. Everything here reads rollups, except a filter on a domain the
rollups do not hold on its own at some time (an untracked domain): those times are
counted from the raw events of that domain (`stats.tail`), which are few by definition.

`series()` returns exactly the body of `GET /api/v1/stats/`; other code (pages, exports,
the Tencent-compatible endpoint) calls it rather than querying rollups itself.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Max, Q
from django.utils import timezone

from delivery.fold import Backlog, backlog
from sesconsole.lib.errors import ServiceError
from sesconsole.lib.idn import display_domain
from sesconsole.lib.timezones import MAX_DAY, MIN_DAY, local_midnight, zone_of
from sesconsole.models import Account

from .models import ALL, COUNTERS, Rollup, SeenDomain, TrackedDomain
from .rollups import MINUTE_RETENTION
from .tail import counts_by_minute
from .tracking import covered_intervals, gaps

GRANULARITIES = ("minute", "hour", "day")
# Bounded ranges keep every chart query a small index range scan.
MAX_BUCKETS = {"minute": 48 * 60, "hour": 45 * 24, "day": 400}
_STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}


class StatsError(ServiceError):
    """Bad input to a statistics query, with a stable code for the API."""


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
    if start < MIN_DAY or end > MAX_DAY:
        raise StatsError("invalid_range", f"Dates must lie between {MIN_DAY} and {MAX_DAY}.")
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
    """Like `series()` for the instants [start, end), which should fall on bucket starts
    (on quarter-hours, for ranges older than the minute rows' retention)."""
    if granularity not in GRANULARITIES:
        raise StatsError("invalid_granularity", "'granularity' must be minute, hour or day.")
    tz = zone_of(account)
    if granularity == "minute" and start < timezone.now() - MINUTE_RETENTION:
        days = MINUTE_RETENTION.days
        raise StatsError(
            "range_too_old",
            f"Minute resolution covers the last {days} days; use 'hour' or 'day' before that.",
        )
    bounds = _boundaries(start.astimezone(UTC), end.astimezone(UTC), granularity, tz)
    starts = bounds[:-1]
    if not starts:
        raise StatsError("invalid_range", "The range is empty.")

    adapt = connection.ops.adapt_datetimefield_value
    where = ["account_id = %s"]
    params: list = [account.pk]
    tail: list[tuple[datetime, datetime]] = []
    tiles = _tiling(granularity, bounds)
    if sender_domain or recipient_domain:
        if sender_domain:
            where.append("sender_domain = %s")
            params.append(sender_domain)
        if recipient_domain:
            where.append("recipient_domain = %s")
            params.append(recipient_domain)
        # Rollup rows hold the filter only while its domains are tracked (whole hours);
        # the rest of the range comes from the events.
        covered = covered_intervals(account, sender_domain, recipient_domain)
        tail = gaps(covered, bounds[0], bounds[-1])
        spans = []
        for since, until in covered:
            if until is None:
                spans.append("bucket >= %s")
                params.append(adapt(since))
            else:
                spans.append("(bucket >= %s AND bucket < %s)")
                params += [adapt(since), adapt(until)]
        if spans:
            where.append("(" + " OR ".join(spans) + ")")
        else:
            tiles = []
    else:
        # Literal, so the planner matches the partial index `rollup_all_domains` whatever
        # the parameter binding.
        where.append(f"sender_domain = '{ALL}' AND recipient_domain = '{ALL}'")

    # Days are few and uneven (local midnights): the database numbers them itself, so a
    # 30-day chart returns 30 rows, not 720 hours. Plain SQL: with 30 branches and 120
    # quarter-hours listed, building this through the ORM costs more than running it.
    by_day = granularity == "day"
    if by_day:
        key = "CASE " + " ".join(f"WHEN bucket < %s THEN {i}" for i in range(len(starts))) + " END"
        key_params = [adapt(b) for b in bounds[1:]]
    else:
        key, key_params = "bucket", []
    sums = ", ".join(f"SUM({c})" for c in COUNTERS)
    table = Rollup._meta.db_table
    values = [[0] * len(COUNTERS) for _ in starts]
    for tile_sql, tile_params in tiles:
        sql = (
            f"SELECT {key}, {sums} FROM {table} WHERE {' AND '.join(where)} AND {tile_sql} "
            "GROUP BY 1"
        )
        for k, *counts in _fetch(sql, [*key_params, *params, *tile_params], by_day):
            acc = values[k if by_day else bisect_right(starts, k) - 1]
            for j, n in enumerate(counts):
                acc[j] += n or 0
    for minute, counts in counts_by_minute(account.pk, sender_domain, recipient_domain, tail):
        acc = values[max(bisect_right(starts, minute) - 1, 0)]
        for j, n in enumerate(counts):
            acc[j] += n
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


def _fetch(sql: str, params: list, keyed: bool) -> list[tuple]:
    """Rows as plain tuples (Django's per-value converters cost more than the query)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not keyed and rows and not (isinstance(rows[0][0], datetime) and rows[0][0].tzinfo):
        # SQLite answers naive UTC (text or datetime).
        rows = [(_utc(b), *rest) for b, *rest in rows]
    return rows


def _utc(value: str | datetime) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return at.replace(tzinfo=UTC)


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


def _tiling(granularity: str, bounds: list[datetime]) -> list[tuple[str, list]]:
    """SQL conditions for the rollup rows that tile [bounds[0], bounds[-1]) exactly.

    Hour rows, except in the hours a bucket boundary cuts (a local day in Asia/Kolkata
    starts at 18:30 UTC): those take quarter-hour rows, or minute rows if a boundary is
    not on a quarter-hour. Minute granularity reads minute rows. One condition per size,
    each a plain index range or list lookup.
    """
    adapt = connection.ops.adapt_datetimefield_value
    start, end = bounds[0], bounds[-1]

    def in_list(values: list[datetime]) -> str:
        return "(" + ", ".join(["%s"] * len(values)) + ")"

    if granularity == "minute":
        return [("size = 1 AND bucket >= %s AND bucket < %s", [adapt(start), adapt(end)])]
    cut: dict[datetime, int] = {}
    for b in bounds:
        if b.minute or b.second or b.microsecond:
            hour = b.replace(minute=0, second=0, microsecond=0)
            fine = Rollup.Size.MINUTE if (b.minute % 15 or b.second or b.microsecond) else 15
            cut[hour] = min(cut.get(hour, 60), fine)
    hours = ("size = 60 AND bucket >= %s AND bucket < %s", [adapt(start), adapt(end)])
    if not cut:
        return [hours]
    if granularity == "hour":
        # Every hour is cut (local hours at :30 UTC): one range over the finer rows.
        size = min(cut.values())
        return [(f"size = {int(size)} AND bucket >= %s AND bucket < %s", hours[1])]
    finer: dict[int, list[datetime]] = {}
    for hour, size in cut.items():
        finer.setdefault(size, []).extend(
            at
            for at in (hour + timedelta(minutes=m) for m in range(0, 60, size))
            if start <= at < end
        )
    tiles = [
        (
            f"{hours[0]} AND bucket NOT IN {in_list(list(cut))}",
            [*hours[1], *(adapt(h) for h in cut)],
        )
    ]
    for size, buckets in finer.items():
        if buckets:
            tiles.append(
                (
                    f"size = {int(size)} AND bucket IN {in_list(buckets)}",
                    [adapt(b) for b in buckets],
                )
            )
    return tiles


def _iso(at: datetime, tz: ZoneInfo) -> str:
    text = at.astimezone(tz).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


# ---------------------------------------------------------------------------------------
# Smaller questions the pages ask.


@dataclass(frozen=True)
class Freshness:
    as_of: datetime
    latest_bucket: datetime | None
    backlog: Backlog  # events received but not counted yet (deferred fold)


def freshness(account: Account) -> Freshness:
    """When the figures were read, the newest minute that has any event, and what they do
    not count yet."""
    latest = (
        Rollup.objects.for_account(account)
        .filter(size=Rollup.Size.MINUTE)
        .aggregate(latest=Max("bucket"))["latest"]
    )
    return Freshness(as_of=timezone.now(), latest_bucket=latest, backlog=backlog(account))


DOMAIN_MENU_SIZE = 100  # suggestions a filter shows; past it, they follow what is typed
DOMAIN_MENU_DAYS = 90
# Internationalised domains read to match what is typed in Unicode: they are decoded one by
# one, so their number is bounded (an account's IDNs are a small share of its domains).
IDN_SCAN = 5_000


def _menu_domains(account: Account, side: str, days: int):
    """The account's domains on one side of the last `days` days, as two querysets: the
    SeenDomain list and the tracked ones (index ranges, whatever the traffic)."""
    since = timezone.now() - timedelta(days=days)
    seen = SeenDomain.objects.filter(account=account, side=side, last_seen__gte=since)
    tracked = TrackedDomain.objects.filter(account=account, side=side).filter(
        Q(until__isnull=True) | Q(until__gte=since)
    )
    return [rows.exclude(domain="") for rows in (seen, tracked)]


def domain_menu(
    account: Account,
    side: str,
    *,
    starting: str = "",
    limit: int = DOMAIN_MENU_SIZE,
    days: int = DOMAIN_MENU_DAYS,
) -> list[str]:
    """The first `limit` of the account's `side` domains (in order) that start with
    `starting`: a filter's suggestions. An account with thousands of domains sends a
    page a hundred of them, and the rest as its user types. Domains are stored in their
    A-labels; what is typed in Unicode (`例子`, `bü`) is matched against the U-labels of
    the internationalised ones (their A-labels do not start with it)."""
    # As IDNA reads what is typed (UTS #46): full-width letters and the ideographic full
    # stop an input method types ("例子。中国") are the plain ones.
    typed = unicodedata.normalize("NFKC", starting).lower().replace("\u3002", ".")
    found: set[str] = set()
    for rows in _menu_domains(account, side, days):
        if not typed.isascii():
            idns = rows.filter(domain__contains="xn--").order_by("domain")
            found.update(
                domain
                for domain in idns.values_list("domain", flat=True)[:IDN_SCAN]
                if display_domain(domain).startswith(typed)
            )
            continue
        if typed:
            rows = rows.filter(domain__startswith=typed)
        found.update(rows.order_by("domain").values_list("domain", flat=True)[:limit])
    return sorted(found)[:limit]


def domain_known(account: Account, side: str, domain: str, days: int = DOMAIN_MENU_DAYS) -> bool:
    """Whether `domain` is one of the account's `side` domains a filter may name."""
    return any(rows.filter(domain=domain).exists() for rows in _menu_domains(account, side, days))


def bucket_floor(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)
