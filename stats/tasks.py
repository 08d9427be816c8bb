from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .promotion import choose_for_all_accounts
from .rollups import prune_minute_rows


@shared_task
def prune_minute_rollups() -> int:
    """Drop minute rollups past their retention; safe to re-run."""
    return prune_minute_rows(timezone.now())


@shared_task
def choose_tracked_domains() -> int:
    """Give each account's busiest domains their own rollup rows from the next hour on;
    safe to re-run (idempotent, one account at a time under its tracking lock)."""
    return choose_for_all_accounts()
