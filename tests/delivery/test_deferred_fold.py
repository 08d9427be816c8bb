"""INGEST_FOLD=deferred: the request stores, workers fold, exactly once and in any order."""

from __future__ import annotations

import random
import threading

import pytest
import time_machine
from django.db import connection
from django.db.models import Sum

from blocklist.gate import check
from delivery import fold
from delivery.fold import fold_all, fold_pending
from delivery.ingest import ingest_events
from delivery.models import Message, PendingFold
from stats.models import COUNTERS, Rollup
from stats.rollups import rebuild
from tests.concurrency import run_together
from tests.events import make_event
from tests.factories import AccountFactory
from tests.scenarios import scenario_events

NOW = "2026-11-29T00:00:00Z"


@pytest.fixture
def deferred(settings):
    settings.INGEST_FOLD = "deferred"


def _rollups(account) -> dict:
    rows = (
        Rollup.objects.filter(account=account)
        .values("size", "bucket", "sender_domain", "recipient_domain")
        .annotate(**{c: Sum(c) for c in COUNTERS})
    )
    out = {}
    for row in rows:
        key = tuple(row.pop(k) for k in ("size", "bucket", "sender_domain", "recipient_domain"))
        if any(row.values()):
            out[key] = row
    return out


def _messages(account) -> list[tuple]:
    return sorted(
        Message.objects.filter(account=account).values_list(
            "message_id", "status", "recipient", "open_count", "first_opened_at", "requested_at"
        )
    )


def _batches(seed: int) -> list[list[dict]]:
    events = scenario_events()
    random.Random(seed).shuffle(events)
    cut = sorted(random.Random(seed).sample(range(1, len(events)), 5))
    return [events[a:b] for a, b in zip([0, *cut], [*cut, len(events)], strict=True)]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_deferred_fold_equals_the_inline_one_and_a_rebuild(settings, seed):
    inline, deferred = AccountFactory(name="inline"), AccountFactory(name="deferred")
    for batch in _batches(seed):
        settings.INGEST_FOLD = "inline"
        ingest_events(inline, batch)
        settings.INGEST_FOLD = "deferred"
        result = ingest_events(deferred, batch)
        assert result.errors == []
    assert _rollups(deferred) == {}  # nothing counted before the fold
    assert PendingFold.objects.count() == len(scenario_events())
    # Fold in small, shuffled-looking chunks, as several worker runs would.
    while fold_pending(limit=7):
        pass
    assert PendingFold.objects.count() == 0
    assert _rollups(deferred) == _rollups(inline)
    assert _messages(deferred) == _messages(inline)
    live = _rollups(deferred)
    rebuild(*_range(), account=deferred)
    assert _rollups(deferred) == live


def _range():
    from datetime import UTC, datetime

    return datetime(2026, 11, 27, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)  # the bounce's block is active, whenever this runs
def test_the_send_gate_sees_a_hard_bounce_and_an_unsubscribe_before_any_fold(account, deferred):
    ingest_events(
        account,
        [
            make_event("request", "m1", to="gone@example.com"),
            make_event(
                "bounced",
                "m1",
                smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
            ),
            make_event("request", "m2", to="bye@example.com"),
            make_event("unsubscribed", "m2"),
        ],
    )
    assert PendingFold.objects.count() == 4
    verdicts = check(account, ["gone@example.com", "bye@example.com"])
    assert verdicts["gone@example.com"].blocked
    assert verdicts["bye@example.com"].blocked


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@time_machine.travel(NOW, tick=False)
def test_racing_workers_fold_each_event_once(settings):
    reference, account = AccountFactory(name="reference"), AccountFactory(name="acme")
    settings.INGEST_FOLD = "inline"
    for batch in _batches(7):
        ingest_events(reference, batch)
    settings.INGEST_FOLD = "deferred"
    for batch in _batches(7):
        ingest_events(account, batch)

    def worker():
        n = 0
        while step := fold_pending(limit=3):
            n += step
        return n

    folded = run_together(worker, worker, worker)
    assert sum(folded) == len(scenario_events())
    assert _rollups(account) == _rollups(reference)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a second connection")
@time_machine.travel(NOW, tick=False)
def test_a_worker_killed_mid_fold_leaves_its_events_queued(settings, monkeypatch):
    reference, account = AccountFactory(name="reference"), AccountFactory(name="acme")
    settings.INGEST_FOLD = "inline"
    ingest_events(reference, scenario_events())
    settings.INGEST_FOLD = "deferred"
    ingest_events(account, scenario_events())

    inside, release = threading.Event(), threading.Event()
    count_events = fold.count_events
    pid = []

    def stalled_count(*args):
        pid.append(connection.connection.info.backend_pid)
        inside.set()
        release.wait(10)
        count_events(*args)

    monkeypatch.setattr(fold, "count_events", stalled_count)
    errors = []

    def worker():
        try:
            fold_pending(limit=10)
        except Exception as exc:  # the connection is killed under it
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid[0]])
    release.set()
    thread.join()
    assert errors, "the killed fold should have failed"
    monkeypatch.setattr(fold, "count_events", count_events)

    assert PendingFold.objects.count() == len(scenario_events())
    assert fold_all() == len(scenario_events())
    assert _rollups(account) == _rollups(reference)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_folds_what_the_api_stored(
    settings, account, api_client, celery_worker_process
):
    import time

    settings.INGEST_FOLD = "deferred"
    events = scenario_events()
    response = api_client.post("/api/v1/events/", events, format="json")
    assert response.json()["accepted"] == len(events)
    deadline = time.monotonic() + 30
    while PendingFold.objects.exists():
        assert time.monotonic() < deadline, "the worker did not fold the events"
        time.sleep(0.2)
    stats = api_client.get(
        "/api/v1/stats/", {"start": "2026-11-27", "end": "2026-11-28", "granularity": "day"}
    ).json()
    assert stats["totals"]["requests"] == sum(e["type"] == "request" for e in events)
    assert stats["totals"]["opened"] == sum(e["type"] == "opened" for e in events)


@pytest.mark.django_db
def test_the_lag_stays_bounded_when_a_request_cannot_reach_the_broker(
    account, deferred, settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from delivery import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.fold_events, "apply_async", unreachable)
    events = scenario_events()
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_events(account, events)

    # The request answers and its events wait, shown as pending, for the beat job.
    assert result.accepted == len(events)
    assert "broker unreachable" in caplog.text
    assert fold.backlog(account).events == len(events)
    assert settings.CELERY_BEAT_SCHEDULE["delivery-fold-events"]["schedule"] <= 10.0
    assert tasks.fold_events() == len(events)  # what the beat job runs
    assert fold.backlog(account).empty
