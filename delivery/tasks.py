"""Delivery jobs: thin wrappers around delivery.sending."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from . import idempotency, partitions, sending

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_recipient(recipient_pk: int) -> None:
    """One delivery attempt; a deferred recipient is tried again after its backoff."""
    delay = sending.deliver(recipient_pk)
    if delay is not None:
        deliver_recipient.apply_async((recipient_pk,), countdown=delay)


@shared_task
def resume_stalled_deliveries() -> int:
    """Re-enqueue recipients whose delivery task was lost (e.g. a broker restart)."""
    ids = sending.resume_stalled()
    for pk in ids:
        deliver_recipient.delay(pk)
    return len(ids)


@shared_task
def prune_idempotency_keys() -> int:
    """Forget Idempotency-Keys older than 24 hours."""
    return idempotency.prune()


def enqueue_delivery(recipient_pk: int) -> bool:
    """Publish a recipient's first attempt; False when the broker cannot be reached.

    The recipient is already stored as queued, so nothing is lost: the resume job
    (`resume_stalled_deliveries`) queues it once the broker is back. Publishing never
    retries here, so a client is answered at once and never tempted to send twice.
    """
    try:
        deliver_recipient.apply_async((recipient_pk,), retry=False)
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        log.warning(
            "broker unreachable, recipient %s waits for the resume job: %s", recipient_pk, exc
        )
        return False
    return True


@shared_task
def fold_events() -> int:
    """Fold queued events into messages and rollups until the queue is empty (deferred mode)."""
    from .fold import fold_all

    return fold_all()


def start_folding() -> None:
    """Ask a worker to fold what this request queued; the beat job catches up if the broker
    cannot be reached."""
    try:
        fold_events.apply_async(retry=False)
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        log.warning("broker unreachable, events wait for the next fold run: %s", exc)


@shared_task
def maintain_event_partitions() -> dict:
    """Create the event partitions ahead and drop expired ones; safe to re-run."""
    done = partitions.maintain(timezone.now())
    return {"created": done.created, "dropped": done.dropped, "deleted_rows": done.deleted_rows}
