"""Custom blocks: add (one by one or from a file), edit, delete, and the auto-block setting."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, tzinfo
from typing import IO

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from delivery.addresses import MAX_ADDRESS_LENGTH, InvalidAddress, normalize_address
from sesconsole.lib.timezones import local_today, zone_of
from sesconsole.models import Account

from .actions import BatchResult, normalise_many
from .changes import Actor, insert_blocks, release, release_due_for, write_history
from .errors import BlocklistError
from .expiry import expiry_from_date, last_day
from .models import AutoBlockSetting, Block, History
from .upload import MAX_UPLOAD_LINES, read_upload

log = logging.getLogger(__name__)


@dataclass
class AddReport:
    """Tencent's CreateCustomBlacklist counts: Total = Valid + Repeat + Invalid + TooLong."""

    total: int = 0
    valid: int = 0
    repeat: int = 0
    invalid: int = 0
    too_long: int = 0
    problems: list[dict] = field(default_factory=list)  # first few bad lines, for people

    MAX_PROBLEMS = 50

    def problem(self, line: int, value: str, kind: str, message: str) -> None:
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append(
                {"line": line, "value": value[:120], "kind": kind, "message": message}
            )

    def as_json(self) -> dict:
        return asdict(self)


def add_custom_blocks(
    account: Account,
    addresses: Sequence[str],
    *,
    line_numbers: Sequence[int] | None = None,
    actor: Actor,
    expires_on: date | None = None,
    reason: str = Block.Reason.MANUAL,
    note: str = "",
) -> AddReport:
    """Add custom blocks, one per line of `addresses`, and report every line's fate.

    Repeat counts both repeats within the request and addresses already blocked. Problems
    name the line of each address: `line_numbers` (a file's own lines) or its position.
    """
    if len(addresses) > MAX_UPLOAD_LINES:
        raise BlocklistError(
            "too_many_addresses", f"Add at most {MAX_UPLOAD_LINES:,} addresses at once."
        )
    zone = zone_of(account)
    if expires_on is not None and expires_on < local_today(zone):
        raise BlocklistError("expiry_in_past", "The expiry date is in the past.")
    report = AddReport(total=len(addresses))
    numbers = list(line_numbers) if line_numbers is not None else range(1, len(addresses) + 1)
    seen: set[str] = set()
    unique: list[str] = []
    line_of: dict[str, int] = {}
    for line, raw in zip(numbers, addresses, strict=True):
        value = (raw or "").strip()
        if len(value) > MAX_ADDRESS_LENGTH:
            report.too_long += 1
            report.problem(line, value, "too_long", f"Longer than {MAX_ADDRESS_LENGTH} characters.")
            continue
        try:
            address = normalize_address(value)
        except InvalidAddress as exc:
            report.invalid += 1
            report.problem(line, value, "invalid", str(exc))
            continue
        if address in seen:
            report.repeat += 1
            report.problem(line, value, "repeat", "Listed earlier in this request.")
            continue
        seen.add(address)
        unique.append(address)
        line_of[address] = line
    expires_at = expiry_from_date(expires_on, zone)
    now = timezone.now()
    with transaction.atomic():
        release_due_for(Block.Kind.CUSTOM, unique, account)
        inserted = insert_blocks(
            [
                Block(
                    kind=Block.Kind.CUSTOM,
                    address=address,
                    account=account,
                    reason=reason,
                    note=note[:500],
                    created_by=actor.user,
                    blocked_at=now,
                    expires_at=expires_at,
                )
                for address in unique
            ],
            account=account,
            actor=actor,
            detail=note or Block.Reason(reason).label,
        )
    report.valid = len(inserted)
    already = len(unique) - len(inserted)
    report.repeat += already
    if already:
        new = {a for _, a in inserted}
        for address in unique:
            if address not in new:
                report.problem(line_of[address], address, "repeat", "Already blocked.")
        report.problems.sort(key=lambda p: p["line"])
    return report


def upload_custom_blocks(
    account: Account,
    data: bytes | IO[bytes],
    *,
    actor: Actor,
    expires_on: date | None = None,
    note: str = "",
) -> AddReport:
    """Add the addresses of an uploaded file (streamed: see `upload.read_upload`)."""
    lines = read_upload(data)
    return add_custom_blocks(
        account,
        [line.value for line in lines],
        line_numbers=[line.number for line in lines],
        actor=actor,
        expires_on=expires_on,
        reason=Block.Reason.UPLOAD,
        note=note,
    )


@transaction.atomic
def update_custom_block(
    account: Account,
    block_id: int,
    *,
    actor: Actor,
    address: str | None = None,
    expires_on: date | str | None = "unchanged",
) -> Block:
    """Change a custom block's address and/or expiry date (None = permanent).

    An expired block given a new future date becomes active again.
    """
    block = (
        Block.objects.custom()
        .for_account(account)
        .listed()
        .select_for_update()
        .filter(pk=block_id)
        .first()
    )
    if block is None:
        raise BlocklistError("not_found", "No such custom block.", status=404)
    changes = []
    if address is not None:
        try:
            new_address = normalize_address(address)
        except InvalidAddress as exc:
            raise BlocklistError("invalid_address", str(exc)) from None
        if new_address != block.address:
            clash = (
                Block.objects.custom()
                .for_account(account)
                .filter(address=new_address, released_at=None)
                .exclude(pk=block.pk)
            )
            if clash.exists():
                raise BlocklistError(
                    "already_blocked", f"{new_address} already has a custom block."
                )
            changes.append(f"address {block.address} → {new_address}")
            block.address = new_address
    if expires_on != "unchanged":
        zone = zone_of(account)
        new_expiry = expiry_from_date(expires_on, zone)
        if new_expiry != block.expires_at:
            if expires_on is not None and expires_on < local_today(zone):
                raise BlocklistError("expiry_in_past", "The expiry date is in the past.")
            changes.append(
                f"expiry {_expiry_label(block.expires_at, zone)} → "
                f"{_expiry_label(new_expiry, zone)}"
            )
            block.expires_at = new_expiry
            if block.released_at is not None:
                # Given a future date, an expired block takes effect again.
                if (
                    Block.objects.custom()
                    .for_account(account)
                    .filter(address=block.address, released_at=None)
                    .exclude(pk=block.pk)
                    .exists()
                ):
                    raise BlocklistError(
                        "already_blocked", f"{block.address} already has an active custom block."
                    )
                block.released_at = None
                block.release_reason = ""
    if changes:
        block.save(update_fields=["address", "expires_at", "released_at", "release_reason"])
        write_history(
            [block.pk],
            History.Action.EDITED,
            account=account,
            actor=actor,
            detail="; ".join(changes),
        )
    return block


@transaction.atomic
def delete_custom_blocks(
    account: Account,
    addresses: Iterable[str] = (),
    *,
    actor: Actor,
    ids: Iterable[int] = (),
    note: str = "",
) -> BatchResult:
    """Delete an account's custom blocks, named by address and/or by id."""
    result = BatchResult()
    wanted = normalise_many(addresses, result)
    ids = list(ids)
    qs = Block.objects.custom().for_account(account).filter(Q(address__in=wanted) | Q(pk__in=ids))
    found = dict(qs.filter(released_at=None).values_list("pk", "address"))
    # Expired blocks (already released by the job) can be deleted from the list too.
    expired = dict(qs.filter(release_reason=Block.Release.EXPIRED).values_list("pk", "address"))
    release(
        Block.objects.filter(pk__in=list(found)),
        Block.Release.DELETED,
        History.Action.DELETED,
        account=account,
        actor=actor,
        detail=note or "Deleted.",
    )
    if expired:
        Block.objects.filter(pk__in=list(expired)).update(release_reason=Block.Release.DELETED)
        write_history(
            list(expired), History.Action.DELETED, account=account, actor=actor, detail=note
        )
    done = set(found.values()) | set(expired.values())
    result.done = sorted(done)
    result.not_found = [a for a in wanted if a not in done]
    return result


def set_auto_block(account: Account, *, enabled: bool, days: int, actor: Actor) -> AutoBlockSetting:
    if not 1 <= days <= 365:
        raise BlocklistError("invalid_days", "The duration must be 1 to 365 days.")
    setting, _ = AutoBlockSetting.objects.get_or_create(account=account)
    now = timezone.now()
    if enabled and not setting.enabled:
        setting.enabled_at = now
    setting.enabled = enabled
    setting.days = days
    setting.updated_at = now
    setting.save()
    log.info("auto-block for %s set to %s, %d days by %s", account, enabled, days, actor.label)
    return setting


def _expiry_label(expires_at: datetime | None, zone: tzinfo) -> str:
    day = last_day(expires_at, zone)
    return day.isoformat() if day else "permanent"
