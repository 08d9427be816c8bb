"""Keeping rollups exact: the ingestion consumer, the batch upsert, and the rebuild.

What a message contributes to the rollups, with D its (sender, recipient) domains:
- each of its events adds 1 to its type's counter (a bounce also to its class's) in the
  buckets of the event's timestamp, under D;
- if it was ever opened, 1 to `opened_unique` in the buckets of `first_opened_at`, under D
  (likewise clicks);
- the same again for the `*_human` counters from the events not flagged `is_machine`, the
  unique ones at `first_human_opened_at` / `first_human_clicked_at`.
The consumer adds, per batch, exactly the change in that contribution, so live counts
always equal `rebuild()` over the same events:

    delta = new events at D1
          + (earlier events at D1 - earlier events at D0)   only if D0 ≠ D1 (rare: an event
                                                            arrived before its `request`)
          + unique(first open after) at D1 - unique(first open before) at D0

D0 and the first (human) open/click "before" come from `before`, the `CountedState` of each
message that ingestion takes when it locks the message, before the batch changes it.

Every contribution lands in the row of its domains as mapped at its own instant by the
account's tracked domains (`stats.tracking`): a domain not tracked then counts as `OTHER`.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from delivery.contract import EVENTS, BounceClass, EventType, bounce_counter
from delivery.models import CountedState, DeliveryEvent, Message, PendingFold
from sesconsole.lib.sql import add_to_counters
from sesconsole.models import Account

from . import partitions
from .models import ALL, COUNTERS, OTHER, Rollup, SeenDomain, Side, TrackedDomain
from .tracking import Tracker, load_tracker

SIZES = [size.value for size in Rollup.Size]
# Minute rows serve the live view; older ones are pruned (quarter-hours and hours stay).
MINUTE_RETENTION = timedelta(days=3)
_COUNTER_INDEX = {name: i for i, name in enumerate(COUNTERS)}
Key = tuple[int, datetime, str, str]  # size, bucket, sender domain, recipient domain


def bucket_start(ts: datetime, size: int) -> datetime:
    """The UTC start of the `size`-minute bucket holding `ts` (buckets align to the hour)."""
    return ts.replace(minute=ts.minute - ts.minute % size, second=0, microsecond=0)


# Message field of the first (human) open/click -> the unique counter kept in its bucket.
_FIRSTS = tuple(
    pair
    for rule in EVENTS.values()
    if rule.unique_counter is not None
    for pair in (
        (rule.first_field, rule.unique_counter),
        *([(rule.first_human_field, rule.human_unique_counter)] if rule.human else []),
    )
)


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


@functools.cache
def counters_of(
    event_type: str, bounce_class: str = "", is_machine: bool = False
) -> tuple[str, ...]:
    """The counters one event adds 1 to (see delivery.contract)."""
    rule = EVENTS[event_type]
    if event_type == EventType.BOUNCED:
        return (rule.counter, bounce_counter(bounce_class))
    if rule.human and not is_machine:
        return (rule.counter, rule.human_counter)
    return (rule.counter,)


class Deltas:
    """Counter changes keyed by rollup row, for one upsert."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.rows: dict[Key, list[int]] = defaultdict(lambda: [0] * len(COUNTERS))

    def add(
        self,
        domains: tuple[str, str],
        ts: datetime,
        counters: Iterable[str],
        n: int = 1,
        tracker: Tracker | None = None,
    ):
        self.add_mapped((tracker or self.tracker).map(domains, ts), ts, counters, n)

    def add_mapped(
        self, domains: tuple[str, str], ts: datetime, counters: Iterable[str], n: int = 1
    ):
        """`add` for domains already mapped to their rollup row at `ts`."""
        indexes = [_COUNTER_INDEX[c] for c in counters]
        for size in SIZES:
            bucket = bucket_start(ts, size)
            # The row of the domain pair, and the account's all-domains row.
            for row in (self.rows[(size, bucket, *domains)], self.rows[(size, bucket, ALL, ALL)]):
                for i in indexes:
                    row[i] += n

    def nonzero(self) -> list[tuple[Key, list[int]]]:
        return sorted((k, v) for k, v in self.rows.items() if any(v))


def count_events(
    account: Account, events: list[DeliveryEvent], before: dict[int, CountedState]
) -> None:
    """The ingestion consumer: fold newly stored events into the rollups (see module doc)."""
    if not events:
        return
    deltas = Deltas(load_tracker(account.pk))
    tracker = deltas.tracker
    messages: dict[int, Message] = {}
    new_event_ids: dict[int, list[int]] = defaultdict(list)
    # Contributions counted alike (same rollup row once mapped, same minute, same counters)
    # are summed before they reach the rows: a batch has far fewer such groups than events.
    groups: Counter = Counter()
    for event in events:
        message = event.message
        messages[event.message_id] = message
        new_event_ids[event.message_id].append(event.pk)
        ts = event.timestamp
        counters = counters_of(event.type, event.bounce_class, event.is_machine)
        groups[(tracker.map(_domains(message), ts), _minute(ts), counters)] += 1

    moved: dict[int, tuple[tuple[str, str], tuple[str, str]]] = {}
    for pk, message in messages.items():
        was = before[pk]
        d0, d1 = (was.sender_domain, was.recipient_domain), _domains(message)
        if d0 != d1:
            moved[pk] = (d0, d1)
        for field, counter in _FIRSTS:
            old, new = getattr(was, field), getattr(message, field)
            if (old, d0) != (new, d1):
                if old is not None:
                    groups[(tracker.map(d0, old), _minute(old), (counter,))] -= 1
                if new is not None:
                    groups[(tracker.map(d1, new), _minute(new), (counter,))] += 1
    for (mapped, minute, counters), n in groups.items():
        if n:
            deltas.add_mapped(mapped, minute, counters, n)

    if moved:
        # Events counted in earlier batches under the old domains move to the new ones.
        earlier = (
            DeliveryEvent.objects.filter(message_id__in=list(moved))
            .exclude(pk__in=[pk for m in moved for pk in new_event_ids[m]])
            # Stored but not yet folded (deferred mode): counted when their turn comes.
            .exclude(pk__in=PendingFold.objects.filter(message_id__in=list(moved)).values("event"))
            .values_list("message_id", "type", "timestamp", "bounce_class", "is_machine")
        )
        for message_pk, event_type, ts, bounce_class, is_machine in earlier:
            d0, d1 = moved[message_pk]
            counters = counters_of(event_type, bounce_class, is_machine)
            deltas.add(d0, ts, counters, -1)
            deltas.add(d1, ts, counters, +1)

    upsert(account.pk, deltas)
    remember_domains(account.pk, {_domains(m) for m in messages.values()})


# (account, side, domain) already in SeenDomain, as far as this process knows.
_SEEN: set[tuple[int, str, str]] = set()
_SEEN_LIMIT = 200_000


def remember_domains(account_id: int, pairs: Iterable[tuple[str, str]]) -> None:
    """Add the domains this process has not yet seen to the filter menus (SeenDomain)."""
    new = {
        key
        for sender, recipient in pairs
        for key in (
            (account_id, Side.SENDER.value, sender),
            (account_id, Side.RECIPIENT.value, recipient),
        )
        if key not in _SEEN
    }
    if not new:
        return
    now = timezone.now()
    SeenDomain.objects.bulk_create(
        [SeenDomain(account_id=a, side=s, domain=d, last_seen=now) for a, s, d in sorted(new)],
        ignore_conflicts=True,
    )
    if len(_SEEN) > _SEEN_LIMIT:
        _SEEN.clear()
    transaction.on_commit(lambda: _SEEN.update(new))


def _domains(message: Message) -> tuple[str, str]:
    return (message.sender_domain, message.recipient_domain)


_KEY_FIELDS = ["account", "size", "bucket", "sender_domain", "recipient_domain"]


def upsert(account_id: int, deltas: Deltas) -> int:
    """Add the deltas to their rollup rows (created at zero if missing), in key order."""
    rows = [(account_id, *key, *values) for key, values in deltas.nonzero()]
    add_to_counters(Rollup, _KEY_FIELDS, COUNTERS, rows)
    return len(rows)


# ---------------------------------------------------------------------------------------
# Rebuild: the same contribution, computed in SQL from the stored events and messages.


def _minute_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('minute', {column})"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:00', {column})"


def _coarser_sql(column: str, size: int) -> str:
    if connection.vendor == "postgresql":
        return f"date_bin('{size} minutes', {column}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
    if size == 60:
        return f"strftime('%%Y-%%m-%%d %%H:00:00', {column})"
    return (
        f"strftime('%%Y-%%m-%%d %%H:', {column}) || "
        f"printf('%%02d', CAST(strftime('%%M', {column}) AS INTEGER) / {size} * {size}) || ':00'"
    )


def align_range(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """Widen [since, until) to whole hours, the largest bucket."""
    start = bucket_start(since, 60)
    end = bucket_start(until, 60)
    if end < until:
        end += timedelta(hours=1)
    return start, end


def contributions_sql(event_where: str, first_where: str) -> tuple[str, int]:
    """A SELECT of every contribution (see the module doc) as rows of
    (account_id, sender_domain, recipient_domain, ts, <COUNTERS>), with the message's domains.

    `event_where` filters events `e` joined to their message `m`; `first_where` filters
    messages `m` for each first (human) open/click, `{column}` standing for its column.
    Returns the SQL and how many times the caller repeats its parameters (one per part).
    """
    qn = connection.ops.quote_name
    events = qn(DeliveryEvent._meta.db_table)
    messages = qn(Message._meta.db_table)

    def event_counter(name: str) -> str:
        if name.endswith("_unique"):
            return f"0 AS {name}"
        if name.startswith("bounced_"):
            cls = name.removeprefix("bounced_")
            match = f"(e.bounce_class = '{cls}'" + (
                " OR e.bounce_class = '')" if cls == BounceClass.OTHER else ")"
            )
            return f"CASE WHEN e.type = 'bounced' AND {match} THEN 1 ELSE 0 END AS {name}"
        if name.endswith("_human"):
            event_type = _type_of(name.removesuffix("_human"))
            return (
                f"CASE WHEN e.type = '{event_type}' AND NOT e.is_machine THEN 1 ELSE 0 END"
                f" AS {name}"
            )
        event_type = _type_of(name)
        return f"CASE WHEN e.type = '{event_type}' THEN 1 ELSE 0 END AS {name}"

    def first_select(column: str, wanted: str) -> str:
        return (
            f"SELECT m.account_id, m.sender_domain, m.recipient_domain, m.{column} AS ts, "
            + ", ".join(f"{1 if c == wanted else 0} AS {c}" for c in COUNTERS)
            + f" FROM {messages} m WHERE "
            + first_where.format(column=f"m.{column}")
        )

    sql = (
        "SELECT e.account_id, m.sender_domain, m.recipient_domain, e.timestamp AS ts, "
        + ", ".join(event_counter(c) for c in COUNTERS)
        + f" FROM {events} e JOIN {messages} m ON m.id = e.message_id WHERE {event_where}"
        + "".join(" UNION ALL " + first_select(field, name) for field, name in _FIRSTS)
    )
    return sql, 1 + len(_FIRSTS)


def mapped_domain_sql(side: str, alias: str = "x") -> str:
    """The domain column of contribution rows `alias` as the rollups hold it at `alias.ts`
    (Tracker.map in SQL): the domain while tracked, else OTHER."""
    qn = connection.ops.quote_name
    tracked = qn(TrackedDomain._meta.db_table)
    column = f"{alias}.{side}_domain"
    return (
        f"CASE WHEN EXISTS (SELECT 1 FROM {tracked} t WHERE t.account_id = {alias}.account_id"
        f" AND t.side = '{side}' AND t.domain = {column} AND t.since <= {alias}.ts"
        f" AND (t.until IS NULL OR {alias}.ts < t.until)) THEN {column} ELSE '{OTHER}' END"
    )


def rebuild(since: datetime, until: datetime, account: Account | None = None) -> int:
    """Recompute every rollup row in [since, until) (widened to whole hours) from events.

    Returns the number of minute rows written.
    """
    since, until = align_range(since, until)
    qn = connection.ops.quote_name
    table = qn(Rollup._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    where_account = "AND {alias}.account_id = %s" if account is not None else ""

    def params(n: int) -> list:
        one = [adapt(since), adapt(until)] + ([account.pk] if account is not None else [])
        return one * n

    contributions, parts = contributions_sql(
        "e.timestamp >= %s AND e.timestamp < %s " + where_account.format(alias="e"),
        "{column} >= %s AND {column} < %s " + where_account.format(alias="m"),
    )
    counter_cols = ", ".join(qn(c) for c in COUNTERS)
    key_cols = "account_id, size, bucket, sender_domain, recipient_domain"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE bucket >= %s AND bucket < %s "
            + where_account.format(alias=table),
            params(1),
        )
        cursor.execute(
            f"INSERT INTO {table} ({key_cols}, {counter_cols}) "
            f"SELECT y.account_id, 1, y.minute, y.sd, y.rd, "
            + ", ".join(f"SUM(y.{c})" for c in COUNTERS)
            + f" FROM (SELECT x.account_id, {_minute_sql('x.ts')} AS minute, "
            f"{mapped_domain_sql('sender')} AS sd, {mapped_domain_sql('recipient')} AS rd, "
            + ", ".join(f"x.{c}" for c in COUNTERS)
            + f" FROM ({contributions}) x) y GROUP BY y.account_id, y.minute, y.sd, y.rd",
            params(parts),
        )
        written = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} ({key_cols}, {counter_cols}) "
            f"SELECT r.account_id, 1, r.bucket, '{ALL}', '{ALL}', "
            + ", ".join(f"SUM(r.{qn(c)})" for c in COUNTERS)
            + f" FROM {table} r WHERE r.size = 1 AND r.bucket >= %s AND r.bucket < %s "
            + where_account.format(alias="r")
            + " GROUP BY r.account_id, r.bucket",
            params(1),
        )
        for finer, size in ((1, 15), (15, 60)):
            coarse = _coarser_sql("r.bucket", size)
            cursor.execute(
                f"INSERT INTO {table} ({key_cols}, {counter_cols}) "
                f"SELECT r.account_id, {size}, {coarse}, r.sender_domain, r.recipient_domain, "
                + ", ".join(f"SUM(r.{qn(c)})" for c in COUNTERS)
                + f" FROM {table} r WHERE r.size = {finer} AND r.bucket >= %s AND r.bucket < %s "
                + where_account.format(alias="r")
                + f" GROUP BY r.account_id, {coarse}, r.sender_domain, r.recipient_domain",
                params(1),
            )
        prune_minute_rows(timezone.now())
    return written


def prune_minute_rows(now: datetime) -> int:
    """Delete minute rows older than MINUTE_RETENTION; returns how many went.

    On PostgreSQL whole expired days are dropped first (stats.partitions) and the days
    ahead created; the DELETE then only meets the cutoff day's and stray rows.
    """
    dropped = 0
    if partitions.is_partitioned():
        partitions.ensure_minute_days(now)
        dropped = partitions.drop_minute_days(now - MINUTE_RETENTION)
    old = Rollup.objects.filter(size=Rollup.Size.MINUTE, bucket__lt=now - MINUTE_RETENTION)
    deleted, _ = old.delete()
    return dropped + deleted


def _type_of(counter: str) -> str:
    for event_type, rule in EVENTS.items():
        if rule.counter == counter:
            return event_type
    raise KeyError(counter)
