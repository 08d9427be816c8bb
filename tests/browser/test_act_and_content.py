"""In a browser: whitelist from the blocking query with a confirmation; a hostile HTML body
stays inert in its sandboxed frame."""

from __future__ import annotations

import pytest

from blocklist.models import History, Whitelist
from delivery.models import Message
from delivery.sending import SendRequest, add_sender_identity, send_email
from tests.blocklist.conftest import bounce

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_whitelist_from_the_query_results(page, login, alice, account, other_account):
    bounce(other_account, "theirs@example.com")
    login(alice)
    page.goto("/blocklist/?q=theirs%40example.com")
    row = page.locator('tr[data-address="theirs@example.com"]')
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    row.get_by_role("button", name="Whitelist").click()
    page.wait_for_selector(".messages")
    assert "Whitelisted 1 address(es)." in page.locator(".messages").inner_text()
    assert asked and asked[0].startswith("Whitelist theirs@example.com for your account?")
    # Back on the query, which now shows the whitelist and offers to end it.
    assert "q=theirs%40example.com" in page.url
    row = page.locator('tr[data-address="theirs@example.com"]')
    assert "Not blocked" in row.inner_text()
    assert row.get_by_role("button", name="End whitelist").is_visible()
    assert Whitelist.objects.active().filter(account=account).count() == 1
    assert History.objects.filter(action="whitelisted", account=account).exists()


def test_a_hostile_html_body_runs_nothing(page, login, alice, account):
    add_sender_identity(account, "mail.acme.example", verified=True)
    email = send_email(
        account,
        SendRequest(
            from_address="news@mail.acme.example",
            to=["reader@example.com"],
            subject="Hello",
            html='<p id="hi">Hello friend</p><script>top.document.title="owned";'
            'document.getElementById("hi").textContent="ran"</script>'
            "<img src=x onerror=\"top.document.title='owned'\">",
            text="Hello friend",
        ),
    )
    message = Message.objects.get(message_id=email.recipient_rows[0].message_id)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(alice)
    page.goto(f"/messages/id/{message.message_id}/")
    frame = page.frame_locator("#sent-html")
    assert frame.locator("#hi").inner_text() == "Hello friend"  # shown, script did not run
    page.wait_for_timeout(300)
    assert page.title() != "owned"
    assert page.locator("#sent-text").inner_text().startswith("Hello friend")
