"""Delivery attempts against a real SMTP server: 250 delivers, 452 defers then bounces, 550 bounces."""

from __future__ import annotations

import pytest

from delivery import sending
from delivery.models import DeliveryEvent, Message, OutboundRecipient
from delivery.sending import SendRequest, add_sender_identity, deliver, send_email
from delivery.tasks import deliver_recipient
from tests.delivery.smtp_server import SmtpServer, free_port

pytestmark = pytest.mark.django_db

REPLIES = {
    "full@gmail.com": "452 4.2.2 Mailbox full, try again later",
    "nobody@gmail.com": "550 5.1.1 <nobody@gmail.com>: Recipient address rejected: User unknown",
    # RFC 5321's generic 550: Outlook.com documents it as "no such recipient" for its mailboxes.
    "gone@hotmail.com": "550 5.5.0 Requested action not taken: mailbox unavailable.",
    "gone@example.org": "550 5.5.0 Requested action not taken: mailbox unavailable.",
}


@pytest.fixture
def relay(settings):
    with SmtpServer(REPLIES) as server:
        settings.SENDING_RELAY_HOST = "127.0.0.1"
        settings.SENDING_RELAY_PORT = server.port
        settings.SENDING_MAX_ATTEMPTS = 3
        settings.SENDING_RETRY_BASE_SECONDS = 0
        yield server.handler


@pytest.fixture
def sender(account):
    return add_sender_identity(account, "mail.acme.example", verified=True)


def _send(account, to, **kwargs) -> list[OutboundRecipient]:
    req = SendRequest(
        from_address="Acme <news@mail.acme.example>",
        to=to,
        subject="November news",
        text="Hello",
        html='<html><body><p>Hi <a href="https://acme.example/offer?a=1&amp;b=2">offer</a></p></body></html>',
        **kwargs,
    )
    return send_email(account, req).recipient_rows


def _events(message_id: str) -> list[tuple[str, str]]:
    return list(
        DeliveryEvent.objects.filter(message__message_id=message_id)
        .order_by("timestamp", "pk")
        .values_list("type", "event_id")
    )


def test_it_delivers_on_250_with_tracking_and_unsubscribe_headers(account, sender, relay):
    row = _send(account, ["alice@gmail.com"], cc=["carol@gmail.com"], bcc=["dave@gmail.com"])[0]
    assert deliver(row.pk) is None
    row.refresh_from_db()
    assert row.state == "delivered" and row.attempts == 1
    assert [t for t, _ in _events(row.message_id)] == ["request", "delivered"]
    assert Message.objects.get(message_id=row.message_id).status == "delivered"

    (received,) = relay.received
    assert received.rcpt_tos == ["alice@gmail.com"]  # one envelope recipient per message
    mail = received.message
    assert mail["X-SES-Message-ID"] == row.message_id
    assert mail["Message-ID"] == row.smtp_message_id
    assert mail["To"] == "alice@gmail.com" and mail["Cc"] == "carol@gmail.com"
    assert mail["Bcc"] is None  # bcc recipients stay invisible
    assert mail["List-Unsubscribe"].strip().startswith("<http://127.0.0.1:8000/t/u/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    body = html.get_payload(decode=True).decode()
    assert "https://acme.example/offer" not in body  # the link goes through /t/c/
    assert "/t/c/" in body and "/t/o/" in body and "Unsubscribe</a>" in body
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    assert "Unsubscribe: http://127.0.0.1:8000/t/u/" in text.get_payload(decode=True).decode()


def test_it_bounces_on_550_and_classifies_the_reply(account, sender, relay):
    (row,) = _send(account, ["nobody@gmail.com"])
    assert deliver(row.pk) is None
    row.refresh_from_db()
    assert row.state == "bounced"
    event = DeliveryEvent.objects.get(message__message_id=row.message_id, type="bounced")
    assert (event.smtp_code, event.smtp_enhanced) == (550, "5.1.1")
    assert event.bounce_class == "invalid_address"
    assert event.event_id == f"{row.message_id}:bounced:1"
    assert relay.received == []


def test_a_reply_is_read_by_the_domain_it_came_from(account, sender, relay):
    rows = _send(account, ["gone@hotmail.com", "gone@example.org"])
    for row in rows:
        deliver(row.pk)
    classes = dict(
        DeliveryEvent.objects.filter(type="bounced").values_list(
            "message__recipient", "bounce_class"
        )
    )
    assert classes == {"gone@hotmail.com": "invalid_address", "gone@example.org": "other"}


def test_it_defers_on_452_and_bounces_after_the_last_attempt(account, sender, relay):
    (row,) = _send(account, ["full@gmail.com"])
    assert deliver(row.pk) == 0  # retry now (base 0 in this test)
    row.refresh_from_db()
    assert row.state == "deferred" and row.attempts == 1
    assert deliver(row.pk) == 0
    assert deliver(row.pk) is None
    row.refresh_from_db()
    assert row.state == "bounced" and row.attempts == 3
    assert [t for t, _ in _events(row.message_id)] == [
        "request",
        "deferred",
        "deferred",
        "bounced",
    ]
    bounce = DeliveryEvent.objects.get(message__message_id=row.message_id, type="bounced")
    assert bounce.bounce_class == "mailbox_full"
    assert "Gave up after 3 attempts" in bounce.response_text
    assert relay.rcpt_attempts.count("full@gmail.com") == 3


def test_it_waits_with_exponential_backoff(settings):
    settings.SENDING_RETRY_BASE_SECONDS = 60
    assert [sending.retry_delay(n) for n in (1, 2, 3)] == [60, 120, 240]


def test_a_deferred_recipient_is_not_sent_again_before_its_time(account, sender, relay, settings):
    settings.SENDING_RETRY_BASE_SECONDS = 300
    (row,) = _send(account, ["full@gmail.com"])
    assert deliver(row.pk) == 300
    # A duplicate of the task (a redelivery after a worker restart) arrives early: no send.
    assert deliver(row.pk) is None
    row.refresh_from_db()
    assert row.attempts == 1
    assert relay.rcpt_attempts == ["full@gmail.com"]


def test_a_rerun_after_delivery_sends_nothing_and_counts_once(account, sender, relay):
    (row,) = _send(account, ["alice@gmail.com"])
    deliver(row.pk)
    deliver(row.pk)
    assert len(relay.received) == 1
    assert DeliveryEvent.objects.filter(type="delivered").count() == 1


def test_an_unreachable_relay_defers(account, sender, settings):
    settings.SENDING_RELAY_PORT = free_port()  # nothing listens there
    settings.SENDING_RETRY_BASE_SECONDS = 60
    (row,) = _send(account, ["alice@gmail.com"])
    assert deliver(row.pk) == 60
    event = DeliveryEvent.objects.get(message__message_id=row.message_id, type="deferred")
    assert event.smtp_code is None
    assert event.response_text.startswith("Relay unavailable")


def test_the_task_runs_the_attempt_and_reschedules(account, sender, relay, settings):
    settings.SENDING_MAX_ATTEMPTS = 1
    rows = _send(account, ["alice@gmail.com", "full@gmail.com"])
    for row in rows:
        deliver_recipient.apply(args=[row.pk])
    states = dict(OutboundRecipient.objects.values_list("address", "state"))
    assert states == {"alice@gmail.com": "delivered", "full@gmail.com": "bounced"}


def test_a_task_redelivered_after_a_worker_died_mid_attempt_sends_once_more(account, sender, relay):
    (row,) = _send(account, ["alice@gmail.com"])
    # The worker claimed attempt 1 and died before the relay answered: the row says so.
    OutboundRecipient.objects.filter(pk=row.pk).update(attempts=1)
    assert deliver(row.pk) is None
    assert [e for _, e in _events(row.message_id)][-1] == f"{row.message_id}:delivered:2"
    assert len(relay.received) == 1


def test_stalled_recipients_are_found_for_re_enqueueing(account, sender):
    from datetime import timedelta

    from django.utils import timezone

    from delivery.tasks import resume_stalled_deliveries

    stalled, _fresh = _send(account, ["alice@gmail.com", "bob@gmail.com"])
    OutboundRecipient.objects.filter(pk=stalled.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=30)
    )
    assert sending.resume_stalled() == [stalled.pk]
    assert resume_stalled_deliveries.apply().get() == 1
