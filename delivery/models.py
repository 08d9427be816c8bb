"""Messages (one per recipient) and the delivery events that happened to them."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sesconsole.lib.indexes import SearchIndex
from sesconsole.models import Account

from .addresses import InvalidAddress, normalize_address, normalize_domain
from .contract import EVENTS, BounceClass, BounceEvidence, EventType, MessageStatus

__all__ = ["BounceClass", "BounceEvidence", "EventType"]  # re-exported: the contract's choices


# What each reason code of a `rejected` event means, for people (the codes are the wire's:
# blocklist.models.Block.reject_reason).
REJECT_REASON_WORDS = {
    "blocklisted": "it is on the invalid-address blocklist",
    "complained": "its recipient reported your mail as spam",
    "unsubscribed": "its recipient unsubscribed",
    "custom_blocked": "it is on your custom blocklist",
}


class MessageQuerySet(models.QuerySet["Message"]):
    def for_account(self, account: Account) -> MessageQuerySet:
        return self.filter(account=account)

    def requested_between(self, start, end) -> MessageQuerySet:
        return self.filter(requested_at__gte=start, requested_at__lt=end)


class Message(models.Model):
    """One message to one recipient, with its current status.

    A row may exist before its `request` event arrives (events can come out of order);
    until then its status is PENDING and the fields the request carries may be blank.

    `requested_at` is the time the message is listed at: its request's (a rejected
    message's, its rejection's: a refused request), or while neither has arrived, its
    earliest known event's, with `request_received` false (the request may never come, e.g.
    lost by the client: the message is still found in the lists, by that time).
    """

    Status = MessageStatus

    # No index of its own: every message index starts with the account.
    account = models.ForeignKey(Account, models.CASCADE, related_name="messages", db_index=False)
    message_id = models.CharField(max_length=128)
    from_address = models.CharField(max_length=254, blank=True)
    sender_domain = models.CharField(max_length=253, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    recipient_domain = models.CharField(max_length=253, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    # True by default in the database: rows stored before the field existed had their
    # request (or rejection) when `requested_at` was set (migration 0016 sets the others).
    request_received = models.BooleanField(
        default=True,
        db_default=True,
        help_text="False while neither the request nor a rejection of the message has "
        "arrived: `requested_at` is then the time of its earliest known event.",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    status_at = models.DateTimeField(null=True, blank=True)
    bounce_class = models.CharField(max_length=20, choices=BounceClass, blank=True)
    response_text = models.TextField(blank=True, help_text="The receiving server's last reply.")
    first_opened_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)
    # The first open/click not flagged as a machine's (privacy proxy, link scanner).
    first_human_opened_at = models.DateTimeField(null=True, blank=True)
    first_human_clicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = MessageQuerySet.as_manager()

    class Meta:
        constraints = [
            # Ingestion looks messages up by (account, message_id).
            models.UniqueConstraint(
                fields=["account", "message_id"], name="message_unique_id_per_account"
            ),
        ]
        indexes = [
            # Email status: an account's messages in a date range, newest first.
            models.Index(fields=["account", "-requested_at"], name="message_account_requested"),
            # Email status searched by recipient address.
            models.Index(
                fields=["account", "recipient", "-requested_at"], name="message_account_recipient"
            ),
            # Which accounts mailed an address: a new invalid-address block is shown to
            # each of them (blocklist.changes.show_new_invalid_blocks).
            models.Index(fields=["recipient", "account"], name="message_recipient_account"),
            # Email status filtered by status.
            models.Index(
                fields=["account", "status", "-requested_at"], name="message_account_status"
            ),
            # Email status searched by part of an address (`alice@`, `@gmail.com`): a
            # trigram index on PostgreSQL, combined with the date range by a bitmap AND.
            SearchIndex(fields=["recipient"], name="message_recipient_search"),
            # Email status searched by words of the subject: likewise.
            SearchIndex(fields=["subject"], name="message_subject_search"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.recipient or '?'}"

    # Status only moves forward through the lifecycle; among final statuses the latest wins.
    STATUS_RANK = {
        Status.PENDING: 0,
        Status.REQUESTED: 1,
        Status.DEFERRED: 2,
        Status.DELIVERED: 3,
        Status.BOUNCED: 3,
        Status.REJECTED: 3,
    }

    @property
    def sent_at(self) -> datetime | None:
        """When the message was requested (sent), or None while its request has not arrived:
        `requested_at` then only lists it at its first event. (SQL: `SENT_AT`.)"""
        return self.requested_at if self.request_received else None

    @property
    def opened(self) -> bool:
        return self.first_opened_at is not None

    @property
    def clicked(self) -> bool:
        return self.first_clicked_at is not None

    @property
    def unsubscribed(self) -> bool:
        return self.unsubscribed_at is not None

    @property
    def complained(self) -> bool:
        return self.complained_at is not None

    def apply_event(self, event: DeliveryEvent) -> None:
        """Fold one event into this row's current state, whatever order events arrive in."""
        ts = event.timestamp
        rule = EVENTS[event.type]
        if rule.status is not None:
            current = (self.STATUS_RANK[self.status], self.status_at or ts)
            if self.status_at is None or (self.STATUS_RANK[rule.status], ts) >= current:
                self.status = rule.status
                self.status_at = ts
                # The winning status's own reply, or none: an earlier deferral's "451 later"
                # is no reply to a delivery, and keeping it would depend on arrival order.
                if event.response_text:
                    self.response_text = event.response_text
                elif event.type == EventType.REJECTED and event.reason:
                    self.response_text = f"Rejected: {event.reason}"
                else:
                    self.response_text = ""
                self.bounce_class = event.bounce_class if event.type == EventType.BOUNCED else ""
        if rule.count_field is not None:
            setattr(self, rule.count_field, getattr(self, rule.count_field) + 1)
        if rule.first_field is not None:
            setattr(self, rule.first_field, _earliest(getattr(self, rule.first_field), ts))
            if rule.human and not event.is_machine:
                field = rule.first_human_field
                setattr(self, field, _earliest(getattr(self, field), ts))
        # The listed time: the earliest request (a rejected message never gets a request
        # event: its rejection is its request), else the earliest event of any type. Each
        # is a minimum over a set of events, so any order of folding gives the same row.
        received = self.requested_at is not None and self.request_received
        if event.type in (EventType.REQUEST, EventType.REJECTED):
            if not received or ts < self.requested_at:
                self.requested_at = ts
                self.request_received = True
        elif self.requested_at is None or (not received and ts < self.requested_at):
            self.requested_at = ts
            self.request_received = False


class CountedState(NamedTuple):
    """What a message counted as in the rollups before a batch changed it.

    Ingestion takes it when it locks the message and hands it to the rollup consumer, which
    moves counts when a batch changes the message's domains or first open/click.
    """

    sender_domain: str
    recipient_domain: str
    first_opened_at: datetime | None
    first_clicked_at: datetime | None
    first_human_opened_at: datetime | None
    first_human_clicked_at: datetime | None

    @classmethod
    def of(cls, message: Message) -> CountedState:
        return cls(*(getattr(message, name) for name in cls._fields))


def _earliest(current, ts):
    return ts if current is None or ts < current else current


class DeliveryEventQuerySet(models.QuerySet["DeliveryEvent"]):
    def for_account(self, account: Account) -> DeliveryEventQuerySet:
        return self.filter(account=account)

    def of_type(self, *types: str) -> DeliveryEventQuerySet:
        return self.filter(type__in=types)

    def with_message(self) -> DeliveryEventQuerySet:
        """Each event with its message, joined on the account too.

        The extra `message.account = event.account` keeps the join within one account:
        what a database distributed by account (docs/scaling.md) needs to answer it on
        one node.
        """
        return (
            self.select_related("message")
            .filter(message__account=models.F("account"))
            .annotate(message_sent_at=SENT_AT)
        )


# An event's message's sending time, as `Message.sent_at` gives it, for querysets and CSV.
SENT_AT = models.Case(
    models.When(message__request_received=True, then=models.F("message__requested_at")),
    default=None,
    output_field=models.DateTimeField(),
)


class DeliveryEvent(models.Model):
    """Something that happened to a message. `event_id` is the sender's idempotency key."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=128)
    message = models.ForeignKey(Message, models.CASCADE, related_name="events")
    type = models.CharField(max_length=12, choices=EventType)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    bounce_class = models.CharField(max_length=20, choices=BounceClass, blank=True)
    bounce_evidence = models.CharField(
        max_length=16,
        choices=BounceEvidence,
        blank=True,
        default="",
        db_default="",  # rows written by raw inserts that predate the field stay valid
        help_text="For invalid_address bounces: what the verdict rests on (docs/bounces.md).",
    )
    smtp_code = models.PositiveSmallIntegerField(null=True, blank=True)
    smtp_enhanced = models.CharField(max_length=16, blank=True)
    response_text = models.TextField(blank=True)
    reason = models.CharField(max_length=64, blank=True)
    url = models.TextField(blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    is_machine = models.BooleanField(
        default=False, help_text="An open or click by a privacy proxy or link scanner."
    )

    objects = DeliveryEventQuerySet.as_manager()

    class Meta:
        constraints = [
            # Exactly-once ingestion: a repeated event id is a duplicate.
            models.UniqueConstraint(
                fields=["account", "event_id"], name="event_unique_id_per_account"
            ),
            models.CheckConstraint(
                condition=Q(type="bounced") | Q(bounce_class=""),
                name="event_bounce_class_only_on_bounces",
            ),
        ]
        indexes = [
            # Event lists and exports: an account's events of one type in a time range.
            models.Index(fields=["account", "type", "timestamp"], name="event_account_type_time"),
            # A message's timeline.
            models.Index(fields=["message", "timestamp"], name="event_message_time"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DeliveryEventKey(models.Model):
    """An (account, event id) claimed by a stored event: exactly-once across partitions.

    On PostgreSQL the event table is partitioned by `timestamp` (delivery.partitions), and
    a partitioned table's unique constraints must contain the partition key, so
    (account, event_id) cannot be unique there. A trigger on the event table claims the key
    here before each insert and skips the event if the key was taken; concurrent claims of
    one key wait for each other as any unique insert does. Keys expire with their events.
    On SQLite the event table is not partitioned, its own unique constraint does the job,
    and this table stays empty.
    """

    pk = models.CompositePrimaryKey("account", "event_id")
    # The primary key starts with the account: no second index for it.
    account = models.ForeignKey(
        Account, models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    event_id = models.CharField(max_length=128)
    timestamp = models.DateTimeField(help_text="The event's timestamp: keys expire with it.")

    def __str__(self) -> str:
        return self.event_id


# ---------------------------------------------------------------------------------------
# Sending: who may send, what was sent, and the returned reports kept for review.


class SenderIdentity(models.Model):
    """A domain or address an account may send from, once staff have verified it."""

    class Kind(models.TextChoices):
        DOMAIN = "domain", "Domain"
        ADDRESS = "address", "Address"

    account = models.ForeignKey(Account, models.CASCADE, related_name="sender_identities")
    kind = models.CharField(max_length=7, choices=Kind)
    value = models.CharField(max_length=254, help_text="A normalised domain or address.")
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "sender identities"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "value"], name="sender_identity_unique_per_account"
            ),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @classmethod
    def normalise(cls, value: str) -> tuple[str, str]:
        """(kind, normal form) of a domain or address; raises InvalidAddress."""
        value = value.strip()
        if "@" in value:
            return cls.Kind.ADDRESS, normalize_address(value)
        return cls.Kind.DOMAIN, normalize_domain(value)

    def clean(self) -> None:
        try:
            self.kind, self.value = self.normalise(self.value or "")
        except InvalidAddress as exc:
            raise ValidationError({"value": str(exc)}) from None


class SendingSettings(models.Model):
    """Per-account sending options; an account without a row gets the defaults."""

    account = models.OneToOneField(Account, models.CASCADE, related_name="sending_settings")
    track_opens = models.BooleanField(default=True)
    track_clicks = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "sending settings"

    def __str__(self) -> str:
        return f"Sending settings of {self.account}"


class OutboundEmail(models.Model):
    """One mail API request: the content, sent separately to each accepted recipient."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="outbound_emails")
    email_id = models.CharField(max_length=64, unique=True)
    from_address = models.CharField(max_length=512, help_text="As given, display name included.")
    reply_to = models.CharField(max_length=512, blank=True)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    subject = models.CharField(max_length=998)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    reference = models.CharField(max_length=128, blank=True)
    track_opens = models.BooleanField(default=True)
    track_clicks = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [
            # Recent sends of an account (API list, send-test page).
            models.Index(fields=["account", "-created_at"], name="outbound_account_created"),
        ]

    def __str__(self) -> str:
        return self.email_id


class OutboundRecipientQuerySet(models.QuerySet["OutboundRecipient"]):
    def due(self, now) -> OutboundRecipientQuerySet:
        return self.filter(
            state__in=[OutboundRecipient.State.QUEUED, OutboundRecipient.State.DEFERRED],
            next_attempt_at__lte=now,
        )


class OutboundRecipient(models.Model):
    """Delivery state of one recipient of an OutboundEmail; `message_id` names its Message."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        DEFERRED = "deferred", "Deferred, will retry"
        DELIVERED = "delivered", "Delivered"
        BOUNCED = "bounced", "Bounced"
        REJECTED = "rejected", "Rejected"

    class Field(models.TextChoices):
        TO = "to", "To"
        CC = "cc", "Cc"
        BCC = "bcc", "Bcc"

    FINAL_STATES = (State.DELIVERED, State.BOUNCED, State.REJECTED)

    email = models.ForeignKey(OutboundEmail, models.CASCADE, related_name="recipients")
    account = models.ForeignKey(Account, models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=128, unique=True)
    address = models.CharField(max_length=254)
    field = models.CharField(max_length=3, choices=Field, default=Field.TO)
    smtp_message_id = models.CharField(
        max_length=255, unique=True, help_text="The Message-ID header sent with the mail."
    )
    state = models.CharField(max_length=10, choices=State, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_reply = models.TextField(blank=True)
    reject_reason = models.CharField(max_length=32, blank=True)

    objects = OutboundRecipientQuerySet.as_manager()

    class Meta:
        indexes = [
            # The retry sweep: recipients waiting for an attempt whose time has come.
            models.Index(
                fields=["next_attempt_at"],
                name="outbound_recipient_due",
                condition=Q(state__in=["queued", "deferred"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.address}"


class InboundReport(models.Model):
    """A returned report (DSN, ARF) as received, with what intake made of it.

    Unmatched and unparsable mail is kept here for review instead of being dropped.
    """

    class Status(models.TextChoices):
        MATCHED = "matched", "Matched"
        UNMATCHED = "unmatched", "Unmatched"
        UNPARSABLE = "unparsable", "Unparsable"
        NOT_A_REPORT = "not_a_report", "Not a report"

    account = models.ForeignKey(
        Account, models.CASCADE, null=True, blank=True, related_name="inbound_reports"
    )
    status = models.CharField(max_length=12, choices=Status)
    kind = models.CharField(max_length=16, blank=True)
    message_id = models.CharField(max_length=128, blank=True)
    # The account whose API key sent the report in (its matching looks at that account's
    # mail only); null for the mail intake and staff, who match any account's mail.
    submitted_by = models.ForeignKey(
        Account, models.CASCADE, null=True, blank=True, related_name="+"
    )
    sha256 = models.CharField(max_length=64)
    raw = models.BinaryField()
    note = models.TextField(blank=True)
    events = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            # The same bytes are one report per submitter: taken in twice, they count once
            # (their events are keyed by the digest too), but one account's copy never
            # answers another's with its match or its miss.
            models.UniqueConstraint(
                fields=["submitted_by", "sha256"], name="inbound_report_once_per_submitter"
            ),
            models.UniqueConstraint(
                fields=["sha256"],
                condition=models.Q(submitted_by=None),
                name="inbound_report_once_unsubmitted",
            ),
        ]
        indexes = [
            # Review in the admin: unmatched and unparsable reports, newest first.
            models.Index(fields=["status", "-received_at"], name="inbound_report_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} report {self.sha256[:12]}"


class IdempotentRequest(models.Model):
    """The answer to a request sent with an `Idempotency-Key`, kept 24 hours.

    The same key with the same body gets this answer again instead of a second mail; the
    same key with another body is refused.
    """

    account = models.ForeignKey(Account, models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "key"], name="idempotent_request_unique_key"
            ),
        ]
        indexes = [
            # The daily sweep of expired keys.
            models.Index(fields=["created_at"], name="idempotent_request_created"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"


class PendingFold(models.Model):
    """A stored event not yet folded into its message and the rollups.

    With `INGEST_FOLD=deferred` the ingestion request stores events and these rows in one
    transaction and answers; workers fold them in large batches (`delivery.fold`), each row
    deleted in the transaction that folds its event, so every event is folded exactly once.
    A request event's addresses ride along, since the event row does not keep them.
    """

    event = models.OneToOneField(
        DeliveryEvent, models.CASCADE, primary_key=True, db_constraint=False, related_name="+"
    )
    account = models.ForeignKey(Account, models.CASCADE, db_constraint=False, related_name="+")
    message = models.ForeignKey(Message, models.CASCADE, db_constraint=False, related_name="+")
    from_address = models.CharField(max_length=254, blank=True)
    to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=998, blank=True)

    def __str__(self) -> str:
        return f"pending fold of event {self.event_id}"
