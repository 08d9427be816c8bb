"""The send-test page and the unsubscribe page in a real browser."""

from __future__ import annotations

import pytest

from delivery import tracking
from delivery.models import DeliveryEvent, OutboundRecipient
from delivery.sending import add_sender_identity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_sends_a_test_email_from_the_console(page, login, alice, account):
    add_sender_identity(account, "mail.acme.example", verified=True)
    login(alice)
    page.get_by_role("link", name="Send a test email").click()
    page.get_by_label("From").select_option("noreply@mail.acme.example")
    page.get_by_label("To").fill("carol@gmail.com")
    page.get_by_role("button", name="Send").click()
    assert "Queued a test email to carol@gmail.com" in page.get_by_role("status").inner_text()
    row = page.get_by_role("row").filter(has_text="carol@gmail.com")
    assert "queued" in row.inner_text()
    assert OutboundRecipient.objects.get().address == "carol@gmail.com"


def test_a_recipient_unsubscribes_with_the_visible_link(page, account):
    from tests.factories import MessageFactory

    MessageFactory(account=account, message_id="msg-9", recipient="dave@gmail.com")
    url = tracking.unsubscribe_url(account.pk, "msg-9").removeprefix("http://127.0.0.1:8000")
    page.goto(url)
    assert "dave@gmail.com" in page.get_by_role("main").inner_text()
    page.get_by_role("button", name="Unsubscribe").click()
    assert "will get no more mail" in page.get_by_role("status").inner_text()
    assert DeliveryEvent.objects.filter(type="unsubscribed").count() == 1
