"""Delivery jobs: thin wrappers around delivery.sending."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import partitions, sending


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
def maintain_event_partitions() -> dict:
    """Create the event partitions ahead and drop expired ones; safe to re-run."""
    done = partitions.maintain(timezone.now())
    return {"created": done.created, "dropped": done.dropped, "deleted_rows": done.deleted_rows}
