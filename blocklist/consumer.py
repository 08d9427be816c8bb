"""What newly stored events do to blocks (called by the ingest pipeline)."""

from __future__ import annotations

from collections.abc import Sequence

from delivery.models import BounceClass, DeliveryEvent, EventType
from sesconsole.models import Account

from . import surges
from .changes import (
    SYSTEM,
    insert_blocks,
    insert_invalid_blocks,
    release_due_for,
    show_blocks_mailed,
)
from .jobs import auto_block_full_inboxes
from .models import Block


def apply_events(account: Account, events: Sequence[DeliveryEvent]) -> None:
    """Blocks from newly stored events (called once per event, inside the ingest transaction).

    - bounced/invalid_address → a global invalid-address block triggered by `account`,
      keeping the bounce reply. If the address is already blocked, the first block stands
      (its trigger, reply and 180-day clock are kept). The bounce also ends `account`'s
      own whitelist of that address: its sending has just shown the address is bad.
      Not while a surge of such verdicts at the recipient's domain is held (blocklist.surges).
    - complained / unsubscribed → a reject block for `account`; the first one stands.
    - bounced/mailbox_full → a custom block, only if `account` turned auto-block on
      (the same function the auto-block job runs as a catch-up).
    - any event → `account` may see the invalid-address blocks of the addresses its mail
      went to (blocklist.models.VisibleBlock).
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
        held = surges.held_domains(invalid)
        insert_invalid_blocks(
            account,
            {a: e for a, e in invalid.items() if surges.domain_of(e) not in held},
            actor=SYSTEM,
            detail="Bounced: invalid address.",
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
    show_blocks_mailed(account, {e.message.recipient for e in events if e.message.recipient})
