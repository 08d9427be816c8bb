"""Notification jobs, on their own `notifications` queue (see CELERY_TASK_ROUTES)."""

from __future__ import annotations

from celery import shared_task

from . import outbox


@shared_task(ignore_result=True, soft_time_limit=outbox.LEASE_SECONDS - 10)
def deliver_notifications(endpoint_id: int) -> int:
    return outbox.deliver_due(endpoint_id)


@shared_task(ignore_result=True)
def dispatch_notifications() -> int:
    """Wake endpoints with due notifications, disable dead ones, prune the log."""
    woken = outbox.dispatch_due()
    outbox.prune()
    return woken
