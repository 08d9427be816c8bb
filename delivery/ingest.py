"""The event pipeline: every event, from any source, enters the system here.

`ingest_events(account, raw_events)` validates a batch, stores new events exactly once,
folds them into their messages, and hands them to the consumers, all in one transaction.
Read it top to bottom: there are no signals.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from blocklist import services as blocklist_services
from sesconsole.db import insert_new_rows, update_rows
from sesconsole.models import Account
from stats.rollups import count_events

from .addresses import InvalidAddress, domain_of, normalize_address
from .bounces import classify_reply
from .models import BounceClass, DeliveryEvent, EventType, Message
from .partitions import retention_cutoff

MAX_ID_LENGTH = 128
_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
_EVENT_TYPES = frozenset(EventType.values)
_BOUNCE_CLASSES = frozenset(BounceClass.values)
# The earliest and latest timestamps taken as real (anything else is a unit mistake).
_MIN_TS = datetime(2000, 1, 1, tzinfo=UTC)


class EventError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


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
class ParsedEvent:
    event: DeliveryEvent  # unsaved; message not yet attached
    message_id: str
    from_address: str
    to: str
    subject: str


def _string(raw: dict, name: str, max_length: int, required: bool = False) -> str:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise EventError("missing_field", f"'{name}' is required.")
        return ""
    if not isinstance(value, str):
        raise EventError("invalid_field", f"'{name}' must be a string.")
    value = value.strip()
    if len(value) > max_length:
        raise EventError("invalid_field", f"'{name}' is longer than {max_length} characters.")
    return value


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
        ts = ts.astimezone(UTC)
    else:
        raise EventError("invalid_timestamp", "'timestamp' must be ISO-8601 or epoch milliseconds.")
    if ts < _MIN_TS:
        raise EventError(
            "invalid_timestamp", "'timestamp' is before the year 2000: send milliseconds."
        )
    return ts


def _address(raw: dict, name: str, required: bool) -> str:
    value = _string(raw, name, 512, required=required)
    if not value:
        return ""
    try:
        return normalize_address(value)
    except InvalidAddress as exc:
        raise EventError("invalid_address", f"'{name}': {exc}") from None


def parse_event(raw) -> ParsedEvent:
    """Validate one wire-format event. Raises EventError with a stable code."""
    if not isinstance(raw, dict):
        raise EventError("not_an_object", "Each event must be a JSON object.")
    event_id = _string(raw, "id", MAX_ID_LENGTH, required=True)
    event_type = raw.get("type")
    if event_type is None:
        raise EventError("missing_field", "'type' is required.")
    if event_type not in _EVENT_TYPES:
        raise EventError(
            "invalid_type", f"'type' must be one of: {', '.join(sorted(_EVENT_TYPES))}."
        )
    timestamp = parse_timestamp(raw.get("timestamp"))
    message_id = _string(raw, "message_id", MAX_ID_LENGTH, required=True)
    needs_addresses = event_type in (EventType.REQUEST, EventType.REJECTED)
    from_address = _address(raw, "from", required=needs_addresses)
    to = _address(raw, "to", required=needs_addresses)
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
        if enhanced and not _ENHANCED.match(enhanced):
            raise EventError("invalid_field", "'smtp.enhanced' must look like 5.1.1 (RFC 3463).")
        text = _string(smtp, "text", 4000)

    bounce_class = ""
    if event_type == EventType.BOUNCED:
        bounce_class = _string(raw, "bounce_class", 20)
        if bounce_class and bounce_class not in _BOUNCE_CLASSES:
            raise EventError(
                "invalid_field",
                f"'bounce_class' must be one of: {', '.join(sorted(_BOUNCE_CLASSES))}.",
            )
        bounce_class = bounce_class or classify_reply(smtp_code, enhanced, text)

    url = _string(raw, "url", 4096, required=event_type == EventType.CLICKED)
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise EventError("invalid_field", "'url' must be an http(s) URL.")
    ip = _string(raw, "ip", 45) or None
    if ip is not None:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise EventError("invalid_field", "'ip' must be an IPv4 or IPv6 address.") from None

    machine = raw.get("machine", False)
    if not isinstance(machine, bool):
        raise EventError("invalid_field", "'machine' must be true or false.")
    if machine and event_type not in (EventType.OPENED, EventType.CLICKED):
        raise EventError("invalid_field", "'machine' applies to opened and clicked events only.")

    event = DeliveryEvent(
        event_id=event_id,
        type=event_type,
        timestamp=timestamp,
        bounce_class=bounce_class,
        smtp_code=smtp_code,
        smtp_enhanced=enhanced,
        response_text=text,
        reason=_string(raw, "reason", 64),
        url=url,
        user_agent=_string(raw, "user_agent", 512),
        ip=ip,
        is_machine=machine,
    )
    return ParsedEvent(event, message_id, from_address, to, subject)


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
    parsed: dict[str, ParsedEvent] = {}
    expired_before = retention_cutoff(timezone.now())
    for index, raw in enumerate(raw_events):
        try:
            item = parse_event(raw)
            if expired_before is not None and item.event.timestamp < expired_before:
                # Past the retention its stored copy (and id) may be gone: it could count twice.
                raise EventError(
                    "expired_timestamp", "'timestamp' is older than the event retention."
                )
        except EventError as exc:
            result.errors.append({"index": index, "code": exc.code, "message": exc.message})
            continue
        if item.event.event_id in parsed:
            result.duplicates += 1
        else:
            parsed[item.event.event_id] = item
    if not parsed:
        return result

    with transaction.atomic():
        messages = _lock_messages(account, parsed.values())
        now = timezone.now()
        for item in parsed.values():
            item.event.account = account
            item.event.message = messages[item.message_id]
            item.event.received_at = now
        stored = _insert_new_events([item.event for item in parsed.values()])
        stored.sort(key=lambda e: e.timestamp)
        changed: dict[int, Message] = {}
        for event in stored:
            event.message.apply_event(event)
            changed[event.message.pk] = event.message
        if changed:
            update_rows(list(changed.values()), _MESSAGE_STATE_FIELDS)
        _run_consumers(account, stored)

    result.accepted = len(stored)
    result.duplicates += len(parsed) - len(stored)
    result.events = stored
    return result


def _run_consumers(account: Account, events: list[DeliveryEvent]) -> None:
    """What newly stored events cause elsewhere, in the same transaction."""
    blocklist_services.apply_events(account, events)
    count_events(account, events)


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

_MESSAGE_STATE_FIELDS = [
    "from_address",
    "sender_domain",
    "recipient",
    "recipient_domain",
    "subject",
    "requested_at",
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


class Counted(NamedTuple):
    sender_domain: str
    recipient_domain: str
    first_opened_at: datetime | None
    first_clicked_at: datetime | None
    first_human_opened_at: datetime | None
    first_human_clicked_at: datetime | None


def _lock_messages(account: Account, items: Iterable[ParsedEvent]) -> dict[str, Message]:
    """Return the batch's messages by message id, created if missing, locked for update.

    Messages are created and locked in sorted order so concurrent batches cannot deadlock.
    A message created here takes its addresses from the first event that names them; a
    later `request` event fills in whatever was missing.
    """
    details: dict[str, ParsedEvent] = {}
    for item in items:
        known = details.get(item.message_id)
        if known is None or (item.event.type == EventType.REQUEST) or (not known.to and item.to):
            details[item.message_id] = item
    ids = sorted(details)
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
    locked = {
        m.message_id: m
        for m in Message.objects.select_for_update()
        .filter(account=account, message_id__in=ids)
        .order_by("pk")
    }
    for message in locked.values():
        # What earlier batches counted this message as, before this batch changes it.
        message.before_batch = Counted(
            message.sender_domain,
            message.recipient_domain,
            message.first_opened_at,
            message.first_clicked_at,
            message.first_human_opened_at,
            message.first_human_clicked_at,
        )
    # The request event is authoritative for a message's addresses and subject.
    for mid, item in details.items():
        message = locked[mid]
        if item.event.type == EventType.REQUEST or not message.recipient:
            if item.from_address:
                message.from_address = item.from_address
                message.sender_domain = domain_of(item.from_address)
            if item.to:
                message.recipient = item.to
                message.recipient_domain = domain_of(item.to)
            if item.subject:
                message.subject = item.subject
    return locked


_EVENT_FIELDS = [
    "account",
    "event_id",
    "message",
    "type",
    "timestamp",
    "received_at",
    "bounce_class",
    "smtp_code",
    "smtp_enhanced",
    "response_text",
    "reason",
    "url",
    "user_agent",
    "ip",
    "is_machine",
]


def _insert_new_events(events: list[DeliveryEvent]) -> list[DeliveryEvent]:
    """Insert the events; return those not stored before (retries and races count once)."""
    by_id = {e.event_id: e for e in events}
    stored = []
    # No conflict target: on PostgreSQL (account, event_id) is claimed by a trigger in
    # delivery_deliveryeventkey (see delivery.partitions), which skips repeats.
    for pk, event_id in insert_new_rows(events, _EVENT_FIELDS, [], "event_id"):
        event = by_id[event_id]
        event.pk = pk
        event._state.adding = False
        stored.append(event)
    return stored
