"""rebuild_stats: the same numbers as live counting, whatever order events arrived in."""

from __future__ import annotations

import random

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from delivery.ingest import ingest_events
from stats.models import COUNTERS, Rollup
from tests.stats.conftest import scenario_events

pytestmark = pytest.mark.django_db


def _snapshot() -> dict:
    rows = Rollup.objects.values(
        "account_id", "size", "bucket", "sender_domain", "recipient_domain"
    ).annotate(**{c: Sum(c) for c in COUNTERS})
    out = {}
    for row in rows:
        key = tuple(
            row.pop(k)
            for k in ("account_id", "size", "bucket", "sender_domain", "recipient_domain")
        )
        if any(row.values()):
            out[key] = row
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_shuffled_batches_count_like_a_rebuild(account, seed):
    events = scenario_events()
    random.Random(seed).shuffle(events)
    cut = sorted(random.Random(seed).sample(range(1, len(events)), 4))
    for start, stop in zip([0, *cut], [*cut, len(events)], strict=True):
        ingest_events(account, events[start:stop])
    live = _snapshot()
    assert live
    call_command("rebuild_stats", "--since", "2026-11-27", "--until", "2026-11-29")
    assert _snapshot() == live


def test_it_rebuilds_one_account_and_leaves_the_others(account, other_account):
    ingest_events(account, scenario_events())
    ingest_events(other_account, scenario_events())
    Rollup.objects.filter(account=other_account).update(requests=999)
    call_command(
        "rebuild_stats", "--since", "2026-11-27", "--until", "2026-11-29", "--account", "acme"
    )
    assert Rollup.objects.filter(account=other_account, requests=999).exists()
    assert not Rollup.objects.filter(account=account, requests=999).exists()


def test_it_only_touches_the_range(account):
    ingest_events(account, scenario_events())
    Rollup.objects.filter(account=account).update(requests=999)
    call_command("rebuild_stats", "--since", "2026-11-28T00:00", "--until", "2026-11-29")
    assert Rollup.objects.filter(bucket__date="2026-11-27", requests=999).exists()
    assert not Rollup.objects.filter(bucket__date="2026-11-28", requests=999).exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "2026-11-29", "--until", "2026-11-28"],
        ["--since", "yesterday", "--until", "2026-11-28"],
        ["--since", "2026-11-27", "--until", "2026-11-28", "--account", "nobody"],
    ],
)
def test_it_refuses_bad_arguments(db, args):
    with pytest.raises(CommandError):
        call_command("rebuild_stats", *args)
