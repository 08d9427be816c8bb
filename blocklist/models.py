"""Blocks: who must not be mailed, why, since when and until when.

A block is never deleted: removing, expiring or releasing one stamps `released_at`, so the
history can always show it. "Active" means not released and not past `expires_at`; the
check reads that condition directly, so a block lifts on time even before the job runs.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from delivery.models import BounceEvidence
from sesconsole.models import Account

INVALID_BLOCK_DAYS = 180
DEFAULT_AUTO_BLOCK_DAYS = 7


class AddressList:
    """Addresses for `address__any`, opaque to the ORM: a plain list would be deep-copied
    at every queryset clone and walked item by item, which costs more than the query."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = list(values)

    def __deepcopy__(self, memo) -> AddressList:
        return self


class AnyOf(models.Lookup):
    """`address__any=[...]`: one array parameter (`= ANY(%s)`) on PostgreSQL instead of
    a thousand placeholders, which costs more to build and parse than the lookup itself."""

    lookup_name = "any"
    prepare_rhs = False  # the right-hand side is a list, not one address

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self.rhs.values if isinstance(self.rhs, AddressList) else list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


class BlockQuerySet(models.QuerySet["Block"]):
    def active(self, now: datetime | None = None) -> BlockQuerySet:
        now = now or timezone.now()
        return self.filter(released_at=None).filter(Q(expires_at=None) | Q(expires_at__gt=now))

    def expired(self, now: datetime | None = None) -> BlockQuerySet:
        """Blocks no longer in force: released, or past their expiry date."""
        now = now or timezone.now()
        return self.filter(Q(released_at__isnull=False) | Q(expires_at__lte=now))

    def due(self, now: datetime | None = None) -> BlockQuerySet:
        """Unreleased blocks whose time is up: what the expiry jobs release."""
        return self.filter(released_at=None, expires_at__lte=now or timezone.now())

    def invalid(self) -> BlockQuerySet:
        return self.filter(kind=Block.Kind.INVALID)

    def rejects(self) -> BlockQuerySet:
        return self.filter(kind=Block.Kind.REJECT)

    def custom(self) -> BlockQuerySet:
        return self.filter(kind=Block.Kind.CUSTOM)

    def for_account(self, account: Account) -> BlockQuerySet:
        """Blocks owned by (reject, custom) or triggered by (invalid) `account`."""
        return self.filter(account=account)

    def listed(self) -> BlockQuerySet:
        """Blocks a list shows: active and expired ones, not those removed or deleted."""
        return self.exclude(release_reason__in=[Block.Release.REMOVED, Block.Release.DELETED])


class Block(models.Model):
    """One block of one address.

    - INVALID: global (every account), created by an `invalid_address` bounce; `account` is
      the account whose sending triggered it. Lifts after 180 days.
    - REJECT: per account, from an `unsubscribed` or `complained` event.
    - CUSTOM: per account, added by hand, by upload, by the API or by auto-block of full
      inboxes; optional expiry.
    """

    class Kind(models.TextChoices):
        INVALID = "invalid", "Invalid address"
        REJECT = "reject", "Reject"
        CUSTOM = "custom", "Custom"

    class Reason(models.TextChoices):
        INVALID_ADDRESS = "invalid_address", "Address does not exist"
        UNSUBSCRIBED = "unsubscribed", "Recipient unsubscribed"
        COMPLAINED = "complained", "Recipient reported spam"
        MANUAL = "manual", "Added by hand"
        UPLOAD = "upload", "Uploaded"
        MAILBOX_FULL = "mailbox_full", "Mailbox full (auto-block)"

    class Release(models.TextChoices):
        RELEASED = "released", "Released after 180 days"
        EXPIRED = "expired", "Expired"
        REMOVED = "removed", "Removed"
        DELETED = "deleted", "Deleted"

    kind = models.CharField(max_length=8, choices=Kind)
    address = models.CharField(max_length=254, help_text="Normalised address.")
    account = models.ForeignKey(
        Account,
        models.CASCADE,
        related_name="blocks",
        db_index=False,  # served by block_account_kind_blocked
        help_text="Owner (reject, custom) or the account whose sending triggered it (invalid).",
    )
    reason = models.CharField(max_length=16, choices=Reason)
    note = models.CharField(max_length=500, blank=True)
    response_text = models.TextField(blank=True, help_text="The bounce reply that caused it.")
    bounce_evidence = models.CharField(
        max_length=16,
        choices=BounceEvidence,
        blank=True,
        default="",
        db_default="",  # rows written by raw inserts that predate the field stay valid
        help_text="Invalid-address blocks: what the bounce verdict rested on (docs/bounces.md).",
    )
    event = models.ForeignKey(
        "delivery.DeliveryEvent",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # served by the partial index block_event
        # No database constraint: a foreign key cannot point into a time-partitioned table
        # (PostgreSQL); delivery.partitions clears the reference before events expire.
        db_constraint=False,
        help_text="The event that caused it.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never searched by; an index would only slow every write
    )
    blocked_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: permanent.")
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=8, choices=Release, blank=True)
    stopped_count = models.PositiveIntegerField(default=0, help_text="Sends this block stopped.")
    last_stopped_at = models.DateTimeField(null=True, blank=True)

    objects = BlockQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address"],
                condition=Q(kind="invalid", released_at=None),
                name="block_one_active_invalid_per_address",
            ),
            models.UniqueConstraint(
                fields=["account", "kind", "address"],
                condition=Q(released_at=None) & ~Q(kind="invalid"),
                name="block_one_active_per_account_kind_address",
            ),
            models.CheckConstraint(
                condition=Q(released_at=None, release_reason="")
                | (Q(released_at__isnull=False) & ~Q(release_reason="")),
                name="block_release_reason_iff_released",
            ),
        ]
        indexes = [
            # check(): unreleased blocks of a batch of addresses (address = ANY(...)).
            models.Index(
                fields=["address"], condition=Q(released_at=None), name="block_unreleased_addr"
            ),
            # Expiry jobs: unreleased blocks of one kind that are due (expires_at <= now).
            models.Index(
                fields=["kind", "expires_at"],
                condition=Q(released_at=None),
                name="block_unreleased_kind_expiry",
            ),
            # Console lists: an account's blocks of one kind, newest first (My trigger
            # list, reject list, custom list).
            models.Index(
                fields=["account", "kind", "-blocked_at"], name="block_account_kind_blocked"
            ),
            # The overview's tiles: an account's active blocks of each kind, counted from
            # the index alone (50,000 of one account: 7 ms, against 250-380 ms by heap).
            models.Index(
                fields=["account", "kind", "expires_at"],
                condition=Q(released_at=None),
                name="block_unreleased_account_kind",
            ),
            # Invalid-address list: global blocks in a date window, newest first.
            models.Index(fields=["kind", "-blocked_at"], name="block_kind_blocked"),
            # Auto-block: has this event already made a block? (NOT EXISTS … event_id = e.id)
            models.Index(fields=["event"], condition=Q(event__isnull=False), name="block_event"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.address}"

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.released_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def status(self) -> str:
        """'active', 'expired' (time up or released) or 'removed'. No query."""
        if self.release_reason in (self.Release.REMOVED, self.Release.DELETED):
            return "removed"
        return "active" if self.is_active() else "expired"

    @property
    def reject_reason(self) -> str:
        """The reason code a `rejected` event carries when this block stops a send."""
        if self.kind == self.Kind.INVALID:
            return "blocklisted"
        if self.kind == self.Kind.REJECT:
            return "complained" if self.reason == self.Reason.COMPLAINED else "unsubscribed"
        return "custom_blocked"


Block._meta.get_field("address").register_lookup(AnyOf)


class VisibleBlock(models.Model):
    """An invalid-address block one account may see: its sending triggered the block or has
    mailed (or tried to mail) the address (blocklist.queries.invalid_blocks_visible_to).

    Written when a block is made, for its trigger and every account that mailed the address
    before (blocklist.changes), and when events bring an account's mail to an address
    already blocked (blocklist.consumer). A list then reads one account's rows, newest
    first, instead of testing every global block against the account's mail, which took
    10 s for an account with few blocks among 5M (docs/performance.md). `blocked_at`
    repeats the block's so that the key also gives the list its order. Rows of released
    blocks stay, as the blocks do; the lists skip them.
    """

    pk = models.CompositePrimaryKey("account", "blocked_at", "block")
    account = models.ForeignKey(
        Account,
        models.CASCADE,
        related_name="+",
        db_index=False,  # served by the key
    )
    blocked_at = models.DateTimeField()
    block = models.ForeignKey(
        Block,
        models.CASCADE,
        related_name="visible_to",
        # Blocks are never deleted (released_at is stamped instead), so no index by block;
        # and no database constraint, whose check on deleting a block (an account's, with
        # the account) would then read every row for each one. Django's delete cascades.
        db_index=False,
        db_constraint=False,
    )

    def __str__(self) -> str:
        return f"{self.block_id} visible to {self.account_id}"


class WhitelistQuerySet(models.QuerySet["Whitelist"]):
    def active(self) -> WhitelistQuerySet:
        return self.filter(removed_at=None)

    def for_account(self, account: Account) -> WhitelistQuerySet:
        return self.filter(account=account)


class Whitelist(models.Model):
    """An account vouches for an address that another account's sending got blocked.

    It overrides that one invalid-address block for this account only; when the block is
    released the whitelist has nothing left to override, and a new block needs a new one.
    """

    account = models.ForeignKey(Account, models.CASCADE, related_name="whitelists")
    block = models.ForeignKey(Block, models.CASCADE, related_name="whitelists")
    address = models.CharField(max_length=254)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = WhitelistQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "block"],
                condition=Q(removed_at=None),
                name="whitelist_one_active_per_account_block",
            ),
        ]
        indexes = [
            # check(): an account's live whitelists for a batch of addresses.
            models.Index(
                fields=["account", "address"],
                condition=Q(removed_at=None),
                name="whitelist_active_acct_addr",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} whitelisted by {self.account}"


class History(models.Model):
    """Every add, remove, whitelist, expiry and edit: who, when, why. Never deleted."""

    class Action(models.TextChoices):
        ADDED = "added", "Added"
        REMOVED = "removed", "Removed"
        DELETED = "deleted", "Deleted"
        RELEASED = "released", "Released after 180 days"
        EXPIRED = "expired", "Expired"
        EDITED = "edited", "Edited"
        WHITELISTED = "whitelisted", "Whitelisted"
        UNWHITELISTED = "unwhitelisted", "Whitelist ended"

    block = models.ForeignKey(
        Block, models.CASCADE, related_name="history", db_index=False
    )  # served by history_block_at
    action = models.CharField(max_length=16, choices=Action)
    at = models.DateTimeField(default=timezone.now)
    account = models.ForeignKey(
        Account,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # served by history_account_at
        help_text="The account acted for (empty: the system).",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never searched by
    )
    actor_label = models.CharField(max_length=100, default="system")
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "history"
        indexes = [
            # A block's history, in order (admin inline, the query's explanation).
            models.Index(fields=["block", "at"], name="history_block_at"),
            # History page: an account's own actions, newest first. System rows (releases,
            # expiries: a million at a time) have no account and stay out of it.
            models.Index(
                fields=["account", "-at"],
                condition=Q(account__isnull=False),
                name="history_account_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_label} at {self.at:%Y-%m-%d %H:%M}"


class AutoBlockSetting(models.Model):
    """Per account: block recipients whose mailbox is full, for `days` days."""

    account = models.OneToOneField(Account, models.CASCADE, related_name="auto_block")
    enabled = models.BooleanField(default=False)
    days = models.PositiveSmallIntegerField(default=DEFAULT_AUTO_BLOCK_DAYS)
    enabled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(days__gte=1, days__lte=365), name="autoblock_days_1_to_365"
            ),
        ]

    def __str__(self) -> str:
        return f"Auto-block for {self.account}: {'on' if self.enabled else 'off'}"


class InvalidSurge(models.Model):
    """A surge of invalid-address verdicts at one recipient domain, held for staff to judge.

    A provider fault can answer "550 5.1.1 does not exist" for every mailbox it holds
    (Gmail did on 14 and 15 December 2020, 6 h 41 min in all). Each reply is the strongest
    evidence a bounce can carry, so no classifier can tell; only the number can. While a
    surge holds, new invalid-address verdicts for its domain block nothing: staff block
    them (the addresses really are gone) or dismiss the surge (which also lifts the blocks
    made in its window before it opened). An undecided surge stops holding at
    `hold_until`, so a domain's blocking never stays off unattended. docs/blocklist.md.
    """

    class Decision(models.TextChoices):
        BLOCKED = "blocked", "Blocked: the addresses do not exist"
        DISMISSED = "dismissed", "Dismissed: a fault at the receiver"

    domain = models.CharField(max_length=253, help_text="The recipient domain (normalised).")
    window_start = models.DateTimeField(
        help_text="Verdicts for the domain from this time on belong to the surge."
    )
    opened_at = models.DateTimeField(
        default=timezone.now,
        help_text="Verdicts stored from this time until `hold_until` are held.",
    )
    hold_until = models.DateTimeField(help_text="New verdicts are held until then.")
    verdicts_at_opening = models.PositiveIntegerField(
        help_text="Invalid-address verdicts for the domain in the window that opened it."
    )
    usual_per_window = models.FloatField(
        help_text="The domain's usual number of verdicts in a window of that length."
    )
    held = models.PositiveIntegerField(default=0, help_text="Verdicts held, not blocked.")
    decision = models.CharField(max_length=9, choices=Decision, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=100, blank=True)
    decision_count = models.PositiveIntegerField(
        default=0, help_text="Blocks the decision made (blocked) or lifted (dismissed)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=Q(decision=""), name="surge_one_undecided_per_domain"
            ),
            models.CheckConstraint(
                condition=Q(decision="", decided_at=None)
                | (~Q(decision="") & Q(decided_at__isnull=False)),
                name="surge_decided_at_iff_decision",
            ),
        ]
        indexes = [models.Index(fields=["-opened_at"], name="surge_opened")]

    def __str__(self) -> str:
        return (
            f"Surge of invalid-address verdicts at {self.domain} ({self.opened_at:%Y-%m-%d %H:%M})"
        )

    @property
    def holding(self) -> bool:
        """Whether new verdicts for the domain are held now."""
        return not self.decision and self.hold_until > timezone.now()
