"""rebuild_stats: the same numbers as live counting, whatever order events arrived in."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Sum

from delivery.ingest import ingest_events
from stats.models import COUNTERS, Rollup
from stats.promotion import choose_tracked_domains
from stats.tasks import prune_minute_rollups
from tests.scenarios import scenario_events

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


@time_machine.travel("2026-11-29T00:00:00Z", tick=False)
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


def test_minute_rows_are_pruned_after_their_retention(account):
    ingest_events(account, scenario_events())
    minutes = Rollup.objects.filter(size=Rollup.Size.MINUTE)
    hours_before = _snapshot_of(Rollup.Size.HOUR)
    with time_machine.travel("2026-12-01T00:00:00Z", tick=False):
        assert prune_minute_rollups() > 0
    # Only the 27th is more than three days old.
    assert not minutes.filter(bucket__date="2026-11-27").exists()
    assert minutes.filter(bucket__date="2026-11-28").exists()
    assert _snapshot_of(Rollup.Size.HOUR) == hours_before


def _snapshot_of(size: int) -> dict:
    return {k: v for k, v in _snapshot().items() if k[1] == size}


@time_machine.travel("2026-11-29T00:00:00Z", tick=False)
@pytest.mark.parametrize("seed", [5, 6])
def test_tracked_domains_count_like_a_rebuild(account, settings, seed):
    # Only the busiest recipient domain is tracked, from an hour inside the data: the
    # rebuild maps each event through the same intervals as live counting did.
    settings.STATS_TRACKED_RECIPIENT_DOMAINS = 1
    settings.STATS_TRACKED_SENDER_DOMAINS = 1
    events = scenario_events()
    random.Random(seed).shuffle(events)
    half = len(events) // 2
    ingest_events(account, events[:half])
    choose_tracked_domains(account, now=datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    ingest_events(account, events[half:])
    live = _snapshot()
    assert {key[4] for key in live} == {"*", "~", "gmail.com"}
    call_command("rebuild_stats", "--since", "2026-11-27", "--until", "2026-11-29")
    assert _snapshot() == live
