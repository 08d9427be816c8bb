"""The event pipeline: every event, from any source, enters the system here.

- `ingest_events(account, raw_events)`: wire-format events (the ingestion API, JSON lines);
  each item is validated, and a bad one is reported by index without stopping the others.
- `record_events(account, events)`: typed `NewEvent`s from the console's own producers
  (sending, tracking, report intake), which need no parsing.

Both store new events exactly once, fold them into their messages, and hand them to the
consumers, all in one transaction. Read it top to bottom: there are no signals. What each
event type means is declared once, in `delivery.contract`.

The batch travels as a few arrays (one per column, bound in binary) through set-based
statements, and rows are built without the ORM's per-field work: at thousands of events a
second, per-row Python costs more than the database's work (docs/performance.md).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from blocklist import consumer
from notifications.outbox import enqueue_events as notify_events
from sesconsole.lib.errors import ServiceError
from sesconsole.lib.sql import (
    execute,
    insert_new_rows,
    instance,
    rows_source,
)
from sesconsole.lib.text import storable
from sesconsole.models import Account

from .addresses import InvalidAddress, domain_of, normalize_address
from .bounces import is_enhanced_status, judge
from .contract import EVENTS
from .fold import apply_addresses, fold_into_messages, load_messages, write_folded
from .models import (
    BounceClass,
    BounceEvidence,
    CountedState,
    DeliveryEvent,
    EventType,
    Message,
    PendingFold,
)
from .partitions import is_partitioned, retention_cutoff
from .wire import Unreadable

MAX_ID_LENGTH = 128
_EVENT_TYPES = frozenset(EVENTS)
_BOUNCE_CLASSES = frozenset(BounceClass.values)
# The earliest and latest timestamps taken as real (anything else is a unit mistake).
_MIN_TS = datetime(2000, 1, 1, tzinfo=UTC)
_MAX_TS = datetime(2100, 1, 1, tzinfo=UTC)


class EventError(ServiceError):
    """One refused event; reported in the batch answer's `errors`, never raised to a client."""


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    errors: list[dict] = field(default_factory=list)
    # The events stored by this call, for callers that act on them (tests, intake).
    events: list[DeliveryEvent] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "errors": self.errors}

    def add(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.errors.extend(other.errors)


# ---------------------------------------------------------------------------------------
# Validation: one raw JSON object in, one unsaved DeliveryEvent (plus message fields) out.


@dataclass(slots=True)
class NewEvent:
    """One event, validated: what producers inside the console hand to `record_events`.

    Addresses are normalised (`delivery.addresses.normalize_address`); `bounce_class` of a
    bounce is classified from the SMTP reply when left empty.
    """

    event_id: str
    type: str
    timestamp: datetime
    message_id: str
    from_address: str = ""
    to: str = ""
    subject: str = ""
    smtp_code: int | None = None
    smtp_enhanced: str = ""
    response_text: str = ""
    bounce_class: str = ""
    bounce_evidence: str = ""
    reason: str = ""
    url: str = ""
    user_agent: str = ""
    ip: str | None = None
    machine: bool = False
    # The bounce's class and evidence were classified here, not given by the caller.
    judged: bool = False

    def as_model(self) -> DeliveryEvent:
        """The unsaved event row (account, message and received_at are set when stored)."""
        bounce_class, evidence = self.bounce_class, self.bounce_evidence
        if self.type == EventType.BOUNCED and not bounce_class:
            bounce_class, evidence = bounce_verdict(
                self.smtp_code, self.smtp_enhanced, self.response_text, "", evidence, self.to
            )
        event = instance(
            DeliveryEvent,
            {
                "id": None,
                "account_id": None,
                "event_id": self.event_id,
                "message_id": None,
                "type": self.type,
                "timestamp": self.timestamp,
                "received_at": None,
                "bounce_class": bounce_class,
                "bounce_evidence": evidence,
                "smtp_code": self.smtp_code,
                "smtp_enhanced": self.smtp_enhanced,
                "response_text": self.response_text,
                "reason": self.reason,
                "url": self.url,
                "user_agent": self.user_agent,
                "ip": self.ip,
                "is_machine": self.machine,
            },
        )
        event._state.adding = True
        return event


@dataclass(slots=True)
class _Item:
    """A NewEvent on its way to storage, with its unsaved row."""

    event: DeliveryEvent
    message_id: str
    from_address: str
    to: str
    subject: str
    judged: bool = False


def _string(raw: dict, name: str, max_length: int, required: bool = False) -> str:
    value = raw.get(name)
    if value is None:
        if required:
            raise EventError("missing_field", f"'{name}' is required.")
        return ""
    if not isinstance(value, str):
        raise EventError("invalid_field", f"'{name}' must be a string.")
    value = value.strip()
    if not value:
        if required:
            raise EventError("missing_field", f"'{name}' is required.")
        return ""
    if not storable(value):
        raise EventError("invalid_text", f"'{name}' holds a NUL character or a lone surrogate.")
    if len(value) > max_length:
        raise EventError("invalid_field", f"'{name}' is longer than {max_length} characters.")
    return value


def bounce_verdict(
    code: int | None,
    enhanced: str,
    text: str,
    bounce_class: str = "",
    evidence: str = "",
    recipient: str = "",
) -> tuple[str, str]:
    """The bounce class (the one given, or classified from the reply) and the evidence of
    an invalid-address verdict (the one given, or what the reply shows when it agrees)."""
    verdict = judge(
        code,
        enhanced,
        [text],
        structured=bool(enhanced),
        recipient_domain=domain_of(recipient),
    )
    bounce_class = bounce_class or verdict.bounce_class
    if not evidence and bounce_class == verdict.bounce_class:
        evidence = verdict.evidence
    return bounce_class, evidence


def parse_timestamp(value) -> datetime:
    """ISO-8601 with an offset, or epoch milliseconds."""
    if isinstance(value, bool) or value is None:
        raise EventError("invalid_timestamp", "'timestamp' is required.")
    if isinstance(value, int | float):
        try:
            ts = datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise EventError("invalid_timestamp", "'timestamp' is out of range.") from None
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.strip())
        except ValueError:
            raise EventError(
                "invalid_timestamp", "'timestamp' must be ISO-8601 or epoch milliseconds."
            ) from None
        if ts.tzinfo is None:
            raise EventError("invalid_timestamp", "'timestamp' needs a UTC offset, e.g. 'Z'.")
        try:
            ts = ts.astimezone(UTC)
        except OverflowError:
            raise EventError("invalid_timestamp", "'timestamp' is out of range.") from None
    else:
        raise EventError("invalid_timestamp", "'timestamp' must be ISO-8601 or epoch milliseconds.")
    if ts < _MIN_TS:
        raise EventError(
            "invalid_timestamp", "'timestamp' is before the year 2000: send milliseconds."
        )
    if ts >= _MAX_TS:
        raise EventError("invalid_timestamp", "'timestamp' is after the year 2099.")
    return ts


def _address(raw: dict, name: str, required: bool) -> str:
    value = _string(raw, name, 512, required=required)
    if not value:
        return ""
    try:
        return _normal_address(value)
    except InvalidAddress as exc:
        raise EventError("invalid_address", f"'{name}': {exc}") from None


# Sender addresses repeat from event to event: their normal form is remembered (a refused
# address raises again each time; lru_cache keeps no exceptions).
_normal_address = functools.lru_cache(maxsize=8192)(normalize_address)


def parse_event(raw) -> NewEvent:
    """Validate one wire-format event. Raises EventError with a stable code."""
    if isinstance(raw, Unreadable):
        raise EventError(raw.code, raw.message)
    if not isinstance(raw, dict):
        raise EventError("not_an_object", "Each event must be a JSON object.")
    event_id = _string(raw, "id", MAX_ID_LENGTH, required=True)
    event_type = raw.get("type")
    if event_type is None:
        raise EventError("missing_field", "'type' is required.")
    if not isinstance(event_type, str) or event_type not in _EVENT_TYPES:
        raise EventError(
            "invalid_type", f"'type' must be one of: {', '.join(sorted(_EVENT_TYPES))}."
        )
    timestamp = parse_timestamp(raw.get("timestamp"))
    message_id = _string(raw, "message_id", MAX_ID_LENGTH, required=True)
    requires = EVENTS[event_type].requires
    from_address = _address(raw, "from", required="from" in requires)
    to = _address(raw, "to", required="to" in requires)
    subject = _string(raw, "subject", 998)

    smtp_code, enhanced, text = None, "", ""
    smtp = raw.get("smtp")
    if smtp is not None:
        if not isinstance(smtp, dict):
            raise EventError("invalid_field", "'smtp' must be an object with code/enhanced/text.")
        smtp_code = smtp.get("code")
        if smtp_code is not None and (
            isinstance(smtp_code, bool)
            or not isinstance(smtp_code, int)
            or not 200 <= smtp_code <= 599
        ):
            raise EventError("invalid_field", "'smtp.code' must be an SMTP reply code (200-599).")
        enhanced = _string(smtp, "enhanced", 16)
        if enhanced and not is_enhanced_status(enhanced):
            raise EventError("invalid_field", "'smtp.enhanced' must look like 5.1.1 (RFC 3463).")
        text = _string(smtp, "text", 4000)

    bounce_class = evidence = ""
    judged = False
    if event_type == EventType.BOUNCED:
        bounce_class = _string(raw, "bounce_class", 20)
        if bounce_class and bounce_class not in _BOUNCE_CLASSES:
            raise EventError(
                "invalid_field",
                f"'bounce_class' must be one of: {', '.join(sorted(_BOUNCE_CLASSES))}.",
            )
        evidence = _string(raw, "bounce_evidence", 16)
        if evidence and evidence not in BounceEvidence.values:
            raise EventError(
                "invalid_field",
                f"'bounce_evidence' must be one of: {', '.join(BounceEvidence.values)}.",
            )
        judged = not bounce_class and not evidence
        bounce_class, evidence = bounce_verdict(
            smtp_code, enhanced, text, bounce_class, evidence, to
        )
        if evidence and bounce_class != BounceClass.INVALID_ADDRESS:
            raise EventError(
                "invalid_field", "'bounce_evidence' applies to invalid_address bounces only."
            )

    url = _string(raw, "url", 4096, required="url" in requires)
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise EventError("invalid_field", "'url' must be an http(s) URL.")
    ip = _string(raw, "ip", 45) or None
    if ip is not None:
        try:
            parsed_ip = ipaddress.ip_address(ip)
        except ValueError:
            parsed_ip = None
        if parsed_ip is None or getattr(parsed_ip, "scope_id", None):
            # A zone id (fe80::1%eth0) names an interface of the sender: meaningless here.
            raise EventError(
                "invalid_field", "'ip' must be an IPv4 or IPv6 address (no zone id)."
            ) from None
        ip = str(parsed_ip)

    machine = raw.get("machine", False)
    if not isinstance(machine, bool):
        raise EventError("invalid_field", "'machine' must be true or false.")
    if machine and not EVENTS[event_type].human:
        raise EventError("invalid_field", "'machine' applies to opened and clicked events only.")

    return NewEvent(
        event_id=event_id,
        type=event_type,
        timestamp=timestamp,
        message_id=message_id,
        from_address=from_address,
        to=to,
        subject=subject,
        smtp_code=smtp_code,
        smtp_enhanced=enhanced,
        response_text=text,
        bounce_class=bounce_class,
        bounce_evidence=evidence,
        reason=_string(raw, "reason", 64),
        url=url,
        user_agent=_string(raw, "user_agent", 512),
        ip=ip,
        machine=machine,
        judged=judged,
    )


# ---------------------------------------------------------------------------------------
# Storage.


def ingest_events(account: Account, raw_events: Iterable) -> IngestResult:
    """Store a batch of wire-format events for `account`, exactly once.

    1. Validate each item; a bad item is reported by index and skips nothing else.
    2. Drop repeats of an event id within the batch.
    3. In one transaction: claim each event's (account, event id) key, so retries and
       concurrent batches count once; fold the events whose key was won into their
       messages (a message seen for the first time is written once, folded) and the
       rollups; store those events; run the consumers that act at once (`record_events`;
       with `INGEST_FOLD=deferred` workers fold later, see `delivery.fold`).
    """
    result = IngestResult()
    events: list[NewEvent] = []
    expired_before = retention_cutoff(timezone.now())
    for index, raw in enumerate(raw_events):
        try:
            item = parse_event(raw)
            if expired_before is not None and item.timestamp < expired_before:
                # Past the retention its stored copy (and id) may be gone: it could count twice.
                raise EventError(
                    "expired_timestamp", "'timestamp' is older than the event retention."
                )
            events.append(item)
        except EventError as exc:
            result.errors.append({"index": index, "code": exc.code, "message": exc.message})
    result.add(record_events(account, events))
    return result


def record_events(account: Account, events: Iterable[NewEvent]) -> IngestResult:
    """Store validated events for `account`, exactly once (see `ingest_events`)."""
    result = IngestResult()
    parsed: dict[str, _Item] = {}
    for new in events:
        if new.event_id in parsed:
            result.duplicates += 1
        else:
            judged = new.type == EventType.BOUNCED and (new.judged or not new.bounce_class)
            parsed[new.event_id] = _Item(
                new.as_model(), new.message_id, new.from_address, new.to, new.subject, judged
            )
    if not parsed:
        return result

    details = _message_details(parsed.values())
    _judge_at_message_recipients(account, parsed.values(), details)
    if settings.INGEST_FOLD != "deferred" and is_partitioned():
        with transaction.atomic():
            stored = _store_and_fold(account, list(parsed.values()), details)
            _act_at_once(account, stored)
        result.accepted = len(stored)
        result.duplicates += len(parsed) - len(stored)
        result.events = stored
        return result

    # Outside a transaction of the caller's, missing messages are created and committed
    # first, by one statement of their own: a batch naming a message that a concurrent
    # batch has just created then waits for that short insert, not for the other batch's
    # whole transaction. (If the batch then fails, its new messages stay, blank and
    # pending, as messages whose events have not arrived yet; the retry fills them in.)
    _create_messages(account, details)
    deferred = settings.INGEST_FOLD == "deferred"
    with transaction.atomic():
        stored = _insert_new_events(account, list(parsed.values()), timezone.now())
        # The stored events' messages: locked to be folded here (so batches sharing a
        # message wait for each other from this point to commit), read alone when a worker
        # folds them (the consumers that act at once need their addresses).
        messages = load_messages(
            account, sorted({e.message_id for e in stored}), "" if deferred else "UPDATE"
        )
        # What earlier batches counted each message as, before this batch changes it.
        before = {m.pk: CountedState.of(m) for m in messages}
        by_pk = {m.pk: _with_addresses(m, details[m.message_id]) for m in messages}
        for event in stored:
            # What `event.account = …` does, without a descriptor call per event.
            event._state.fields_cache = {"account": account, "message": by_pk[event.message_id]}
        if deferred:
            _queue_for_fold(stored, parsed)
            transaction.on_commit(_start_folding)
        else:
            fold_into_messages(account, stored, before)
        _act_at_once(account, stored)

    result.accepted = len(stored)
    result.duplicates += len(parsed) - len(stored)
    result.events = stored
    return result


def _store_and_fold(
    account: Account, items: list[_Item], details: dict[str, _Item]
) -> list[DeliveryEvent]:
    """The inline fold on PostgreSQL: store the new events and fold them, writing a message
    seen for the first time once, in its final state.

    1. Claim the batch's keys (in key order; a key claimed by a transaction still open
       waits for its outcome): the events whose key this batch won are the new ones.
    2. Fold each new event's message as if it were new (blank, with the batch's
       addresses) and insert those messages that do not exist, in message-id order (one
       another batch is creating waits for its outcome and then counts as existing).
    3. Lock the other messages in primary-key order, take what each counted as, fold
       their events into them and write them back.
    4. Insert the new events; count them in the rollups.
    No batch waits for a lock while holding one that the other needs (keys are all taken
    first in order, new messages inserted in order before any row is locked, rows locked
    in order), so concurrent batches cannot deadlock.
    """
    now = timezone.now()
    source, params = rows_source(
        [
            ("event_id", "varchar", [item.event.event_id for item in items]),
            ('"timestamp"', "timestamptz", [item.event.timestamp for item in items]),
        ]
    )
    claimed = {
        event_id
        for (event_id,) in execute(
            f"WITH {source} INSERT INTO delivery_deliveryeventkey"
            ' (account_id, event_id, "timestamp") SELECT %s, event_id, "timestamp" FROM v'
            " ORDER BY event_id ON CONFLICT DO NOTHING RETURNING event_id",
            [*params, account.pk],
        )[1]
    }
    new_items = [item for item in items if item.event.event_id in claimed]
    if not new_items:
        return []
    new_items.sort(key=lambda item: item.event.timestamp)  # the fold's order
    by_message: dict[str, list[DeliveryEvent]] = {}
    for item in new_items:
        by_message.setdefault(item.message_id, []).append(item.event)

    fresh = {mid: _blank_message(account, details[mid], now) for mid in sorted(by_message)}
    before = {mid: CountedState.of(message) for mid, message in fresh.items()}
    for mid, message in fresh.items():
        for event in by_message[mid]:
            message.apply_event(event)
    created = _insert_messages(account, list(fresh.values()))

    rest = [mid for mid in by_message if mid not in created]
    locked = load_messages(account, rest, "UPDATE", by="message_id")
    for message in locked:
        before[message.message_id] = CountedState.of(message)
        _with_addresses(message, details[message.message_id])
        for event in by_message[message.message_id]:
            message.apply_event(event)
    messages = {m.message_id: m for m in locked}
    for mid, pk in created.items():
        message = fresh[mid]
        message.pk = pk
        messages[mid] = message
    stored = []
    for item in new_items:
        event, message = item.event, messages[item.message_id]
        event.account_id, event.message_id, event.received_at = account.pk, message.pk, now
        event._state.fields_cache = {"account": account, "message": message}
        stored.append(event)
    _insert_events(account, stored)
    write_folded(account, locked, stored, {messages[mid].pk: s for mid, s in before.items()})
    return stored


def _blank_message(account: Account, item: _Item, now: datetime) -> Message:
    """A new message, pending, with the addresses of `item`."""
    message = instance(
        Message,
        {
            "id": None,
            "account_id": account.pk,
            "message_id": item.message_id,
            "from_address": item.from_address,
            "sender_domain": domain_of(item.from_address) if item.from_address else "",
            "recipient": item.to,
            "recipient_domain": domain_of(item.to) if item.to else "",
            "subject": item.subject,
            "requested_at": None,
            "request_received": False,
            "status": Message.Status.PENDING.value,
            "status_at": None,
            "bounce_class": "",
            "response_text": "",
            "first_opened_at": None,
            "first_clicked_at": None,
            "unsubscribed_at": None,
            "complained_at": None,
            "open_count": 0,
            "click_count": 0,
            "first_human_opened_at": None,
            "first_human_clicked_at": None,
            "created_at": now,
        },
        account=account,
    )
    return message


_MESSAGE_INSERT = [f for f in Message._meta.concrete_fields if not f.primary_key]


def _insert_messages(account: Account, messages: list[Message]) -> dict[str, int]:
    """Insert the messages not stored yet (sorted by message id); returns the primary key
    of each inserted, by message id."""
    qn = connection.ops.quote_name
    source, params = rows_source(
        [
            (qn(f.column), f.db_type(connection), [getattr(m, f.attname) for m in messages])
            for f in _MESSAGE_INSERT
        ]
    )
    names = ", ".join(qn(f.column) for f in _MESSAGE_INSERT)
    rows = execute(
        f"WITH {source} INSERT INTO delivery_message ({names}) SELECT * FROM v"
        " WHERE NOT EXISTS (SELECT 1 FROM delivery_message m WHERE m.account_id = %s"
        " AND m.message_id = v.message_id) ORDER BY v.message_id"
        " ON CONFLICT (account_id, message_id) DO NOTHING RETURNING message_id, id",
        [*params, account.pk],
    )[1]
    return dict(rows)


@contextmanager
def _keys_claimed():
    """The event-key trigger, the guard for other writers, stands aside for the statement
    inside: it inserts events whose keys this transaction has claimed itself (after an
    error the transaction's rollback restores the setting)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('delivery.event_keys', 'claimed', true)")
        yield
        cursor.execute("SELECT set_config('delivery.event_keys', '', true)")


def _insert_events(account: Account, events: list[DeliveryEvent]) -> None:
    """Insert events whose keys this transaction has claimed, their ids set from RETURNING."""
    qn = connection.ops.quote_name
    fields = [DeliveryEvent._meta.get_field(name) for name in ("message", *_EVENT_NAMES)]
    source, params = rows_source(
        [
            (qn(f.column), f.db_type(connection), [getattr(e, f.attname) for e in events])
            for f in fields
        ]
    )
    names = ", ".join(qn(f.column) for f in fields)
    with _keys_claimed():
        rows = execute(
            f"WITH {source} INSERT INTO delivery_deliveryevent (account_id, received_at,"
            f" {names}) SELECT %s, %s, * FROM v RETURNING event_id, id",
            [*params, account.pk, events[0].received_at],
        )[1]
    ids = dict(rows)
    for event in events:
        event.pk = ids[event.event_id]
        event._state.adding = False


def _act_at_once(account: Account, events: list[DeliveryEvent]) -> None:
    """What newly stored events must cause before the request answers, whatever the fold
    mode: blocks from hard bounces, unsubscribes and complaints stop the next send, and
    event notifications enter their outbox with the events they announce."""
    consumer.apply_events(account, events)
    notify_events(account, events)


def _queue_for_fold(stored: list[DeliveryEvent], parsed: dict[str, _Item]) -> None:
    """One PendingFold row per stored event, with the addresses its item brought."""
    rows = [
        PendingFold(
            event_id=event.pk,
            account_id=event.account_id,
            message_id=event.message.pk,
            from_address=parsed[event.event_id].from_address,
            to=parsed[event.event_id].to,
            subject=parsed[event.event_id].subject,
        )
        for event in stored
    ]
    insert_new_rows(rows, _PENDING_FIELDS, None, "event")


_PENDING_FIELDS = ["event", "account", "message", "from_address", "to", "subject"]


def _start_folding() -> None:
    from .tasks import start_folding

    start_folding()


_MESSAGE_NEW_FIELDS = [
    "account",
    "message_id",
    "from_address",
    "sender_domain",
    "recipient",
    "recipient_domain",
    "subject",
    "request_received",
    "status",
    "bounce_class",
    "response_text",
    "open_count",
    "click_count",
    "created_at",
]


def _message_details(items: Iterable[_Item]) -> dict[str, _Item]:
    """The item whose addresses each message of the batch takes: a `request` event's, else
    the first that names a recipient."""
    details: dict[str, _Item] = {}
    for item in items:
        known = details.get(item.message_id)
        if known is None or (item.event.type == EventType.REQUEST) or (not known.to and item.to):
            details[item.message_id] = item
    return details


def _judge_at_message_recipients(
    account: Account, items: Iterable[_Item], details: dict[str, _Item]
) -> None:
    """Classify again, at its message's recipient, a bounce that named no `to` and whose
    class was left to us: a few replies mean an unknown user only at the providers that
    document them so (docs/bounces.md, row 13a), and the recipient is known from the
    batch's `request` or the stored message."""
    pending = [item for item in items if item.judged and not item.to]
    if not pending:
        return
    recipients = {mid: item.to for mid, item in details.items() if item.to}
    unknown = {item.message_id for item in pending} - recipients.keys()
    if unknown:
        recipients.update(
            Message.objects.filter(account=account, message_id__in=unknown)
            .exclude(recipient="")
            .values_list("message_id", "recipient")
        )
    for item in pending:
        recipient = recipients.get(item.message_id)
        if recipient:
            event = item.event
            event.bounce_class, event.bounce_evidence = bounce_verdict(
                event.smtp_code, event.smtp_enhanced, event.response_text, "", "", recipient
            )


def _create_messages(account: Account, details: dict[str, _Item]) -> None:
    """Insert the batch's messages not stored yet, blank and pending, with the addresses
    the batch brings (the fold fills in the rest)."""
    now = timezone.now()
    blank = [_blank_message(account, details[mid], now) for mid in sorted(details)]
    if connection.vendor == "postgresql":
        _insert_messages(account, blank)
    else:
        insert_new_rows(blank, _MESSAGE_NEW_FIELDS, ["account", "message_id"], "message_id")


def _with_addresses(message: Message, item: _Item) -> Message:
    """Apply the addresses the batch brings (`fold.apply_addresses`): a message created
    before its `request` event takes them from the first event that names them, and a
    `request` event is authoritative."""
    apply_addresses(message, item.event.type, item.from_address, item.to, item.subject)
    return message


# Event columns sent with each event (account, message and received_at are the batch's).
_EVENT_NAMES = (
    "event_id",
    "type",
    "timestamp",
    "bounce_class",
    "bounce_evidence",
    "smtp_code",
    "smtp_enhanced",
    "response_text",
    "reason",
    "url",
    "user_agent",
    "ip",
    "is_machine",
)
_EVENT_COLUMNS = [DeliveryEvent._meta.get_field(name) for name in _EVENT_NAMES]
_EVENT_FIELDS = ["account", "message", "received_at", *(f.name for f in _EVENT_COLUMNS)]


def _insert_new_events(
    account: Account, items: list[_Item], received_at: datetime
) -> list[DeliveryEvent]:
    """Insert the events not stored before (retries and races count once) and return
    them, their message's primary key set."""
    if not is_partitioned():
        # SQLite: the event table's own unique (account, event_id) skips repeats.
        ids = {item.message_id for item in items}
        messages = dict(
            Message.objects.filter(account=account, message_id__in=ids).values_list(
                "message_id", "pk"
            )
        )
        for item in items:
            item.event.account_id = account.pk
            item.event.message_id = messages[item.message_id]
            item.event.received_at = received_at
        rows = insert_new_rows([i.event for i in items], _EVENT_FIELDS, [], "event_id")
        by_id = {i.event.event_id: i.event for i in items}
        stored = [by_id[event_id] for _, event_id in rows]
        for (pk, _), event in zip(rows, stored, strict=True):
            event.pk = pk
            event._state.adding = False
        return stored

    # (account, event_id) cannot be unique in a partitioned table: each key is claimed in
    # delivery_deliveryeventkey (in key order, so racing batches wait for each other
    # instead of deadlocking; a key claimed by a transaction still open waits for its
    # outcome) by the statement that inserts the events it won, which also finds their
    # messages. The key trigger, the guard for other writers, stands aside for that
    # statement only (after an error the transaction's rollback restores the setting).
    qn = connection.ops.quote_name
    events = [item.event for item in items]
    source, params = rows_source(
        [("message_key", "varchar", [item.message_id for item in items])]
        + [
            (qn(f.column), f.db_type(connection), [getattr(e, f.attname) for e in events])
            for f in _EVENT_COLUMNS
        ]
    )
    names = ", ".join(qn(f.column) for f in _EVENT_COLUMNS)
    sql = (
        f"WITH {source}, claimed AS (INSERT INTO delivery_deliveryeventkey"
        ' (account_id, event_id, "timestamp") SELECT %s, event_id, "timestamp" FROM v'
        " ORDER BY event_id ON CONFLICT DO NOTHING RETURNING event_id)"
        f" INSERT INTO delivery_deliveryevent (account_id, message_id, received_at, {names})"
        f" SELECT %s, m.id, %s, {', '.join(f'v.{qn(f.column)}' for f in _EVENT_COLUMNS)}"
        " FROM v JOIN claimed c ON c.event_id = v.event_id"
        " JOIN delivery_message m ON m.account_id = %s AND m.message_id = v.message_key"
        " RETURNING id, event_id, message_id"
    )
    with _keys_claimed():
        rows = execute(sql, [*params, account.pk, account.pk, received_at, account.pk])[1]
    by_id = {event.event_id: event for event in events}
    stored = []
    for pk, event_id, message_pk in rows:
        event = by_id[event_id]
        event.pk, event.account_id, event.message_id = pk, account.pk, message_pk
        event.received_at = received_at
        event._state.adding = False
        stored.append(event)
    return stored
