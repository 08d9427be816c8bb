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


@pytest.fixture
def staff_mailbox(monkeypatch):
    """A real SMTP server where the worker's mail to staff goes (set before it starts)."""
    from tests.delivery.smtp_server import SmtpServer

    with SmtpServer() as server:
        monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
        monkeypatch.setenv("EMAIL_PORT", str(server.port))
        monkeypatch.setenv("SENDING_TRACKING_BASE_URL", "https://console.example")
        yield server.handler


def test_the_worker_mails_staff_when_a_surge_opens(
    staff_mailbox, celery_worker_process, account, settings
):
    from blocklist.models import InvalidSurge
    from tests.blocklist.conftest import bounce
    from tests.factories import UserFactory

    settings.INVALID_SURGE_MIN_VERDICTS = 5
    UserFactory(username="ops", is_staff=True, email="ops@console.example")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    bounce(
        account,
        "first@elsewhere.test",
        timestamp=f"{an_hour_ago - timedelta(days=2):%Y-%m-%dT%H:%M:%SZ}",
    )
    for i in range(6):  # each bounce its own committed batch, as separate requests would be
        bounce(
            account,
            f"u{i}@gmail.test",
            timestamp=f"{an_hour_ago + timedelta(minutes=i):%Y-%m-%dT%H:%M:%SZ}",
        )

    surge = InvalidSurge.objects.get()
    _wait_for(lambda: staff_mailbox.received)
    [received] = staff_mailbox.received
    assert received.rcpt_tos == ["ops@console.example"]
    assert received.message["Subject"] == (
        "Invalid-address verdicts at gmail.test are held for your review"
    )
    body = received.message.get_payload(decode=True).decode()
    assert f"https://console.example/admin/blocklist/invalidsurge/{surge.pk}/change/" in body
