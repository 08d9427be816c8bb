"""Task wiring: the notifications queue, and each task calling its unit."""

from __future__ import annotations

import pytest

from delivery.ingest import ingest_events
from notifications import tasks
from notifications.models import Notification
from sesconsole.celery import app
from tests.events import make_event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["deliver_notifications", "dispatch_notifications"])
def test_notification_tasks_go_to_their_own_queue(name):
    route = app.amqp.router.route({}, f"notifications.tasks.{name}", args=(), kwargs={})
    assert route["queue"].name == "notifications"
    default = app.amqp.router.route({}, "blocklist.tasks.release_invalid_blocks", (), {})
    assert default["queue"].name == "celery"


def test_the_tasks_run_their_units(account, endpoint, receiver, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    try:
        ingest_events(account, [make_event("request", "m1"), make_event("delivered", "m1")])
        assert tasks.dispatch_notifications.delay().get() == 1
        assert Notification.objects.get().status == "delivered"
        assert tasks.deliver_notifications.delay(endpoint.pk).get() == 0
    finally:
        app.conf.task_always_eager = False
    assert len(receiver.received) == 1
