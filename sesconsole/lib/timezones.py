"""Days in an account's time zone: one rule for every page, API, export and Tencent action.

A date range `start`..`end` names whole local days, `end` included, so it selects
`[local_midnight(start), local_midnight(end + 1 day))` in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

# The dates every query accepts: outside them datetime arithmetic in the account's zone
# (or PostgreSQL's timestamp range) would overflow.
MIN_DAY = date(1970, 1, 2)
MAX_DAY = date(9999, 12, 30)


def zone_of(account) -> ZoneInfo:
    """The account's zone (`account.time_zone`, a ZoneInfo or its name)."""
    tz = account.time_zone
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz`."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def day_bounds(start: date | None, end: date | None, tz: ZoneInfo) -> tuple:
    """`[from, until)` in UTC for the local days `start`..`end` (either may be None)."""
    since = local_midnight(start, tz) if start is not None else None
    until = local_midnight(end + timedelta(days=1), tz) if end is not None else None
    return since, until


def local_today(tz: ZoneInfo) -> date:
    return timezone.now().astimezone(tz).date()
