"""The event pipeline: every event, from any source, enters the system here.

- `ingest_events(account, raw_events)`: wire-format events (the ingestion API, JSON lines);
  each item is validated, and a bad one is reported by index without stopping the others.
- `record_events(account, events)`: typed `NewEvent`s from the console's own producers
  (sending, tracking, report intake), which need no parsing.

Both store new events exactly once, fold them into their messages, and hand them to the
consumers, all in one transaction. Read it top to bottom: there are no signals. What each
event type means is declared once, in `delivery.contract`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
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
    insert_claimed_rows,
    insert_new_columns,
    insert_new_rows,
    instance,
)
from sesconsole.models import Account

from .addresses import InvalidAddress, domain_of, normalize_address
from .bounces import is_enhanced_status, judge
from .contract import EVENTS
from .fold import apply_addresses, fold_into_messages
from .models import (
    BounceClass,
    BounceEvidence,
    CountedState,
    DeliveryEvent,
    DeliveryEventKey,
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

    def as_model(self) -> DeliveryEvent:
        """The unsaved event row (account, message and received_at are set when stored)."""
        bounce_class, evidence = self.bounce_class, self.bounce_evidence
        if self.type == EventType.BOUNCED and not bounce_class:
            bounce_class, evidence = bounce_verdict(
                self.smtp_code, self.smtp_enhanced, self.response_text, "", evidence
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


def _string(raw: dict, name: str, max_length: int, required: bool = False) -> str:
    value = raw.get(name)
    if value is not None and not isinstance(value, str):
        raise EventError("invalid_field", f"'{name}' must be a string.")
    value = (value or "").strip()
    if not value:
        if required:
            raise EventError("missing_field", f"'{name}' is required.")
        return ""
    if "\x00" in value or not _is_utf8(value):
        # PostgreSQL's text takes neither a NUL nor a lone surrogate ("\ud800").
        raise EventError("invalid_text", f"'{name}' holds a NUL character or a lone surrogate.")
    if len(value) > max_length:
        raise EventError("invalid_field", f"'{name}' is longer than {max_length} characters.")
    return value


def bounce_verdict(
    code: int | None, enhanced: str, text: str, bounce_class: str = "", evidence: str = ""
) -> tuple[str, str]:
    """The bounce class (the one given, or classified from the reply) and the evidence of
    an invalid-address verdict (the one given, or what the reply shows when it agrees)."""
    verdict = judge(code, enhanced, [text], structured=bool(enhanced))
    bounce_class = bounce_class or verdict.bounce_class
    if not evidence and bounce_class == verdict.bounce_class:
        evidence = verdict.evidence
    return bounce_class, evidence


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
        return normalize_address(value)
    except InvalidAddress as exc:
        raise EventError("invalid_address", f"'{name}': {exc}") from None


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
        bounce_class, evidence = bounce_verdict(smtp_code, enhanced, text, bounce_class, evidence)
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
    )


# ---------------------------------------------------------------------------------------
# Storage.


def ingest_events(account: Account, raw_events: Iterable) -> IngestResult:
    """Store a batch of wire-format events for `account`, exactly once.

    1. Validate each item; a bad item is reported by index and skips nothing else.
    2. Drop repeats of an event id within the batch.
    3. In one transaction: create missing messages, lock the batch's messages, insert the
       events with ON CONFLICT DO NOTHING (so retries and concurrent batches count once),
       fold the newly stored events into their messages, then run the consumers.
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
            parsed[new.event_id] = _Item(
                new.as_model(), new.message_id, new.from_address, new.to, new.subject
            )
    if not parsed:
        return result

    deferred = settings.INGEST_FOLD == "deferred"
    with transaction.atomic():
        messages, before = _messages_for(account, parsed.values(), lock=not deferred)
        now = timezone.now()
        for item in parsed.values():
            # What `event.account = …` etc. do, without a descriptor call per field.
            event, message = item.event, messages[item.message_id]
            event.account_id, event.message_id, event.received_at = account.pk, message.pk, now
            event._state.fields_cache = {"account": account, "message": message}
        stored = _insert_new_events([item.event for item in parsed.values()])
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
    "status",
    "bounce_class",
    "response_text",
    "open_count",
    "click_count",
    "created_at",
]
_MESSAGE_ATTNAMES = [f.attname for f in Message._meta.concrete_fields]
_MESSAGE_COLUMNS = ", ".join(f'"{f.column}"' for f in Message._meta.concrete_fields)


def _messages_for(
    account: Account, items: Iterable[_Item], lock: bool
) -> tuple[dict[str, Message], dict[int, CountedState]]:
    """The batch's messages by message id (created if missing), and what each counted as
    before this batch.

    With `lock`, messages are locked for update (in primary-key order, so concurrent
    batches cannot deadlock) to be folded in this transaction; without, they are read only,
    and the addresses this batch brings are set on the objects for the consumers that act
    at once, while the worker that folds the events writes them. A message created here
    takes its addresses from the first event that names them; a later `request` event fills
    in whatever was missing.
    """
    details: dict[str, _Item] = {}
    for item in items:
        known = details.get(item.message_id)
        if known is None or (item.event.type == EventType.REQUEST) or (not known.to and item.to):
            details[item.message_id] = item
    ids = sorted(details)
    if connection.vendor == "postgresql":
        found = _lock_messages_pg(account, ids, details, lock)
    else:
        found = _lock_messages_orm(account, ids, details, lock)
    # What earlier batches counted each message as, before this batch changes it.
    before = {message.pk: CountedState.of(message) for message in found.values()}
    for mid, item in details.items():
        apply_addresses(found[mid], item.event.type, item.from_address, item.to, item.subject)
    return found, before


def _lock_messages_pg(
    account: Account, ids: list[str], details: dict[str, _Item], lock: bool
) -> dict[str, Message]:
    """Create the missing messages and load (and lock) all of them: two statements, rows
    built without the ORM (see sesconsole.lib.sql.instance)."""
    now = timezone.now()
    chosen = [details[mid] for mid in ids]
    n = len(ids)
    senders = [d.from_address for d in chosen]
    recipients = [d.to for d in chosen]
    # The rows of messages already stored are skipped by the unique (account, message_id).
    insert_new_columns(
        Message,
        _MESSAGE_NEW_FIELDS,
        [
            [account.pk] * n,
            ids,
            senders,
            [domain_of(a) if a else "" for a in senders],
            recipients,
            [domain_of(a) if a else "" for a in recipients],
            [d.subject for d in chosen],
            [Message.Status.PENDING.value] * n,
            [""] * n,
            [""] * n,
            [0] * n,
            [0] * n,
            [now] * n,
        ],
        ["account", "message_id"],
    )
    rows = execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM delivery_message"
        " WHERE account_id = %s AND message_id = ANY(%b::varchar[]) ORDER BY id"
        + (" FOR UPDATE" if lock else ""),
        [account.pk, ids],
    )[1]
    found = {}
    for row in rows:
        message = instance(Message, dict(zip(_MESSAGE_ATTNAMES, row, strict=True)))
        found[message.message_id] = message
    return found


def _lock_messages_orm(
    account: Account, ids: list[str], details: dict[str, _Item], lock: bool
) -> dict[str, Message]:
    """The same through the ORM, for SQLite."""
    existing = set(
        Message.objects.filter(account=account, message_id__in=ids).values_list(
            "message_id", flat=True
        )
    )
    missing = [
        Message(
            account=account,
            message_id=mid,
            from_address=details[mid].from_address,
            sender_domain=domain_of(details[mid].from_address) if details[mid].from_address else "",
            recipient=details[mid].to,
            recipient_domain=domain_of(details[mid].to) if details[mid].to else "",
            subject=details[mid].subject,
        )
        for mid in ids
        if mid not in existing
    ]
    if missing:
        insert_new_rows(missing, _MESSAGE_NEW_FIELDS, ["account", "message_id"], "message_id")
    rows = Message.objects.filter(account=account, message_id__in=ids).order_by("pk")
    return {m.message_id: m for m in (rows.select_for_update() if lock else rows)}


_EVENT_FIELDS = [
    "account",
    "event_id",
    "message",
    "type",
    "timestamp",
    "received_at",
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
]


_KEY_FIELDS = ["account", "event_id", "timestamp"]


def _insert_new_events(events: list[DeliveryEvent]) -> list[DeliveryEvent]:
    """Insert the events; return those not stored before (retries and races count once)."""
    by_id = {e.event_id: e for e in events}
    stored = []
    if is_partitioned():
        # (account, event_id) cannot be unique in a partitioned table: each key is claimed
        # in delivery_deliveryeventkey by the same statement that inserts the events it
        # won (see delivery.partitions). The key trigger, the guard for other writers,
        # stands aside for that statement only (on an error the transaction's rollback
        # restores the setting).
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('delivery.event_keys', 'claimed', true)")
            rows = insert_claimed_rows(
                events, _EVENT_FIELDS, DeliveryEventKey, _KEY_FIELDS, "event_id"
            )
            cursor.execute("SELECT set_config('delivery.event_keys', '', true)")
    else:
        rows = insert_new_rows(events, _EVENT_FIELDS, [], "event_id")
    for pk, event_id in rows:
        event = by_id[event_id]
        event.pk = pk
        event._state.adding = False
        stored.append(event)
    return stored
