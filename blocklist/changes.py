"""Every write to blocks and whitelists, set-based, with its history rows.

The account actions, the ingest consumer and the jobs all change blocks through these,
so each change writes its history in the same transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from delivery.models import Message
from sesconsole.lib.sql import insert_new_rows
from sesconsole.models import Account

from .models import INVALID_BLOCK_DAYS, AddressList, Block, History, VisibleBlock, Whitelist


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user, an API key, or the system."""

    user: object | None = None
    label: str = "system"

    @classmethod
    def from_request(cls, request) -> Actor:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return cls()
        if getattr(user, "pk", None) is None:  # an API key's principal
            return cls(None, str(user)[:100])
        return cls(user, user.get_username()[:100])


SYSTEM = Actor()


_BLOCK_COLUMNS = [
    "kind",
    "address",
    "account",
    "reason",
    "note",
    "response_text",
    "bounce_evidence",
    "event",
    "created_by",
    "blocked_at",
    "expires_at",
    "release_reason",
    "stopped_count",
]


def insert_blocks(
    blocks: list[Block], *, account: Account | None, actor: Actor, detail: str, chunk: int = 1000
) -> list[tuple[int, str]]:
    """INSERT … ON CONFLICT DO NOTHING, with an 'added' history row for each new block.

    Returns (id, address) of the blocks really inserted: an address that already has an
    active block of that kind (per account where per-account) is skipped, by the
    database's partial unique indexes, even under concurrent writers.
    """
    inserted = [
        (pk, address)
        for pk, address in insert_new_rows(
            blocks, _BLOCK_COLUMNS, conflict_fields=None, returning="address", chunk=chunk
        )
    ]
    # Each 'added' row carries the time its block took effect (a bounce's own time, for
    # blocks the ingest consumer makes), not the time the batch was stored.
    blocked_at = {b.address: b.blocked_at for b in blocks}  # one kind and account a call
    _bulk_history(
        [(pk, blocked_at[address]) for pk, address in inserted],
        History.Action.ADDED,
        account=account,
        actor=actor,
        detail=detail,
    )
    return inserted


def insert_invalid_blocks(account: Account, invalid: dict, *, actor: Actor, detail: str) -> int:
    """Global invalid-address blocks triggered by `account`, one per address of `invalid`
    (address → its bounced DeliveryEvent), keeping the reply and its evidence; the 180 days
    run from the bounce. An address already blocked keeps its first block. Also ends
    `account`'s own whitelists of them: its sending has just shown they are bad."""
    if not invalid:
        return 0
    release_due_for(Block.Kind.INVALID, list(invalid), None)
    inserted = insert_blocks(
        [
            Block(
                kind=Block.Kind.INVALID,
                address=address,
                account=account,
                reason=Block.Reason.INVALID_ADDRESS,
                response_text=event.response_text,
                bounce_evidence=event.bounce_evidence,
                event=event,
                blocked_at=event.timestamp,
                expires_at=event.timestamp + timedelta(days=INVALID_BLOCK_DAYS),
            )
            for address, event in invalid.items()
        ],
        account=account,
        actor=actor,
        detail=detail,
    )
    show_new_invalid_blocks(account, inserted, {a: e.timestamp for a, e in invalid.items()})
    end_whitelists(
        Whitelist.objects.active().filter(account=account, address__in=list(invalid)),
        account=account,
        actor=actor,
        detail="Your sending bounced again: the whitelist ended.",
    )
    return len(inserted)


def show_new_invalid_blocks(
    account: Account, inserted: list[tuple[int, str]], blocked_at: dict[str, datetime]
) -> None:
    """Show new invalid-address blocks, (id, address), to the account whose sending
    triggered them and to every account that has mailed their addresses."""
    blocks = [(pk, address, blocked_at[address]) for pk, address in inserted]
    triggers = [VisibleBlock(account=account, block_id=pk, blocked_at=at) for pk, _, at in blocks]
    VisibleBlock.objects.bulk_create(
        triggers + _mailer_rows(blocks), ignore_conflicts=True, batch_size=2000
    )


def show_to_mailers(blocks: list[tuple[int, str, datetime]]) -> int:
    """Show invalid-address blocks, (id, address, blocked_at), to every account that has
    mailed their addresses. Returns the rows written, those already there included."""
    rows = _mailer_rows(blocks)
    VisibleBlock.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    return len(rows)


def _mailer_rows(blocks: list[tuple[int, str, datetime]]) -> list[VisibleBlock]:
    """A row for each account with mail to each block's address (one index range each)."""
    if not blocks:
        return []
    by_address = {address: (pk, at) for pk, address, at in blocks}
    mailed = (
        Message.objects.filter(recipient__in=list(by_address))
        .values_list("account_id", "recipient")
        .distinct()
    )
    return [
        VisibleBlock(
            account_id=account_id,
            block_id=by_address[address][0],
            blocked_at=by_address[address][1],
        )
        for account_id, address in mailed
    ]


def show_blocks_mailed(account: Account, addresses: Iterable[str]) -> None:
    """Show `account` the active invalid-address blocks of addresses its mail has just
    gone to (or been stopped for): from now on it has mailed them. One query when none is
    blocked, the common case."""
    addresses = list(addresses)
    if not addresses:
        return
    found = list(
        Block.objects.filter(
            kind=Block.Kind.INVALID, released_at=None, address__any=AddressList(addresses)
        ).values_list("pk", "blocked_at")
    )
    if found:
        VisibleBlock.objects.bulk_create(
            [VisibleBlock(account=account, block_id=pk, blocked_at=at) for pk, at in found],
            ignore_conflicts=True,
        )


def write_history(
    block_ids: Iterable[int],
    action: str,
    *,
    account: Account | None,
    actor: Actor,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    at = at or timezone.now()
    _bulk_history(
        [(pk, at) for pk in block_ids], action, account=account, actor=actor, detail=detail
    )


def _bulk_history(
    rows: list[tuple[int, datetime]],
    action: str,
    *,
    account: Account | None,
    actor: Actor,
    detail: str,
) -> None:
    """One history row per (block id, time), in one INSERT per 2,000 rows."""
    History.objects.bulk_create(
        [
            History(
                block_id=pk,
                action=action,
                at=at,
                account=account,
                actor=actor.user,
                actor_label=actor.label,
                detail=detail[:500],
            )
            for pk, at in rows
        ],
        batch_size=2000,
    )


def release(
    blocks: QuerySet[Block],
    release_reason: str,
    action: str,
    *,
    account: Account | None,
    actor: Actor,
    detail: str = "",
    now: datetime | None = None,
) -> list[int]:
    """Release the unreleased blocks of `blocks` (locked first), with history. Returns ids."""
    now = now or timezone.now()
    return change_in_force(
        blocks,
        {"released_at": now, "release_reason": release_reason},
        action,
        account=account,
        actor=actor,
        detail=detail,
        now=now,
        # Whitelists of a block that is gone have nothing left to override.
        ends_whitelists=release_reason
        in (Block.Release.REMOVED, Block.Release.DELETED, Block.Release.RELEASED),
    )


@transaction.atomic
def change_in_force(
    blocks: QuerySet[Block],
    updates: dict,
    action: str,
    *,
    account: Account | None,
    actor: Actor,
    detail: str = "",
    now: datetime | None = None,
    ends_whitelists: bool = False,
) -> list[int]:
    """Apply `updates` (as to QuerySet.update) to the blocks of `blocks` in force, locked
    first in id order, and write each one's history row. Returns their ids, in order.

    On PostgreSQL it is one statement: a staff release of 558,828 blocks takes 27 s so,
    where reading the ids, updating by them and building the history rows in Python took
    50 s (bench/admin_release.py). Elsewhere (the SQLite demo) the ORM does it in steps.
    """
    now = now or timezone.now()
    # Only the blocks are locked: a selection joined to accounts (an admin search by
    # account name) must not hold those rows for the length of a large release.
    in_force = (
        blocks.filter(released_at=None)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk")
    )
    change = _change_in_force_pg if connection.vendor == "postgresql" else _change_in_force_orm
    return change(
        in_force,
        updates,
        action,
        account=account,
        actor=actor,
        detail=detail,
        now=now,
        ends_whitelists=ends_whitelists,
    )


def _change_in_force_orm(
    in_force: QuerySet, updates: dict, action: str, *, account, actor, detail, now, ends_whitelists
) -> list[int]:
    ids = [pk for (pk,) in in_force]
    if ids:
        Block.objects.filter(pk__in=ids).update(**updates)
        if ends_whitelists:
            Whitelist.objects.active().filter(block_id__in=ids).update(removed_at=now)
        write_history(ids, action, account=account, actor=actor, detail=detail, at=now)
    return ids


def _change_in_force_pg(
    in_force: QuerySet, updates: dict, action: str, *, account, actor, detail, now, ends_whitelists
) -> list[int]:
    block = connection.ops.quote_name(Block._meta.db_table)
    whitelist = Whitelist._meta.db_table
    history = History._meta.db_table
    try:
        locked, locked_params = in_force.query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]: nothing to change
        return []
    # Django writes the SET clause, so expressions (F("expires_at") + …) compile as in update().
    query = UpdateQuery(Block)
    query.add_update_values(updates)
    update, update_params = query.get_compiler(connection=connection).as_sql()
    ended = (
        f"""ended AS (
            UPDATE {whitelist} w SET removed_at = %s
            FROM changed WHERE w.block_id = changed.id AND w.removed_at IS NULL
        ),"""
        if ends_whitelists
        else ""
    )
    sql = f"""
        WITH locked (id) AS ({locked}),
        changed AS ({update} FROM locked WHERE {block}.id = locked.id RETURNING {block}.id),
        {ended}
        noted AS (
            INSERT INTO {history} (block_id, action, at, account_id, actor_id, actor_label, detail)
            SELECT id, %s, %s, %s, %s, %s, %s FROM changed
        )
        SELECT id FROM changed ORDER BY id
    """
    params = [
        *locked_params,
        *update_params,
        *([now] if ends_whitelists else []),
        action,
        now,
        account.pk if account else None,
        getattr(actor.user, "pk", None),
        actor.label,
        detail[:500],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def release_due_for(kind: str, addresses: list[str], account: Account | None) -> None:
    """Release blocks of these addresses whose time is up, so a new block can take their place."""
    qs = Block.objects.due().filter(kind=kind, address__in=addresses)
    if account is not None:
        qs = qs.filter(account=account)
    # Nearly always none is due: a probe (half the cost) spares each ingest batch the
    # locking statement.
    if not qs.exists():
        return
    if kind == Block.Kind.INVALID:
        release(qs, Block.Release.RELEASED, History.Action.RELEASED, account=None, actor=SYSTEM)
    else:
        release(qs, Block.Release.EXPIRED, History.Action.EXPIRED, account=None, actor=SYSTEM)


def end_whitelists(
    whitelists: QuerySet[Whitelist], *, account: Account, actor: Actor, detail: str
) -> int:
    now = timezone.now()
    rows = list(whitelists.filter(removed_at=None).values_list("pk", "block_id"))
    if not rows:
        return 0
    Whitelist.objects.filter(pk__in=[pk for pk, _ in rows]).update(removed_at=now)
    write_history(
        [block_id for _, block_id in rows],
        History.Action.UNWHITELISTED,
        account=account,
        actor=actor,
        detail=detail,
        at=now,
    )
    return len(rows)
