"""Recompute rollups from the stored events: `rebuild_stats --since 2026-11-01 --until 2026-12-01`."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from delivery.partitions import retention_cutoff
from sesconsole.models import Account
from stats.rollups import align_range, rebuild


def _instant(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not an ISO-8601 date or time: {value!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


class Command(BaseCommand):
    help = "Rebuild the statistics rollups for a time range (UTC unless an offset is given)."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, type=_instant, help="e.g. 2026-11-01")
        parser.add_argument("--until", required=True, type=_instant, help="exclusive")
        parser.add_argument("--account", help="only this account (its name)")

    def handle(self, *args, since: datetime, until: datetime, account: str | None, **options):
        if until <= since:
            raise CommandError("--until must be after --since.")
        target = None
        if account:
            target = Account.objects.filter(name=account).first()
            if target is None:
                raise CommandError(f"No account named {account!r}.")
        cutoff = retention_cutoff(timezone.now())
        if cutoff is not None and since < cutoff:
            raise CommandError(
                f"Events before {cutoff:%Y-%m-%d %H:%M} UTC have expired (EVENT_RETENTION_DAYS):"
                " rebuilding from them would erase the counts kept in the rollups."
            )
        start, end = align_range(since, until)
        rows = rebuild(since, until, target)
        self.stdout.write(
            f"Rebuilt {rows} minute row(s) from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC."
        )
