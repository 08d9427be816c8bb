"""Expiry dates: a block with expiry date D blocks through D (UTC), lifting at D+1 00:00."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sesconsole.lib.timezones import local_midnight

from .models import Block


def expiry_from_date(expires_on: date | None) -> datetime | None:
    """A block with expiry date D blocks through D (UTC) and lifts at the start of D+1."""
    if expires_on is None:
        return None
    return local_midnight(expires_on + timedelta(days=1), UTC)


def last_day(expires_at: datetime | None) -> date | None:
    """The expiry date of a block lifting at `expires_at` (the inverse of expiry_from_date)."""
    if expires_at is None:
        return None
    return (expires_at - timedelta(days=1)).astimezone(UTC).date()


def expiry_date_of(block: Block) -> date | None:
    """The last day a block with an expiry date applies."""
    return last_day(block.expires_at)
