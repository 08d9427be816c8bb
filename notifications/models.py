"""Event notifications: customers' endpoints, the outbox of events to push, the attempts log."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from delivery.models import DeliveryEvent, EventType
from sesconsole.models import Account

SECRET_PREFIX = "whsec_"


class EventName(models.TextChoices):
    """Tencent's event names, with their numeric `eventid`."""

    DELIVERED = "delivered", "Delivered"
    DEFERRED = "deferred", "Deferred"
    DROPPED = "dropped", "Dropped"
    BOUNCE = "bounce", "Bounce"
    OPEN = "open", "Open"
    CLICK = "click", "Click"
    SPAMREPORT = "spamreport", "Spam report"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe"


EVENT_IDS = {
    EventName.DELIVERED: 1,
    EventName.DROPPED: 2,
    EventName.BOUNCE: 3,
    EventName.OPEN: 4,
    EventName.CLICK: 5,
    EventName.SPAMREPORT: 6,
    EventName.UNSUBSCRIBE: 7,
    EventName.DEFERRED: 8,
}

# Our event types and the Tencent event each is notified as; `request` is not notified.
EVENT_NAMES = {
    EventType.REJECTED: EventName.DROPPED,
    EventType.DELIVERED: EventName.DELIVERED,
    EventType.DEFERRED: EventName.DEFERRED,
    EventType.BOUNCED: EventName.BOUNCE,
    EventType.OPENED: EventName.OPEN,
    EventType.CLICKED: EventName.CLICK,
    EventType.COMPLAINED: EventName.SPAMREPORT,
    EventType.UNSUBSCRIBED: EventName.UNSUBSCRIBE,
}


def _fernet() -> Fernet:
    material = hashlib.sha256(b"sesconsole-webhooks:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(material))


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


class EndpointQuerySet(models.QuerySet["Endpoint"]):
    def for_account(self, account: Account) -> EndpointQuerySet:
        return self.filter(account=account)

    def enabled(self) -> EndpointQuerySet:
        return self.filter(enabled=True)


class Endpoint(models.Model):
    """A customer's callback URL, for the whole account or for one sender address.

    The sender-address endpoint wins for that sender; the account-level one covers the rest.
    """

    account = models.ForeignKey(Account, models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000, help_text="http(s) URL that receives a POST per event.")
    sender_address = models.CharField(
        max_length=254, blank=True, help_text="Only mail from this address; blank: all senders."
    )
    events = models.JSONField(
        default=list, blank=True, help_text="Event names to send; empty: all of them."
    )
    batch_size = models.PositiveSmallIntegerField(
        default=1, help_text="Events per request; above 1 the body is a JSON array."
    )
    secret_encrypted = models.TextField(editable=False)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # Delivery state: consecutive failures pause the whole endpoint (a circuit breaker), so a
    # dead endpoint costs one request per pause, not one per waiting event.
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused_until = models.DateTimeField(null=True, blank=True)
    # Held by the one task delivering to this endpoint (bounded concurrency per endpoint).
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    delivered_count = models.PositiveBigIntegerField(default=0)
    failed_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        constraints = [
            # As in Tencent: one account-level endpoint and one per sender address. It also
            # serves the ingestion lookup of an account's endpoints.
            models.UniqueConstraint(
                fields=["account", "sender_address"], name="webhook_endpoint_one_per_sender"
            ),
            models.CheckConstraint(
                condition=Q(batch_size__gte=1, batch_size__lte=100),
                name="webhook_endpoint_batch_size_range",
            ),
        ]

    def __str__(self) -> str:
        scope = self.sender_address or "all senders"
        return f"{self.url} ({scope})"

    @property
    def secret(self) -> str:
        try:
            return _fernet().decrypt(self.secret_encrypted.encode()).decode()
        except InvalidToken:
            return ""

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = _fernet().encrypt(secret.encode()).decode()

    def wants(self, name: str) -> bool:
        return not self.events or name in self.events


class NotificationQuerySet(models.QuerySet["Notification"]):
    def due(self, now=None) -> NotificationQuerySet:
        return self.filter(
            status=Notification.Status.PENDING, next_attempt_at__lte=now or timezone.now()
        )


class Notification(models.Model):
    """One event to push to one endpoint: the outbox row, written with the event."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(Endpoint, models.CASCADE, related_name="notifications")
    # Null for test events sent from the console. No database constraint: the event table
    # is partitioned by time on PostgreSQL (an id alone is unique by construction, not by
    # an index a foreign key could use), and ingestion stays cheaper without one.
    event = models.ForeignKey(
        DeliveryEvent,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # When it was last queued (created or redelivered): retries stop WEBHOOKS_RETRY_HOURS later.
    queued_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        constraints = [
            # Exactly once per event and endpoint, whatever races ingestion has.
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="notification_once_per_endpoint"
            ),
        ]
        indexes = [
            # The delivery task and the dispatch job: an endpoint's due rows, oldest first.
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                name="notification_due",
                condition=Q(status="pending"),
            ),
            # Redeliver everything failed in a time range.
            models.Index(
                fields=["endpoint", "created_at"],
                name="notification_failed",
                condition=Q(status="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} to {self.endpoint_id} ({self.status})"

    @property
    def webhook_id(self) -> str:
        return f"ntf_{self.pk}"


class Attempt(models.Model):
    """One HTTP request carrying a notification, and how the endpoint answered."""

    endpoint = models.ForeignKey(Endpoint, models.CASCADE, related_name="attempts")
    notification = models.ForeignKey(Notification, models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    error = models.CharField(max_length=200, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The endpoint page: its most recent attempts.
            models.Index(fields=["endpoint", "-at"], name="attempt_endpoint_recent"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.pk}: {self.status_code or self.error}"
