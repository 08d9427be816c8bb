"""The event contract: every event type, declared once.

Validation (`delivery.ingest`), the message fold (`Message.apply_event`) and rollup counting
(`stats.rollups`) read `EVENTS`; nothing else lists event types. Adding a type means adding
its `EventType` member and its `EventRule` here, and its counter column to `stats.models`
(a test checks that the three agree).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class EventType(models.TextChoices):
    REQUEST = "request", "Request"
    REJECTED = "rejected", "Rejected"
    DELIVERED = "delivered", "Delivered"
    DEFERRED = "deferred", "Deferred"
    BOUNCED = "bounced", "Bounced"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    COMPLAINED = "complained", "Spam report"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class BounceClass(models.TextChoices):
    INVALID_ADDRESS = "invalid_address", "Invalid address"
    MAILBOX_FULL = "mailbox_full", "Mailbox full"
    BLOCKED = "blocked", "Blocked"
    SPAM_REJECTED = "spam_rejected", "Rejected as spam"
    OTHER = "other", "Other"


class BounceEvidence(models.TextChoices):
    """What an invalid-address verdict rests on, strongest first (docs/bounces.md)."""

    DSN_5_1_X = "dsn_5_1_x", "5.1.x status in a DSN or SMTP reply field"
    TEXT_5_1_X = "text_5_1_x", "5.1.x code in free text only"
    WORDING = "wording", "5xx reply wording only"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Not reported yet"
    REQUESTED = "requested", "Queued"
    DEFERRED = "deferred", "Deferred"
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    REJECTED = "rejected", "Rejected"


@dataclass(frozen=True)
class EventRule:
    """What one event type means.

    - `status`: the message status it sets (None: status unchanged);
    - `counter`: the rollup counter each event adds 1 to (a bounce also to
      `bounced_<class>`);
    - `requires`: wire fields it must carry besides id, type, timestamp and message_id;
    - `first_field`: the message field holding the earliest such event's time;
    - `count_field`: the message field counting such events;
    - `unique_counter`: the rollup counter of messages with at least one (at `first_field`);
    - `human`: whether events may be flagged as a machine's (privacy proxy, link scanner);
      if so `<counter>_human`, `<unique_counter>` with `_human` and
      `first_human_<…>_at` on the message count the others.
    """

    status: str | None
    counter: str
    requires: tuple[str, ...] = ()
    first_field: str | None = None
    count_field: str | None = None
    unique_counter: str | None = None
    human: bool = False

    @property
    def human_counter(self) -> str | None:
        return f"{self.counter}_human" if self.human else None

    @property
    def human_unique_counter(self) -> str | None:
        return f"{self.counter}_human_unique" if self.human else None

    @property
    def first_human_field(self) -> str | None:
        return f"first_human_{self.first_field.removeprefix('first_')}" if self.human else None


EVENTS: dict[str, EventRule] = {
    EventType.REQUEST: EventRule(MessageStatus.REQUESTED, "requests", requires=("from", "to")),
    EventType.REJECTED: EventRule(MessageStatus.REJECTED, "rejected", requires=("from", "to")),
    EventType.DELIVERED: EventRule(MessageStatus.DELIVERED, "delivered"),
    EventType.DEFERRED: EventRule(MessageStatus.DEFERRED, "deferred"),
    EventType.BOUNCED: EventRule(MessageStatus.BOUNCED, "bounced"),
    EventType.OPENED: EventRule(
        None,
        "opened",
        first_field="first_opened_at",
        count_field="open_count",
        unique_counter="opened_unique",
        human=True,
    ),
    EventType.CLICKED: EventRule(
        None,
        "clicked",
        requires=("url",),
        first_field="first_clicked_at",
        count_field="click_count",
        unique_counter="clicked_unique",
        human=True,
    ),
    EventType.COMPLAINED: EventRule(None, "complained", first_field="complained_at"),
    EventType.UNSUBSCRIBED: EventRule(None, "unsubscribed", first_field="unsubscribed_at"),
}


def bounce_counter(bounce_class: str) -> str:
    return f"bounced_{bounce_class or BounceClass.OTHER}"


def declared_counters() -> set[str]:
    """Every rollup counter the contract feeds (stats.models.COUNTERS must equal it)."""
    names = {bounce_counter(c) for c in BounceClass.values}
    for rule in EVENTS.values():
        names.add(rule.counter)
        names.update(
            n
            for n in (rule.unique_counter, rule.human_counter, rule.human_unique_counter)
            if n is not None
        )
    return names
