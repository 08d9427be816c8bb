"""Which domains have rollup rows of their own, and when (see docs/statistics.md).

An account's rollups keep one row per (sender domain, recipient domain) pair only for its
tracked domains; every other domain is counted under `OTHER`. Whether a domain counts
under its own name is a function of the instant being counted (an event's timestamp, a
first open's time) and the account's TrackedDomain intervals, so the live consumer, a
rebuild and the statistics queries all agree on which rows hold what.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Q

from sesconsole.models import Account

from .models import OTHER, Side, TrackedDomain

Interval = tuple[datetime, datetime | None]  # [since, until); until None: still tracked

# First key of the advisory lock that orders counting batches (shared) against a change
# of the tracked domains (exclusive), the second being the account's id.
TRACKING_LOCK = 11_0002


@dataclass
class Tracker:
    """An account's tracking intervals, keyed by (side, domain)."""

    intervals: dict[tuple[str, str], list[Interval]] = field(default_factory=dict)

    def tracks(self, side: str, domain: str, at: datetime) -> bool:
        for since, until in self.intervals.get((side, domain), ()):
            if since <= at and (until is None or at < until):
                return True
        return False

    def map(self, domains: tuple[str, str], at: datetime) -> tuple[str, str]:
        """The (sender, recipient) domains of the rollup row counting `domains` at `at`."""
        sender, recipient = domains
        return (
            sender if self.tracks(Side.SENDER, sender, at) else OTHER,
            recipient if self.tracks(Side.RECIPIENT, recipient, at) else OTHER,
        )

    def covered(self, side: str, domain: str) -> list[Interval]:
        return sorted(self.intervals.get((side, domain), ()))


def load_tracker(account_id: int, *, lock: bool = True, only: Q | None = None) -> Tracker:
    """The account's intervals (those `only` selects, if given). With `lock`, inside a
    transaction, a promotion cannot commit until this transaction ends (so a batch counts
    with the intervals it read)."""
    if lock and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock_shared(%s, %s)", [TRACKING_LOCK, account_id]
            )
    intervals: dict[tuple[str, str], list[Interval]] = defaultdict(list)
    rows = TrackedDomain.objects.filter(account_id=account_id)
    if only is not None:
        rows = rows.filter(only)
    rows = rows.values_list("side", "domain", "since", "until")
    for side, domain, since, until in rows:
        intervals[(side, domain)].append((since, until))
    return Tracker(dict(intervals))


def lock_tracking(account_id: int) -> None:
    """Wait for the account's counting batches in flight; hold them off until commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TRACKING_LOCK, account_id])


def covered_intervals(
    account: Account, sender_domain: str | None, recipient_domain: str | None
) -> list[Interval]:
    """When the rollups hold the counts of this filter: the intersection of the intervals
    of the filtered sides (a pair's row exists only while both of its domains are tracked)."""
    filters = [(Side.SENDER, sender_domain), (Side.RECIPIENT, recipient_domain)]
    only = Q(pk__in=[])
    for side, domain in filters:
        if domain:
            only |= Q(side=side, domain=domain)
    # The filtered domains' intervals only, not the thousands an account may track.
    tracker = load_tracker(account.pk, lock=False, only=only)
    result: list[Interval] | None = None
    for side, domain in filters:
        if domain:
            spans = tracker.covered(side, domain)
            result = spans if result is None else _intersect(result, spans)
    return result or []


def gaps(
    covered: list[Interval], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) outside `covered` (sorted, disjoint intervals)."""
    out = []
    at = start
    for since, until in covered:
        if since > at:
            out.append((at, min(since, end)))
        at = end if until is None else max(at, until)
        if at >= end:
            break
    if at < end:
        out.append((at, end))
    return [(a, b) for a, b in out if a < b]


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s1, u1 in a:
        for s2, u2 in b:
            since = max(s1, s2)
            until = u1 if u2 is None else u2 if u1 is None else min(u1, u2)
            if until is None or since < until:
                out.append((since, until))
    return sorted(out)
