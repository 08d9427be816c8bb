"""Jobs: release, lift, auto-block. Set-based, idempotent, safe to run twice at once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, QuerySet
from django.utils import timezone

from delivery.models import BounceClass, DeliveryEvent, EventType
from sesconsole.models import Account

from .changes import SYSTEM, release, show_to_mailers, write_history
from .models import INVALID_BLOCK_DAYS, AutoBlockSetting, Block, History, Whitelist

log = logging.getLogger(__name__)


def release_invalid_blocks(now: datetime | None = None, chunk: int = 500_000) -> int:
    """Release invalid-address blocks 180 days old. Returns how many were released."""
    n = _release_due_all(
        Block.Kind.INVALID, Block.Release.RELEASED, History.Action.RELEASED, now, chunk
    )
    log.info("released %d invalid-address block(s) after %d days", n, INVALID_BLOCK_DAYS)
    return n


def lift_expired_custom_blocks(now: datetime | None = None, chunk: int = 500_000) -> int:
    """Mark custom blocks past their expiry as expired. Returns how many were lifted."""
    n = _release_due_all(
        Block.Kind.CUSTOM, Block.Release.EXPIRED, History.Action.EXPIRED, now, chunk
    )
    log.info("lifted %d expired custom block(s)", n)
    return n


def _release_due_all(kind: str, release_reason: str, action: str, now, chunk: int) -> int:
    """Release due blocks of one kind in chunks; each chunk is one transaction.

    On PostgreSQL each chunk is one statement: pick due rows, release those still
    unreleased (the UPDATE is guarded by the old state, so a second worker running at the
    same time waits on the first one's rows, then finds them released and skips them), end
    their whitelists, and write their history from the UPDATE's RETURNING — exactly one
    history row per released block. Elsewhere the same steps run through the ORM.
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                n = _release_chunk_pg(kind, release_reason, action, now, chunk)
            else:
                qs = Block.objects.due(now).filter(kind=kind)
                ids = list(qs.order_by("pk").values_list("pk", flat=True)[:chunk])
                n = len(
                    release(
                        Block.objects.filter(pk__in=ids),
                        release_reason,
                        action,
                        account=None,
                        actor=SYSTEM,
                        now=now,
                    )
                )
        total += n
        # Stop on an empty chunk, not a short one: a worker running at the same time may
        # have taken part of this chunk while due blocks remain.
        if n == 0:
            return total


def _release_chunk_pg(kind: str, release_reason: str, action: str, now, chunk: int) -> int:
    block = Block._meta.db_table
    history = History._meta.db_table
    whitelist = Whitelist._meta.db_table
    sql = f"""
        WITH released AS (
            -- ARRAY(…) keeps the chunk an index lookup; a join invites a scan of every block.
            UPDATE {block} SET released_at = %(now)s, release_reason = %(reason)s
            WHERE id = ANY(ARRAY(
                SELECT id FROM {block}
                WHERE kind = %(kind)s AND released_at IS NULL AND expires_at <= %(now)s
                LIMIT %(chunk)s
            )) AND released_at IS NULL
            RETURNING id
        ), ended AS (
            UPDATE {whitelist} w SET removed_at = %(now)s
            FROM released WHERE w.block_id = released.id AND w.removed_at IS NULL
        )
        INSERT INTO {history} (block_id, action, at, account_id, actor_id, actor_label, detail)
        SELECT id, %(action)s, %(now)s, NULL, NULL, 'system', '' FROM released
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {"kind": kind, "now": now, "chunk": chunk, "reason": release_reason, "action": action},
        )
        return cursor.rowcount


RECENT_BLOCK_DAYS = 3


def show_recent_blocks(now: datetime | None = None, chunk: int = 5_000) -> int:
    """Show the invalid-address blocks of recent bounces (RECENT_BLOCK_DAYS) to every
    account that has mailed their addresses. Ingestion does this as it goes; this catches
    what two transactions committing at once hid from each other (one account's mail to
    an address, another's block of it), and mail whose recipient a deferred fold filled in
    after its events came. Both happen as bounces come in: days, not months, after their
    time. Returns the rows it wrote, those already there included."""
    since = (now or timezone.now()) - timedelta(days=RECENT_BLOCK_DAYS)
    recent = (
        Block.objects.invalid()
        .filter(released_at=None, blocked_at__gte=since)
        .order_by("-blocked_at", "-pk")
        .values_list("pk", "address", "blocked_at")
    )
    blocks = list(recent)
    total = 0
    for start in range(0, len(blocks), chunk):
        total += show_to_mailers(blocks[start : start + chunk])
    log.info("showed %d recent invalid-address block(s) to the accounts that mailed them", total)
    return total


def auto_block_full_inboxes(
    now: datetime | None = None,
    *,
    account: Account | None = None,
    event_ids: Sequence[int] | None = None,
) -> int:
    """Custom-block recipients whose mailbox was full, for accounts with auto-block on.

    One INSERT … SELECT per opted-in account: the mailbox_full bounces of the last `days`
    days (or just `event_ids`), newer than any custom block of that address, received
    after auto-block was turned on. The partial unique index makes concurrent runs
    harmless. Returns how many blocks were made.
    """
    now = now or timezone.now()
    settings_qs = AutoBlockSetting.objects.filter(enabled=True).select_related("account")
    if account is not None:
        settings_qs = settings_qs.filter(account=account)
    total = 0
    for setting in settings_qs:
        events = DeliveryEvent.objects.filter(
            account=setting.account,
            type=EventType.BOUNCED,
            bounce_class=BounceClass.MAILBOX_FULL,
            timestamp__gt=now - timedelta(days=setting.days),
            received_at__gte=setting.enabled_at,
        ).exclude(message__recipient="")
        if event_ids is not None:
            events = events.filter(pk__in=list(event_ids))
        newer_block = Block.objects.filter(
            account=setting.account,
            kind=Block.Kind.CUSTOM,
            address=OuterRef("message__recipient"),
            blocked_at__gte=OuterRef("timestamp"),
        )
        events = events.filter(~Exists(newer_block))
        total += _insert_auto_blocks(setting, events, now)
    log.info("auto-blocked %d full inbox(es)", total)
    return total


def _insert_auto_blocks(setting: AutoBlockSetting, events: QuerySet, now: datetime) -> int:
    # The latest full-inbox bounce per address, as rows for INSERT … SELECT.
    latest = (
        events.values("message__recipient").order_by().annotate(last_id=Max("pk")).values("last_id")
    )
    source = (
        DeliveryEvent.objects.filter(pk__in=latest)
        .annotate(
            b_address=F("message__recipient"),
            b_at=F("timestamp"),
            b_response=F("response_text"),
            b_event=F("pk"),
        )
        .values_list("b_address", "b_at", "b_response", "b_event")
    )
    select_sql, params = source.query.sql_with_params()
    expires_at = now + timedelta(days=setting.days)
    table = Block._meta.db_table
    sql = (
        f"INSERT INTO {table} (kind, address, account_id, reason, note, response_text, event_id, "
        f"blocked_at, expires_at, release_reason, stopped_count) "
        f"SELECT %s, s.b_address, %s, %s, %s, s.b_response, s.b_event, s.b_at, %s, '', 0 "
        f"FROM ({select_sql}) s WHERE true "
        f"ON CONFLICT DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                Block.Kind.CUSTOM,
                setting.account_id,
                Block.Reason.MAILBOX_FULL,
                f"Mailbox full: blocked for {setting.days} days.",
                expires_at,
                *params,
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    write_history(
        ids,
        History.Action.ADDED,
        account=setting.account,
        actor=SYSTEM,
        detail=f"Auto-block: mailbox full, for {setting.days} days.",
        at=now,
    )
    return len(ids)
