"""Folding stored events into message state and the rollups, apart from the request.

With `INGEST_FOLD=deferred` (production at scale) an ingestion request validates and stores
its events exactly once, runs the consumers that must act at once (blocks from hard bounces,
unsubscribes and complaints: the next send is stopped immediately), queues each event in
`PendingFold`, and answers. Workers then call `fold_pending()`:

1. Claim up to `limit` queued events: one DELETE … RETURNING over rows locked with SKIP
   LOCKED, so racing workers split the queue and each event is claimed once.
2. Lock the events' messages in primary-key order (the order every writer uses), take what
   each counted as, apply the addresses a request event brought, fold the events in time
   order, and write the messages back.
3. Add the change to the rollups (`stats.rollups.count_events`).
All three commit together: a worker that dies mid-fold leaves its events queued.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from sesconsole.lib.sql import execute, instance, update_rows
from sesconsole.models import Account
from stats.rollups import count_events

from .addresses import domain_of
from .contract import EventType
from .models import CountedState, DeliveryEvent, Message, PendingFold

log = logging.getLogger(__name__)

STATE_FIELDS = [
    "from_address",
    "sender_domain",
    "recipient",
    "recipient_domain",
    "subject",
    "requested_at",
    "request_received",
    "status",
    "status_at",
    "bounce_class",
    "response_text",
    "first_opened_at",
    "first_clicked_at",
    "unsubscribed_at",
    "complained_at",
    "open_count",
    "click_count",
    "first_human_opened_at",
    "first_human_clicked_at",
]


def apply_addresses(message: Message, event_type: str, from_address: str, to: str, subject: str):
    """A request event is authoritative for its message's addresses and subject; any event
    fills them in while the message has none."""
    if event_type == EventType.REQUEST or not message.recipient:
        if from_address:
            message.from_address = from_address
            message.sender_domain = domain_of(from_address)
        if to:
            message.recipient = to
            message.recipient_domain = domain_of(to)
        if subject:
            message.subject = subject


def fold_into_messages(
    account: Account, events: list[DeliveryEvent], before: dict[int, CountedState]
) -> None:
    """Apply `events` (their `message` attached and locked) and count them: the fold itself,
    whether it runs inside the ingestion request or in a worker."""
    events.sort(key=lambda e: e.timestamp)
    for event in events:
        event.message.apply_event(event)
    if events:
        update_rows(list({e.message.pk: e.message for e in events}.values()), STATE_FIELDS)
    count_events(account, events, before)


def write_folded(
    account: Account,
    updated: list[Message],
    events: list[DeliveryEvent],
    before: dict[int, CountedState],
) -> None:
    """The end of a fold whose events were applied by the caller: write back the messages
    that already existed (`updated`; new ones were inserted folded) and count `events`."""
    if updated:
        update_rows(updated, STATE_FIELDS)
    count_events(account, events, before)


def _claim(limit: int) -> list[tuple]:
    table = connection.ops.quote_name(PendingFold._meta.db_table)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE event_id IN ("
            f"SELECT event_id FROM {table} ORDER BY event_id LIMIT %s{lock}) "
            'RETURNING event_id, account_id, message_id, from_address, "to", subject',
            [limit],
        )
        return cursor.fetchall()


def fold_pending(limit: int = 5000) -> int:
    """Fold up to `limit` queued events (see the module doc); returns how many."""
    with transaction.atomic():
        claimed = _claim(limit)
        if not claimed:
            return 0
        by_account: dict[int, list[tuple]] = defaultdict(list)
        for row in claimed:
            by_account[row[1]].append(row)
        accounts = Account.objects.in_bulk(list(by_account))
        for account_id, rows in sorted(by_account.items()):
            _fold_account(accounts[account_id], rows)
    return len(claimed)


def _fold_account(account: Account, rows: list[tuple]) -> None:
    events = load_events(account, [r[0] for r in rows])
    # FOR NO KEY UPDATE: folds of the same messages wait for each other, but the key-share
    # locks that ingestion's deferred foreign-key checks take at commit do not (with FOR
    # UPDATE, a request committing events of a message being folded could deadlock).
    messages = {
        m.pk: m for m in load_messages(account, sorted({r[2] for r in rows}), "NO KEY UPDATE")
    }
    before = {pk: CountedState.of(m) for pk, m in messages.items()}
    types = {e.pk: e.type for e in events}
    for event_pk, _, message_pk, from_address, to, subject in sorted(rows):
        if from_address or to or subject:
            apply_addresses(messages[message_pk], types[event_pk], from_address, to, subject)
    for event in events:
        event._state.fields_cache = {"account": account, "message": messages[event.message_id]}
    fold_into_messages(account, events, before)


_MESSAGE_FIELDS = Message._meta.concrete_fields
_MESSAGE_ATTNAMES = [f.attname for f in _MESSAGE_FIELDS]
_MESSAGE_COLUMNS = ", ".join(f'"{f.column}"' for f in _MESSAGE_FIELDS)
_EVENT_FIELDS = DeliveryEvent._meta.concrete_fields
_EVENT_ATTNAMES = [f.attname for f in _EVENT_FIELDS]
# inet as text: the model keeps addresses as strings.
_EVENT_COLUMNS = ", ".join(
    f'"{f.column}"::text' if f.name == "ip" else f'"{f.column}"' for f in _EVENT_FIELDS
)


def load_messages(account: Account, keys: list, lock: str = "", *, by: str = "id") -> list[Message]:
    """The account's messages whose `by` ("id" or "message_id") is in `keys`, as stored,
    in primary-key order, locked `FOR {lock}` in that order when given (the order every
    writer uses, so folds and ingestion cannot deadlock). On PostgreSQL one statement, rows
    in binary, built without Model.__init__: a fold handles thousands per batch."""
    if connection.vendor != "postgresql" or not keys:
        query = Message.objects.filter(account=account, **{f"{by}__in": keys}).order_by("pk")
        if lock and keys:
            query = query.select_for_update(no_key=lock == "NO KEY UPDATE")
        return list(query)
    array_type = {"id": "bigint", "message_id": "varchar"}[by]
    rows = execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM delivery_message"
        f" WHERE account_id = %s AND {by} = ANY(%b::{array_type}[]) ORDER BY id"
        + (f" FOR {lock}" if lock else ""),
        [account.pk, keys],
        binary=True,
    )[1]
    return [instance(Message, dict(zip(_MESSAGE_ATTNAMES, row, strict=True))) for row in rows]


def load_events(account: Account, pks: list[int]) -> list[DeliveryEvent]:
    """The account's events `pks` (as `load_messages` does for messages)."""
    if connection.vendor != "postgresql":
        return list(DeliveryEvent.objects.filter(account=account, pk__in=pks))
    rows = execute(
        f"SELECT {_EVENT_COLUMNS} FROM delivery_deliveryevent"
        " WHERE account_id = %s AND id = ANY(%b::bigint[])",
        [account.pk, pks],
        binary=True,
    )[1]
    return [instance(DeliveryEvent, dict(zip(_EVENT_ATTNAMES, row, strict=True))) for row in rows]


def fold_all(limit: int = 5000) -> int:
    """Fold until the queue is empty; returns how many events were folded."""
    total = 0
    while folded := fold_pending(limit):
        total += folded
    return total


# Past this many queued events the backlog says "more than" instead of counting on.
BACKLOG_CAP = 10_000


@dataclass(frozen=True)
class Backlog:
    """An account's events stored but not counted yet (INGEST_FOLD=deferred)."""

    events: int  # at most BACKLOG_CAP (see `more`)
    more: bool  # more than BACKLOG_CAP are queued
    oldest: datetime | None  # when the oldest of them was received

    @property
    def empty(self) -> bool:
        return self.events == 0


def backlog(account: Account) -> Backlog:
    """What the account's statistics do not show yet: events waiting for a fold worker."""
    queued = PendingFold.objects.filter(account=account)
    found = queued[: BACKLOG_CAP + 1].count()
    if not found:
        return Backlog(0, False, None)
    # Workers fold in event-id order, so the oldest waiting event has the lowest id.
    first = queued.order_by("event_id").values("event_id")[:1]
    oldest = (
        DeliveryEvent.objects.filter(account=account, pk__in=first)
        .values_list("received_at", flat=True)
        .first()
    )
    return Backlog(min(found, BACKLOG_CAP), found > BACKLOG_CAP, oldest)
