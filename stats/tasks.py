from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .rollups import prune_minute_rows


@shared_task
def prune_minute_rollups() -> int:
    """Drop minute rollups past their retention; safe to re-run."""
    return prune_minute_rows(timezone.now())
