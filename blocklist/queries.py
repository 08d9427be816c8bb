"""What an account may see of the blocklist."""

from __future__ import annotations

from datetime import date, tzinfo

from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import OrderBy
from django.utils import timezone

from delivery.addresses import InvalidAddress, normalize_address
from sesconsole.lib.timezones import MAX_DAY, MIN_DAY, day_bounds, zone_of
from sesconsole.models import Account

from .models import AutoBlockSetting, Block, BlockQuerySet, VisibleBlock, Whitelist

# The fields of a block's stops, and the `stops_seen_by` names of what an account is shown.
SEEN_STOPS = {"stopped_count": "seen_stopped_count", "last_stopped_at": "seen_last_stopped_at"}


def stops_seen_by(account: Account) -> dict[str, Case]:
    """A block's stops as `account` is shown them, by name (for `alias()` or `annotate()`):
    the counts of a block its sending triggered; none (NULL) for one another account's
    sending triggered, whose `stopped_count` and `last_stopped_at` count every account's
    tries to mail the address."""
    own = Q(account=account)
    return {
        "seen_stopped_count": Case(
            When(own, then=F("stopped_count")), default=None, output_field=IntegerField()
        ),
        "seen_last_stopped_at": Case(
            When(own, then=F("last_stopped_at")), default=None, output_field=DateTimeField()
        ),
    }


class BlocksAsSeen(BlockQuerySet):
    """Invalid-address blocks as one account sees them (invalid_blocks_visible_to).

    Ordered by its stops (`stopped_count`, `last_stopped_at`: the page's `?sort=stopped`,
    the API's `?ordering=stopped_count`), the list follows the stops the account is shown:
    its own blocks by their counts, another account's as having none, after its own in
    either direction (the usual tie-breaker orders them among themselves). Their hidden
    counts must not order them: they would tell how often other tenants tried the addresses.
    """

    def order_by(self, *field_names) -> BlocksAsSeen:
        return super().order_by(*(_as_seen(name) for name in field_names))


def _as_seen(name):
    if not isinstance(name, str) or name.lstrip("-") not in SEEN_STOPS:
        return name
    seen = F(SEEN_STOPS[name.lstrip("-")])
    return OrderBy(seen, descending=name.startswith("-"), nulls_last=True)


def invalid_blocks_visible_to(
    account: Account,
    start: date | None = None,
    end: date | None = None,
    address: str = "",
    *,
    probe_each: bool = False,
) -> QuerySet[Block]:
    """Active invalid-address blocks an account may see, blocked within [start, end].

    An account sees the blocks its sending triggered and those of addresses it has
    mailed (or tried to); other tenants' recipients stay private. Read from its
    VisibleBlock rows: the equal `blocked_at` lets the key's order serve the list's.
    Sorted by stops, the rows follow the stops the account is shown (BlocksAsSeen).

    `probe_each`: the same rows, found by testing each block for the account's row, so
    that a list sorted by address can walk the address index and stop at its page. Only
    for an account that sees many blocks (blocklist.pagination.ListPaginator): for one
    that sees few, the walk would test every block of the installation.
    """
    if probe_each:
        # A scalar subquery, which PostgreSQL keeps as a test per row; EXISTS would become
        # a join, which the planner, misjudging it, answers by reading every block.
        seen = VisibleBlock.objects.filter(
            account=account, blocked_at=OuterRef("blocked_at"), block=OuterRef("pk")
        ).values(seen=Value(True))[:1]
        visible = Q(seen=True)
    else:
        seen = None
        visible = Q(visible_to__account=account, visible_to__blocked_at=F("blocked_at"))
    qs = BlocksAsSeen(Block).invalid().active().alias(**stops_seen_by(account))
    if seen is not None:
        qs = qs.alias(seen=Subquery(seen, output_field=BooleanField()))
    qs = qs.filter(visible).annotate(
        whitelisted=Exists(Whitelist.objects.active().filter(account=account, block=OuterRef("pk")))
    )
    qs = within_days(qs, "blocked_at", start, end, zone_of(account))
    if address:
        qs = qs.filter(address=normal_or_raw(address))
    return qs.order_by("-blocked_at", "-pk")


def custom_blocks(account: Account, status: str = "all", address: str = "") -> QuerySet[Block]:
    """An account's custom blocks by status: 'active', 'expired' or 'all' (Tencent 1/0/2)."""
    qs = Block.objects.custom().for_account(account).listed()
    now = timezone.now()
    if status == "active":
        qs = qs.active(now)
    elif status == "expired":
        qs = qs.expired(now)
    if address:
        qs = qs.filter(address=normal_or_raw(address))
    return qs.order_by("-blocked_at", "-pk")


def within_days(
    qs: QuerySet, field: str, start: date | None, end: date | None, zone: tzinfo
) -> QuerySet:
    """Rows whose `field` falls on the local days `start`..`end` (inclusive; either may be None)."""
    # Nothing is older than MIN_DAY or newer than MAX_DAY; clamping keeps the arithmetic
    # in range for any date a form accepts.
    start = _clamp(start)
    end = _clamp(end)
    since, until = day_bounds(start, end, zone)
    if since is not None:
        qs = qs.filter(**{f"{field}__gte": since})
    if until is not None:
        qs = qs.filter(**{f"{field}__lt": until})
    return qs


def _clamp(day: date | None) -> date | None:
    return None if day is None else min(max(day, MIN_DAY), MAX_DAY)


def normal_or_raw(value: str) -> str:
    try:
        return normalize_address(value)
    except InvalidAddress:
        return value.strip().lower()


def auto_block_setting(account: Account) -> AutoBlockSetting:
    """The account's setting (unsaved default when never set). One query."""
    return AutoBlockSetting.objects.filter(account=account).first() or AutoBlockSetting(
        account=account
    )
