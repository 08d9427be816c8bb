"""The worker fixture the job integration tests stand on."""

import pytest

from sesconsole.celery import app


@pytest.mark.worker
def test_a_real_worker_answers_on_redis(celery_worker_process):
    replies = app.control.ping(timeout=2)
    assert replies, "no worker answered"
    assert celery_worker_process.poll() is None
