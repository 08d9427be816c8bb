"""Two Celery worker processes on one Redis broker, as two machines would run them: the
deferred fold counts every event once, and a periodic job handed to both at the same
moment does its work once."""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from blocklist import changes, custom
from blocklist import tasks as blocklist_tasks
from blocklist.models import Block, History
from delivery.ingest import ingest_events
from delivery.models import PendingFold
from delivery.tasks import fold_events
from tests.delivery.test_deferred_fold import _messages, _rollups
from tests.factories import AccountFactory
from tests.scenarios import scenario_events

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _runs(task) -> list[int]:
    """How many times each of the two workers has run `task` (the workers' own counters)."""
    from sesconsole.celery import app

    stats = app.control.inspect(timeout=1.0).stats() or {}
    return sorted(
        s["total"].get(task.name, 0) for name, s in stats.items() if name.startswith("test-")
    )


def _idle() -> bool:
    from sesconsole.celery import app

    active = app.control.inspect(timeout=1.0).active() or {}
    return not any(tasks for name, tasks in active.items() if name.startswith("test-"))


def _wait_for(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"the workers did not {what} in time"
        time.sleep(0.1)


def test_two_workers_fold_every_event_once(settings, two_celery_workers):
    events = scenario_events()
    reference, account = AccountFactory(name="reference"), AccountFactory(name="acme")
    settings.INGEST_FOLD = "inline"
    ingest_events(reference, events)

    # Stored in small shuffled batches (each asks a worker to fold), then both workers are
    # handed fold runs at once, so they race over the same queue of events.
    settings.INGEST_FOLD = "deferred"
    shuffled = random.Random(5).sample(events, len(events))
    for i in range(0, len(shuffled), 3):
        ingest_events(account, shuffled[i : i + 3])
    for _ in range(5):
        for n in (1, 2):
            fold_events.apply_async(queue=f"worker-{n}")

    _wait_for(lambda: not PendingFold.objects.exists(), "empty the fold queue")
    # Each worker ran its own five runs at least (and maybe some of the batches' own).
    _wait_for(lambda: min(_runs(fold_events), default=0) >= 5, "run the fold runs")
    assert len(_runs(fold_events)) == 2
    assert _rollups(account) == _rollups(reference)
    assert [m[1:] for m in _messages(account)] == [m[1:] for m in _messages(reference)]


def test_a_periodic_job_handed_to_both_workers_at_once_does_its_work_once(
    account, two_celery_workers
):
    custom.add_custom_blocks(
        account, [f"u{n}@example.com" for n in range(20)], actor=changes.SYSTEM
    )
    Block.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    job = blocklist_tasks.lift_expired_custom_blocks
    for n in (1, 2):
        job.apply_async(queue=f"worker-{n}")

    _wait_for(lambda: _runs(job) == [1, 1], "take the job, both of them")
    _wait_for(_idle, "finish the job")
    assert not Block.objects.filter(released_at=None).exists()
    assert History.objects.filter(action="expired").count() == 20
