"""What newly stored events do to blocks (called by the ingest pipeline)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from delivery.models import BounceClass, DeliveryEvent, EventType
from sesconsole.models import Account

from .changes import SYSTEM, end_whitelists, insert_blocks, release_due_for
from .jobs import auto_block_full_inboxes
from .models import INVALID_BLOCK_DAYS, Block, Whitelist


def apply_events(account: Account, events: Sequence[DeliveryEvent]) -> None:
    """Blocks from newly stored events (called once per event, inside the ingest transaction).

    - bounced/invalid_address → a global invalid-address block triggered by `account`,
      keeping the bounce reply. If the address is already blocked, the first block stands
      (its trigger, reply and 180-day clock are kept). The bounce also ends `account`'s
      own whitelist of that address: its sending has just shown the address is bad.
    - complained / unsubscribed → a reject block for `account`; the first one stands.
    - bounced/mailbox_full → a custom block, only if `account` turned auto-block on
      (the same function the auto-block job runs as a catch-up).
    """
    invalid: dict[str, DeliveryEvent] = {}
    rejects: dict[str, DeliveryEvent] = {}
    full: list[int] = []
    for event in sorted(events, key=lambda e: e.timestamp):
        recipient = event.message.recipient
        if not recipient:
            continue
        if event.type == EventType.BOUNCED:
            if event.bounce_class == BounceClass.INVALID_ADDRESS:
                invalid.setdefault(recipient, event)
            elif event.bounce_class == BounceClass.MAILBOX_FULL:
                full.append(event.pk)
        elif event.type in (EventType.COMPLAINED, EventType.UNSUBSCRIBED):
            rejects.setdefault(recipient, event)

    if invalid:
        release_due_for(Block.Kind.INVALID, list(invalid), None)
        insert_blocks(
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
            actor=SYSTEM,
            detail="Bounced: invalid address.",
        )
        end_whitelists(
            Whitelist.objects.active().filter(account=account, address__in=list(invalid)),
            account=account,
            actor=SYSTEM,
            detail="Your sending bounced again: the whitelist ended.",
        )
    if rejects:
        release_due_for(Block.Kind.REJECT, list(rejects), account)
        insert_blocks(
            [
                Block(
                    kind=Block.Kind.REJECT,
                    address=address,
                    account=account,
                    reason=(
                        Block.Reason.COMPLAINED
                        if event.type == EventType.COMPLAINED
                        else Block.Reason.UNSUBSCRIBED
                    ),
                    event=event,
                    blocked_at=event.timestamp,
                )
                for address, event in rejects.items()
            ],
            account=account,
            actor=SYSTEM,
            detail="From the recipient's event.",
        )
    if full:
        auto_block_full_inboxes(account=account, event_ids=full)
