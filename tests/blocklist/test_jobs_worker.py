"""The blocklist jobs run through a real Celery worker on Redis."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from blocklist import changes, custom, tasks
from blocklist.models import Block, History

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not finish the job in time")
        time.sleep(0.2)


def test_the_worker_releases_due_blocks(celery_worker_process, account):
    long_ago = timezone.now() - timedelta(days=181)
    custom.add_custom_blocks(account, ["old@example.com"], actor=changes.SYSTEM)
    custom.add_custom_blocks(account, ["soon@example.com"], actor=changes.SYSTEM)
    Block.objects.filter(address="old@example.com").update(
        kind=Block.Kind.INVALID, blocked_at=long_ago, expires_at=long_ago + timedelta(days=180)
    )
    Block.objects.filter(address="soon@example.com").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    tasks.release_invalid_blocks.delay()
    tasks.lift_expired_custom_blocks.delay()
    tasks.auto_block_full_inboxes.delay()

    _wait_for(lambda: not Block.objects.filter(released_at=None).exists())
    assert dict(Block.objects.values_list("address", "release_reason")) == {
        "old@example.com": "released",
        "soon@example.com": "expired",
    }
    assert sorted(History.objects.exclude(action="added").values_list("action", flat=True)) == [
        "expired",
        "released",
    ]
