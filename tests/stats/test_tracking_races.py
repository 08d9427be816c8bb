"""The promotion job racing counting batches: live rollups still equal a rebuild."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from delivery.ingest import ingest_events
from stats.models import COUNTERS, Rollup, TrackedDomain
from stats.promotion import choose_tracked_domains
from stats.rollups import rebuild
from tests.concurrency import run_together
from tests.events import make_event
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _snapshot(account) -> dict:
    keys = ("size", "bucket", "sender_domain", "recipient_domain")
    rows = (
        Rollup.objects.filter(account=account)
        .values(*keys)
        .annotate(**{c: Sum(c) for c in COUNTERS})
    )
    return {tuple(r.pop(k) for k in keys): r for r in rows if any(r[c] for c in COUNTERS)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_promotions_racing_batches_keep_live_counts_equal_to_a_rebuild(settings):
    account = AccountFactory(name="acme")
    now = timezone.now()
    rnd = random.Random(8)

    def iso(minutes: int) -> str:
        return (now + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def batch(n: int) -> list[dict]:
        events = []
        for i in range(25):
            mid = f"b{n}-{i}"
            # Around the next whole hour (the switch), some hours after it.
            at = rnd.randrange(-90, 180)
            rcpt = f"r{min(int(rnd.expovariate(0.5)), 6)}.test"
            events += [
                make_event("request", mid, timestamp=iso(at), to=f"u@{rcpt}"),
                make_event("delivered", mid, timestamp=iso(at + 1)),
                make_event("opened", mid, timestamp=iso(at + rnd.randrange(2, 90))),
            ]
        rnd.shuffle(events)
        return events

    ingest_events(account, batch(0))

    def counting():
        for n in range(1, 9):
            ingest_events(account, batch(n))

    def choosing():
        for limit in (2, 1, 3, 0, 2):
            settings.STATS_TRACKED_RECIPIENT_DOMAINS = limit
            choose_tracked_domains(account)

    run_together(counting, choosing)
    assert TrackedDomain.objects.filter(side="recipient", until__isnull=True).count() == 2
    live = _snapshot(account)
    assert any(key[3].startswith("r") for key in live)
    rebuild(now - timedelta(days=1), now + timedelta(days=1), account)
    assert _snapshot(account) == live
