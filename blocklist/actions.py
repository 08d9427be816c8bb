"""Account and staff actions on blocks: remove, whitelist, and the admin's bulk changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from delivery.addresses import InvalidAddress, normalize_address
from sesconsole.models import Account

from .changes import Actor, change_in_force, end_whitelists, release, write_history
from .errors import BlocklistError
from .models import Block, History, Whitelist

# The largest list of addresses one call (a form, an API request) may name.
MAX_BATCH = 100_000


@dataclass
class BatchResult:
    """What happened to each address of a batch change."""

    done: list[str] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)  # {"address", "code", "message"}
    not_found: list[str] = field(default_factory=list)
    invalid: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return asdict(self)

    @property
    def count(self) -> int:
        return len(self.done)


def normalise_many(addresses: Iterable[str], result: BatchResult) -> list[str]:
    out: dict[str, None] = {}
    for raw in addresses:
        try:
            out[normalize_address(raw)] = None
        except InvalidAddress as exc:
            result.invalid.append({"address": str(raw)[:300], "message": str(exc)})
    if len(out) > MAX_BATCH:
        raise BlocklistError(
            "too_many_addresses", f"Name at most {MAX_BATCH} addresses in one request."
        )
    return list(out)


@transaction.atomic
def remove_invalid_blocks(
    account: Account, addresses: Iterable[str], *, actor: Actor, note: str = ""
) -> BatchResult:
    """Delete the invalid-address blocks that `account`'s sending triggered.

    A block another account triggered is refused (whitelist it instead): only the
    account that caused a global block may lift it for everyone.
    """
    result = BatchResult()
    wanted = normalise_many(addresses, result)
    blocks = {b.address: b for b in Block.objects.invalid().active().filter(address__in=wanted)}
    mine = []
    for address in wanted:
        block = blocks.get(address)
        if block is None:
            result.not_found.append(address)
        elif block.account_id != account.pk:
            result.refused.append(
                {
                    "address": address,
                    "code": "triggered_by_another_account",
                    "message": f"{address} was blocked by another account's sending: "
                    "you cannot remove it, but you can whitelist it for your account.",
                }
            )
        else:
            mine.append(block.pk)
    ids = release(
        Block.objects.filter(pk__in=mine),
        Block.Release.REMOVED,
        History.Action.REMOVED,
        account=account,
        actor=actor,
        detail=note or "Verified valid by the account that triggered it.",
    )
    removed = set(ids)
    result.done = [b.address for b in blocks.values() if b.pk in removed]
    return result


@transaction.atomic
def remove_reject_blocks(
    account: Account, addresses: Iterable[str], *, actor: Actor, note: str = ""
) -> BatchResult:
    """Lift `account`'s reject blocks of these addresses (e.g. a recipient who opted back in).

    The history keeps the block, its cause and who lifted it; a new unsubscribe or spam
    report blocks the address again.
    """
    result = BatchResult()
    wanted = normalise_many(addresses, result)
    blocks = Block.objects.rejects().active().for_account(account).filter(address__in=wanted)
    ids = set(
        release(
            blocks,
            Block.Release.REMOVED,
            History.Action.REMOVED,
            account=account,
            actor=actor,
            detail=note or "Removed by the account: the recipient opted back in.",
        )
    )
    done = dict(Block.objects.filter(pk__in=ids).values_list("address", "pk"))
    result.done = sorted(done)
    result.not_found = [a for a in wanted if a not in done]
    return result


@transaction.atomic
def whitelist_addresses(
    account: Account, addresses: Iterable[str], *, actor: Actor, note: str = ""
) -> BatchResult:
    """Whitelist invalid-address blocks another account triggered, for `account` only.

    A block `account` triggered itself is refused (remove it instead).
    """
    result = BatchResult()
    wanted = normalise_many(addresses, result)
    blocks = {b.address: b for b in Block.objects.invalid().active().filter(address__in=wanted)}
    new = []
    for address in wanted:
        block = blocks.get(address)
        if block is None:
            result.not_found.append(address)
        elif block.account_id == account.pk:
            result.refused.append(
                {
                    "address": address,
                    "code": "triggered_by_you",
                    "message": f"{address} was blocked by your own sending: remove the block "
                    "instead of whitelisting it.",
                }
            )
        else:
            new.append(Whitelist(account=account, block=block, address=address, note=note[:500]))
    created_at = timezone.now()
    for w in new:
        w.created_at = created_at
        w.created_by = actor.user
    # Already whitelisted: the partial unique index skips it.
    Whitelist.objects.bulk_create(new, ignore_conflicts=True)
    fresh = list(
        Whitelist.objects.filter(
            account=account, block__in=[w.block for w in new], created_at=created_at
        ).values_list("block_id", "address")
    )
    write_history(
        [block_id for block_id, _ in fresh],
        History.Action.WHITELISTED,
        account=account,
        actor=actor,
        detail=note or "Verified valid: not blocked for this account.",
        at=created_at,
    )
    fresh_addresses = {a for _, a in fresh}
    for w in new:
        if w.address in fresh_addresses:
            result.done.append(w.address)
        else:
            result.refused.append(
                {
                    "address": w.address,
                    "code": "already_whitelisted",
                    "message": f"{w.address} is already whitelisted.",
                }
            )
    return result


@transaction.atomic
def unwhitelist_addresses(
    account: Account, addresses: Iterable[str], *, actor: Actor, note: str = ""
) -> BatchResult:
    result = BatchResult()
    wanted = normalise_many(addresses, result)
    qs = Whitelist.objects.active().filter(account=account, address__in=wanted)
    found = set(qs.values_list("address", flat=True))
    end_whitelists(qs, account=account, actor=actor, detail=note or "Whitelist removed.")
    result.done = [a for a in wanted if a in found]
    result.not_found = [a for a in wanted if a not in found]
    return result


@transaction.atomic
def release_blocks(
    blocks: QuerySet[Block], *, actor: Actor, account: Account | None = None, note: str = ""
) -> int:
    """Release any blocks by staff decision (the admin's 'remove'/'expire' actions)."""
    removed = release(
        blocks,
        Block.Release.REMOVED,
        History.Action.REMOVED,
        account=account,
        actor=actor,
        detail=note or "Removed by staff.",
    )
    return len(removed)


def set_expiry(
    blocks: QuerySet[Block], expires_at: datetime | None, *, actor: Actor, note: str = ""
) -> int:
    """Move the expiry of unreleased blocks (staff 'extend' and 'expire now')."""
    label = expires_at.isoformat() if expires_at else "permanent"
    changed = change_in_force(
        blocks,
        {"expires_at": expires_at},
        History.Action.EDITED,
        account=None,
        actor=actor,
        detail=note or f"expiry → {label}",
    )
    return len(changed)


def extend_blocks(blocks: QuerySet[Block], days: int, *, actor: Actor, note: str = "") -> int:
    """Push the expiry of unreleased, expiring blocks `days` days later (staff 'extend')."""
    changed = change_in_force(
        blocks.filter(expires_at__isnull=False),
        {"expires_at": F("expires_at") + timedelta(days=days)},
        History.Action.EDITED,
        account=None,
        actor=actor,
        detail=note or f"extended {days} days",
    )
    return len(changed)
