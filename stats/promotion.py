"""Choosing each account's tracked domains: its busiest, by recent messages.

A change takes effect at the next whole hour (`switch`), so every rollup bucket of every
size lies wholly before or after it. Rows before the switch keep what they counted; from
the switch on, a promoted domain gets its own rows and a demoted one counts as `OTHER`.
Contributions already counted at or after the switch (events stamped in the future) are
moved to their new rows in the same transaction, so live counts stay equal to a rebuild.
The job holds the account's tracking lock exclusively: no counting batch of the account
is in flight while it changes the intervals, and later batches read the new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from delivery.contract import EVENTS
from delivery.models import DeliveryEvent, Message, PendingFold
from sesconsole.models import Account

from .models import COUNTERS, SeenDomain, Side, TrackedDomain
from .rollups import Deltas, bucket_start, contributions_sql, upsert
from .tracking import Tracker, load_tracker, lock_tracking

# Domains not seen for this long leave the filter menus.
SEEN_RETENTION = timedelta(days=90)


@dataclass
class Changes:
    switch: datetime
    promoted: list[tuple[str, str]] = field(default_factory=list)
    demoted: list[tuple[str, str]] = field(default_factory=list)
    moved_rows: int = 0


def limits() -> dict[str, int]:
    return {
        Side.SENDER: settings.STATS_TRACKED_SENDER_DOMAINS,
        Side.RECIPIENT: settings.STATS_TRACKED_RECIPIENT_DOMAINS,
    }


def choose_tracked_domains(account: Account, now: datetime | None = None) -> Changes:
    """Track the account's top domains of the last STATS_TRACKED_WINDOW_DAYS from the next
    hour on. Set-based and idempotent: a second run with the same traffic changes nothing."""
    now = now or timezone.now()
    switch = bucket_start(now, 60) + timedelta(hours=1)
    since = now - timedelta(days=settings.STATS_TRACKED_WINDOW_DAYS)
    changes = Changes(switch)
    # The volumes are read before taking the lock: counting batches wait only for the
    # few writes below, not for this scan of a week of messages.
    # Requested (or rejected) messages only: one whose request has not arrived is listed at
    # its first event, but it is no traffic the statistics count as sent.
    recent = Message.objects.filter(
        account=account, requested_at__gte=since, request_received=True
    ).order_by()
    volumes = {
        side: dict(
            recent.values_list(f"{side}_domain")
            .annotate(n=Count("id"))
            .values_list(f"{side}_domain", "n")
        )
        for side in Side.values
    }
    _refresh_seen(account, volumes, now)
    with transaction.atomic():
        lock_tracking(account.pk)
        before = load_tracker(account.pk, lock=False)
        for side, limit in limits().items():
            _retrack(account, side, volumes[side], limit, switch, changes)
        if changes.promoted or changes.demoted:
            after = load_tracker(account.pk, lock=False)
            changes.moved_rows = _move_counted(account, before, after, changes)
    return changes


def _retrack(
    account: Account, side: str, volume: dict[str, int], limit: int, switch: datetime, changes
) -> None:
    open_rows = {
        row.domain: row
        for row in TrackedDomain.objects.filter(account=account, side=side, until__isnull=True)
    }
    # Busiest first; on a tie the domain already tracked stays (no churn at the boundary).
    ranked = sorted(volume, key=lambda d: (-volume[d], d not in open_rows, d))
    wanted = set(ranked[:limit])
    for domain, row in open_rows.items():
        if domain in wanted:
            continue
        if row.since >= switch:  # promoted for an hour that has not begun: never was
            row.delete()
        else:
            row.until = switch
            row.save(update_fields=["until"])
        changes.demoted.append((side, domain))
    for domain in sorted(wanted - set(open_rows)):
        # Demoted for the same switch by an earlier run: the interval simply goes on.
        reopened = TrackedDomain.objects.filter(
            account=account, side=side, domain=domain, until=switch
        ).update(until=None)
        if not reopened:
            TrackedDomain.objects.create(account=account, side=side, domain=domain, since=switch)
        changes.promoted.append((side, domain))


def _refresh_seen(account: Account, volumes: dict[str, dict[str, int]], now: datetime) -> None:
    SeenDomain.objects.bulk_create(
        [
            SeenDomain(account=account, side=side, domain=domain, last_seen=now)
            for side, by_domain in volumes.items()
            for domain in sorted(by_domain)
        ],
        update_conflicts=True,
        unique_fields=["account", "side", "domain"],
        update_fields=["last_seen"],
    )
    SeenDomain.objects.filter(account=account, last_seen__lt=now - SEEN_RETENTION).delete()


def _move_counted(account: Account, before: Tracker, after: Tracker, changes: Changes) -> int:
    """Move what is already counted at or after the switch for the changed domains from the
    rows of the old intervals to those of the new ones."""
    adapt = connection.ops.adapt_datetimefield_value
    changed = [*changes.promoted, *changes.demoted]
    domain_sql = " OR ".join(f"m.{side}_domain = %s" for side, _ in changed)
    domain_params = [domain for _, domain in changed]
    qn = connection.ops.quote_name
    pending = qn(PendingFold._meta.db_table)
    # Event types listed so the (account, type, timestamp) index gives one short range
    # per type; a first open/click at or after the switch is the time of such an event.
    types = ", ".join(f"'{t}'" for t in EVENTS)
    recent = (
        f"e.account_id = %s AND e.type IN ({types}) AND e.timestamp >= %s"
        f" AND NOT EXISTS (SELECT 1 FROM {pending} p WHERE p.event_id = e.id)"
    )
    events = qn(DeliveryEvent._meta.db_table)
    sql, parts = contributions_sql(
        f"{recent} AND ({domain_sql})",
        f"m.account_id = %s AND {{column}} >= %s AND ({domain_sql}) AND m.id IN"
        f" (SELECT e.message_id FROM {events} e WHERE {recent})",
    )
    switch = adapt(changes.switch)
    params = [account.pk, switch, *domain_params]
    params += [account.pk, switch, *domain_params, account.pk, switch] * (parts - 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    deltas = Deltas(after)
    for _, sender, recipient, ts, *values in rows:
        at = _utc(ts)
        counters = [c for c, v in zip(COUNTERS, values, strict=True) if v]
        deltas.add((sender, recipient), at, counters, -1, tracker=before)
        deltas.add((sender, recipient), at, counters, +1)
    return upsert(account.pk, deltas)


def _utc(value: str | datetime) -> datetime:
    """A row's instant as an aware UTC datetime (SQLite answers naive ones or text)."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def choose_for_all_accounts(now: datetime | None = None) -> int:
    """The beat job: every account's tracked domains; returns how many changed."""
    changed = 0
    for account in Account.objects.order_by("pk"):
        result = choose_tracked_domains(account, now)
        changed += len(result.promoted) + len(result.demoted)
    return changed
