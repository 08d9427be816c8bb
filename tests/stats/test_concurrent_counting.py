"""Rollups count once when concurrent batches race, and agree with a rebuild."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest
from django.core.management import call_command
from django.db import connection

from delivery.ingest import ingest_events
from stats.services import series
from tests.concurrency import run_together
from tests.events import make_event
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 11, 28)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_racing_batches_count_once_and_match_a_rebuild():
    account = AccountFactory(name="acme")
    requests = [make_event("request", f"m{i}") for i in range(150)]
    opens = [make_event("opened", f"m{i}", timestamp="2026-11-28T11:00:00Z") for i in range(150)]
    # Proxy prefetches of every third message, earlier than the reader's open.
    machine = [
        make_event("opened", f"m{i}", timestamp="2026-11-28T10:30:00Z", machine=True)
        for i in range(0, 150, 3)
    ]
    # Two workers: the same request batch twice, the opens in two overlapping halves.
    batches = [requests + opens[:100] + machine[25:], requests + opens[50:] + machine[:40]]
    # A deadlock would raise here.
    run_together(*(partial(ingest_events, account, batch) for batch in batches))

    totals = series(account, DAY, DAY, "day")["totals"]
    assert (totals["requests"], totals["opened"], totals["opened_unique"]) == (150, 200, 150)
    assert (totals["opened_human"], totals["opened_human_unique"]) == (150, 150)
    call_command("rebuild_stats", "--since", "2026-11-28", "--until", "2026-11-29")
    assert series(account, DAY, DAY, "day")["totals"] == totals
