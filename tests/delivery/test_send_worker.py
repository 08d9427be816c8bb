"""End to end: the mail API, a real Celery worker and a real SMTP server answering 250/452/550."""

from __future__ import annotations

import time

import pytest

from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, Message, OutboundRecipient
from delivery.sending import add_sender_identity
from tests.delivery.smtp_server import SmtpServer
from tests.events import make_event

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REPLIES = {
    "full@gmail.com": "452 4.2.2 Mailbox full, try again later",
    "nobody@gmail.com": "550 5.1.1 <nobody@gmail.com>: Recipient address rejected: User unknown",
}


@pytest.fixture
def worker(request, monkeypatch):
    """A relay on a free port, and a worker configured to use it with quick retries."""
    with SmtpServer(REPLIES) as server:
        monkeypatch.setenv("SENDING_RELAY_HOST", "127.0.0.1")
        monkeypatch.setenv("SENDING_RELAY_PORT", str(server.port))
        monkeypatch.setenv("SENDING_MAX_ATTEMPTS", "3")
        monkeypatch.setenv("SENDING_RETRY_BASE_SECONDS", "1")
        request.getfixturevalue("celery_worker_process")
        yield server.handler


def _wait_until_final(timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while OutboundRecipient.objects.exclude(state__in=OutboundRecipient.FINAL_STATES).exists():
        assert time.monotonic() < deadline, list(OutboundRecipient.objects.values())
        time.sleep(0.2)


def _types(message_id: str) -> list[str]:
    return list(
        DeliveryEvent.objects.filter(message__message_id=message_id)
        .order_by("timestamp", "pk")
        .values_list("type", flat=True)
    )


def test_events_statuses_retries_and_blocks_follow_the_smtp_replies(worker, account, api_client):
    add_sender_identity(account, "mail.acme.example", verified=True)
    ingest_events(
        account,
        [
            make_event("request", "old-1", to="gone@gmail.com"),
            make_event("bounced", "old-1", smtp={"code": 550, "enhanced": "5.1.1"}),
        ],
    )
    body = {
        "from": "Acme <news@mail.acme.example>",
        "to": ["alice@gmail.com", "full@gmail.com", "nobody@gmail.com", "gone@gmail.com"],
        "subject": "November news",
        "html": '<p><a href="https://acme.example/">Shop</a></p>',
    }
    response = api_client.post("/api/v1/emails/", body, format="json")
    assert response.status_code == 202
    ids = {r["address"]: r["message_id"] for r in response.json()["recipients"]}
    _wait_until_final()

    assert _types(ids["alice@gmail.com"]) == ["request", "delivered"]
    assert _types(ids["full@gmail.com"]) == ["request", "deferred", "deferred", "bounced"]
    assert _types(ids["nobody@gmail.com"]) == ["request", "bounced"]
    assert _types(ids["gone@gmail.com"]) == ["rejected"]
    statuses = dict(
        Message.objects.filter(message_id__in=ids.values()).values_list("recipient", "status")
    )
    assert statuses == {
        "alice@gmail.com": "delivered",
        "full@gmail.com": "bounced",
        "nobody@gmail.com": "bounced",
        "gone@gmail.com": "rejected",
    }
    bounce = DeliveryEvent.objects.get(message__message_id=ids["nobody@gmail.com"], type="bounced")
    assert (bounce.smtp_code, bounce.bounce_class) == (550, "invalid_address")
    assert worker.rcpt_attempts.count("full@gmail.com") == 3
    # The blocked recipient never reached the server; the delivered one got exactly one mail.
    assert "gone@gmail.com" not in worker.rcpt_attempts
    assert [r.rcpt_tos for r in worker.received] == [["alice@gmail.com"]]

    # The 550 created an invalid-address block, so the next send to nobody@ is refused.
    again = api_client.post("/api/v1/emails/", {**body, "to": ["nobody@gmail.com"]}, format="json")
    assert again.json()["recipients"][0]["reason"] == "blocklisted"
