"""Expiry dates, in the account's time zone.

A block given expiry date D blocks through the whole of D in the account's zone and lifts at
the start of D+1 there (`expiry_from_date`). The date a block lists as expiring on is the last
local day on which it applies (`last_day`): for a block made from a date that is D again, and a
block that lifts at another moment (auto-block of full inboxes, a block stored before this
rule) lists the day of its last instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from sesconsole.lib.timezones import MAX_DAY, local_midnight

from .errors import BlocklistError
from .models import Block


def expiry_from_date(expires_on: date | None, zone: tzinfo = UTC) -> datetime | None:
    """The instant a block with expiry date `expires_on` lifts: local midnight after it.
    A date past MAX_DAY (9999-12-30, the last whose next midnight exists in every zone) is
    refused with `invalid_date`, as the Tencent endpoint refuses it."""
    if expires_on is None:
        return None
    if expires_on > MAX_DAY:
        raise BlocklistError(
            "invalid_date",
            f"The expiry date must be on or before {MAX_DAY.isoformat()}; for a block that "
            "never expires, give no date.",
        )
    return local_midnight(expires_on + timedelta(days=1), zone)


def last_day(expires_at: datetime | None, zone: tzinfo = UTC) -> date | None:
    """The expiry date of a block lifting at `expires_at` (the inverse of expiry_from_date)."""
    if expires_at is None:
        return None
    return (expires_at - timedelta(microseconds=1)).astimezone(zone).date()


def expiry_date_of(block: Block, zone: tzinfo = UTC) -> date | None:
    """The last day, in `zone`, on which a block with an expiry date applies."""
    return last_day(block.expires_at, zone)
