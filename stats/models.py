"""Rollups: event counters per account x sender domain x recipient domain x time bucket.

Every chart, count table and statistics API reads these rows, never the raw events.
`stats.rollups` keeps them up to date inside the ingestion transaction.
"""

from __future__ import annotations

from django.db import models

from delivery.models import BounceClass
from sesconsole.models import Account

# The counters every rollup row, series bucket and total carries, in wire-format order.
BOUNCE_COUNTERS = [f"bounced_{c}" for c in BounceClass.values]
HUMAN_COUNTERS = ["opened_human", "opened_human_unique", "clicked_human", "clicked_human_unique"]
COUNTERS = [
    "requests",
    "rejected",
    "delivered",
    "deferred",
    "bounced",
    *BOUNCE_COUNTERS,
    "opened",
    "opened_unique",
    "clicked",
    "clicked_unique",
    "complained",
    "unsubscribed",
    # Opens and clicks not flagged as a machine's (privacy proxy, link scanner). Last, so
    # the columns before them keep their places in CSV exports.
    *HUMAN_COUNTERS,
]


# The domain value of the rows that count every domain pair of an account, so that an
# unfiltered chart reads one row per bucket ("*" is never a domain of a normalised address).
ALL = "*"
# The domain value of the rows that count the domains an account does not track (its long
# tail, see TrackedDomain); "~" is never a domain of a normalised address either.
OTHER = "~"


class RollupQuerySet(models.QuerySet["Rollup"]):
    def for_account(self, account: Account) -> RollupQuerySet:
        return self.filter(account=account)


class Rollup(models.Model):
    """Counts of the events whose timestamp falls in [bucket, bucket + size minutes).

    Three sizes are kept side by side, each complete:
    - 1 minute: the live view (last hour at one-minute resolution);
    - 15 minutes: history in any time zone: every UTC offset in use is a multiple of
      15 minutes (Asia/Kolkata +5:30, Asia/Kathmandu +5:45), so local hours and days are
      exact sums of quarter-hours;
    - 60 minutes: history in zones whose offset is a whole number of hours (most), four
      times fewer rows to read for a 30-day chart.
    Besides one row per domain pair, each bucket has an all-domains row (both domains
    `ALL`), which unfiltered charts read. Pairs are kept only for the account's tracked
    domains (TrackedDomain); any other domain is counted under `OTHER`, so a bucket holds at
    most (senders + 1) x (recipients + 1) + 1 rows whatever the traffic.
    Unique opens and clicks are counted once per message, in the bucket of its first
    open/click (`Message.first_opened_at` / `first_clicked_at`). The `*_human` counters
    leave out events flagged `is_machine`; their unique ones sit in the bucket of the first
    human open/click (`Message.first_human_opened_at` / `first_human_clicked_at`).
    """

    class Size(models.IntegerChoices):
        MINUTE = 1, "1 minute"
        QUARTER = 15, "15 minutes"
        HOUR = 60, "1 hour"

    account = models.ForeignKey(Account, models.CASCADE, related_name="+")
    size = models.PositiveSmallIntegerField(choices=Size)
    bucket = models.DateTimeField(help_text="Start of the bucket (UTC).")
    sender_domain = models.CharField(max_length=253, blank=True)
    recipient_domain = models.CharField(max_length=253, blank=True)

    requests = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    deferred = models.IntegerField(default=0)
    bounced = models.IntegerField(default=0)
    bounced_invalid_address = models.IntegerField(default=0)
    bounced_mailbox_full = models.IntegerField(default=0)
    bounced_blocked = models.IntegerField(default=0)
    bounced_spam_rejected = models.IntegerField(default=0)
    bounced_other = models.IntegerField(default=0)
    opened = models.IntegerField(default=0)
    opened_unique = models.IntegerField(default=0)
    clicked = models.IntegerField(default=0)
    clicked_unique = models.IntegerField(default=0)
    complained = models.IntegerField(default=0)
    unsubscribed = models.IntegerField(default=0)
    opened_human = models.IntegerField(default=0)
    opened_human_unique = models.IntegerField(default=0)
    clicked_human = models.IntegerField(default=0)
    clicked_human_unique = models.IntegerField(default=0)

    objects = RollupQuerySet.as_manager()

    class Meta:
        constraints = [
            # The upsert's conflict target; its index also serves the series queries the
            # two indexes below do not (a sender-only filter: domains filtered in the scan).
            models.UniqueConstraint(
                fields=["account", "size", "bucket", "sender_domain", "recipient_domain"],
                name="rollup_unique_bucket",
            ),
        ]
        indexes = [
            # Unfiltered charts read the all-domains rows only: one per bucket, where the
            # unique index's range also holds every pair row of the period.
            models.Index(
                fields=["account", "size", "bucket"],
                condition=models.Q(sender_domain=ALL, recipient_domain=ALL),
                name="rollup_all_domains",
            ),
            # A chart filtered on a recipient domain (with or without a sender): its rows.
            models.Index(
                fields=["account", "size", "recipient_domain", "bucket"],
                name="rollup_recipient_domain",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:%M} /{self.size}m {self.sender_domain}→{self.recipient_domain}"


class Side(models.TextChoices):
    SENDER = "sender", "Sender domain"
    RECIPIENT = "recipient", "Recipient domain"


class TrackedDomain(models.Model):
    """A domain that has its own rollup rows during [since, until) (hours, UTC).

    Chosen by `stats.tracking.choose_tracked_domains` among the account's busiest domains;
    at any instant an account tracks at most STATS_TRACKED_SENDER_DOMAINS sender and
    STATS_TRACKED_RECIPIENT_DOMAINS recipient domains. Intervals are kept after they end:
    they say which rollup rows hold a domain's counts, and a rebuild maps events through
    them. A domain promoted again gets a new interval.
    """

    account = models.ForeignKey(Account, models.CASCADE, related_name="+")
    side = models.CharField(max_length=9, choices=Side)
    domain = models.CharField(max_length=253, blank=True)
    since = models.DateTimeField(help_text="First hour counted under the domain (UTC).")
    until = models.DateTimeField(
        null=True, blank=True, help_text="First hour counted under 'other' again (UTC)."
    )

    class Meta:
        constraints = [
            # One open interval per domain: the promotion job may run twice safely.
            models.UniqueConstraint(
                fields=["account", "side", "domain"],
                condition=models.Q(until__isnull=True),
                name="tracked_domain_one_open",
            ),
        ]
        indexes = [
            # Every counting batch reads its account's intervals.
            models.Index(fields=["account", "side", "domain"], name="tracked_domain_account"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.domain} from {self.since:%Y-%m-%d %H:%M}"


class SeenDomain(models.Model):
    """A domain the account sent from or to, for the filter menus of the pages.

    The counting consumer adds domains as they first appear; the promotion job refreshes
    `last_seen` from recent messages and forgets domains unseen for long.
    """

    account = models.ForeignKey(Account, models.CASCADE, related_name="+")
    side = models.CharField(max_length=9, choices=Side)
    domain = models.CharField(max_length=253, blank=True)
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            # The consumer's insert-if-missing target; also serves the menu query.
            models.UniqueConstraint(
                fields=["account", "side", "domain"], name="seen_domain_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.domain}"
