"""Blocklist work for the worker: the periodic jobs (thin wrappers around one service function
each) and the staff mail about a surge of invalid-address verdicts."""

from __future__ import annotations

from celery import shared_task

from . import jobs, surges


@shared_task
def release_invalid_blocks() -> int:
    return jobs.release_invalid_blocks()


@shared_task
def lift_expired_custom_blocks() -> int:
    return jobs.lift_expired_custom_blocks()


@shared_task
def auto_block_full_inboxes() -> int:
    return jobs.auto_block_full_inboxes()


@shared_task
def show_recent_blocks() -> int:
    return jobs.show_recent_blocks()


@shared_task
def tell_staff_of_surge(surge_id: int) -> int:
    return surges.tell_staff(surge_id)
