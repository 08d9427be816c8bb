"""Sending obeys the blocklist: blocked recipients are rejected with the reason, never queued."""

from __future__ import annotations

import pytest
import time_machine

from blocklist.changes import SYSTEM
from blocklist.custom import add_custom_blocks
from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, Message, OutboundRecipient
from delivery.sending import SendRequest, add_sender_identity, deliver, send_email
from tests.delivery.smtp_server import SmtpServer
from tests.events import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sender(account):
    add_sender_identity(account, "mail.acme.example", verified=True)


def _block_three(account) -> None:
    """gone@ bounced as unknown, quit@ unsubscribed, vip@ is on the custom list."""
    ingest_events(
        account,
        [
            make_event("request", "old-1", to="gone@gmail.com"),
            make_event("bounced", "old-1", smtp={"code": 550, "enhanced": "5.1.1"}),
            make_event("request", "old-2", to="quit@gmail.com"),
            make_event("unsubscribed", "old-2"),
        ],
    )
    add_custom_blocks(account, ["vip@gmail.com"], actor=SYSTEM)


# The bounce is of 2026-11-28: its block is active then, whenever this runs.
@time_machine.travel("2026-11-29T12:00:00Z", tick=False)
def test_blocked_recipients_get_a_rejected_event_with_the_reason(api_client, account):
    _block_three(account)
    body = {
        "from": "news@mail.acme.example",
        "to": ["gone@gmail.com", "alice@gmail.com"],
        "cc": ["quit@gmail.com"],
        "bcc": ["vip@gmail.com"],
        "subject": "Hi",
        "text": "Hello",
    }
    data = api_client.post("/api/v1/emails/", body, format="json").json()
    assert (data["accepted"], data["rejected"]) == (1, 3)
    result = {r["address"]: (r["status"], r["reason"]) for r in data["recipients"]}
    assert result == {
        "gone@gmail.com": ("rejected", "blocklisted"),
        "alice@gmail.com": ("queued", ""),
        "quit@gmail.com": ("rejected", "unsubscribed"),
        "vip@gmail.com": ("rejected", "custom_blocked"),
    }
    for recipient in data["recipients"]:
        types = list(
            DeliveryEvent.objects.filter(message__message_id=recipient["message_id"]).values_list(
                "type", "reason"
            )
        )
        if recipient["status"] == "rejected":
            assert types == [("rejected", recipient["reason"])]  # no request: never queued
        else:
            assert types == [("request", "")]
    message = Message.objects.get(message_id=data["recipients"][0]["message_id"])
    assert message.status == "rejected"
    assert OutboundRecipient.objects.filter(state="queued").count() == 1


def test_a_recipient_blocked_after_queueing_is_rejected_at_send_time(account, settings):
    with SmtpServer() as server:
        settings.SENDING_RELAY_PORT = server.port
        req = SendRequest(
            from_address="news@mail.acme.example", to=["late@gmail.com"], subject="Hi", text="x"
        )
        row = send_email(account, req).recipient_rows[0]
        ingest_events(
            account,
            [
                make_event("request", "other", to="late@gmail.com"),
                make_event("unsubscribed", "other"),
            ],
        )
        assert deliver(row.pk) is None
        assert server.handler.rcpt_attempts == []
    row.refresh_from_db()
    assert (row.state, row.reject_reason) == ("rejected", "unsubscribed")
    event = DeliveryEvent.objects.get(message__message_id=row.message_id, type="rejected")
    assert event.reason == "unsubscribed"
