"""The endpoint pages in a real browser: add, copy the secret, send a test, redeliver."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from notifications import outbox
from notifications.models import Endpoint, Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_an_endpoint_send_a_test_and_redeliver_it(page, login, alice, receiver):
    login(alice)
    page.get_by_role("link", name="Event notifications").click()
    page.get_by_label("Callback URL (http or https)").fill(receiver.url)
    page.get_by_role("checkbox", name="bounce").check()
    page.get_by_role("checkbox", name="delivered").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#new-secret").inner_text()
    assert secret.startswith("whsec_")
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["delivered", "bounce"]

    page.get_by_role("button", name="Send test event").click()
    assert "Test event queued" in page.locator(".messages").inner_text()
    assert "No attempts yet" in page.content()
    assert outbox.deliver_due(endpoint.pk) == 1
    assert Webhook(secret).verify(receiver.received[0].body, receiver.received[0].headers)

    page.reload()
    row = page.locator("#attempts tbody tr").first
    assert "Test event" in row.inner_text() and "200" in row.inner_text()
    assert page.locator("#delivered-count").inner_text() == "1"
    row.get_by_role("button", name="Redeliver").click()
    assert "Queued 1 notification(s)" in page.locator(".messages").inner_text()
    assert Notification.objects.get().status == "pending"


def test_a_disabled_endpoint_says_so(page, login, alice, account, receiver):
    endpoint, _ = outbox.create_endpoint(account, receiver.url)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason="Disabled automatically: every delivery failed for 3 days."
    )
    login(alice)
    page.goto(f"/webhooks/{endpoint.pk}/")
    notice = page.get_by_role("alert")
    assert "This endpoint is disabled" in notice.inner_text()
    assert "failed for 3 days" in notice.inner_text()
    page.get_by_role("button", name="Enable").click()
    assert "Endpoint enabled." in page.locator(".messages").inner_text()
    assert Endpoint.objects.get().enabled
