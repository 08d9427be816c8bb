"""Plain words and honest visuals: unsubscribe, release dates, badges, statuses, links."""

from __future__ import annotations

import pytest
from django.utils import timezone

from delivery import tracking
from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, Message
from tests.blocklist.conftest import bounce
from tests.events import make_event
from tests.factories import MessageFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RED = "rgb(180, 35, 24)"


@pytest.mark.parametrize("width", [1366, 360])
def test_the_unsubscribe_page_says_every_sender_address_is_covered(page, account, width):
    page.set_viewport_size({"width": width, "height": 800})
    MessageFactory(account=account, message_id="msg-9", recipient="dave@gmail.com")
    url = tracking.unsubscribe_url(account.pk, "msg-9").removeprefix("http://127.0.0.1:8000")
    page.goto(url)
    text = " ".join(page.get_by_role("main").inner_text().split())
    assert "Stop all mail from Acme Shop to dave@gmail.com?" in text
    assert "from mail.example.com and from any other address it sends from" in text
    assert "Stop mail from mail.example.com" not in text
    page.get_by_role("button", name="Unsubscribe from all mail of Acme Shop").click()
    done = page.get_by_role("status").inner_text()
    assert "will get no more mail from Acme Shop, from any of its sending addresses" in done
    assert DeliveryEvent.objects.filter(type="unsubscribed").count() == 1


def test_invalid_address_blocks_say_when_they_release(page, login, alice, account):
    bounce(account, "gone@example.com")
    login(alice)
    page.goto("/blocklist/invalid/mine/")
    headers = page.locator("#blocks thead").inner_text()
    assert "Releases on" in headers
    assert "Released at" not in headers
    release = page.locator("#blocks tbody tr td").nth(4).inner_text()
    assert release > timezone.now().strftime("%Y-%m-%d %H:%M")


def test_an_active_custom_block_is_not_shown_as_an_error(page, login, alice, account):
    login(alice)
    page.goto("/blocklist/custom/")
    page.fill("#add-addresses", "held@example.com")
    page.get_by_role("button", name="Add", exact=True).click()
    badge = page.locator("#blocks .badge.active")
    assert badge.inner_text() == "Active"
    assert badge.evaluate("e => getComputedStyle(e).color") != RED
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") != "rgb(253, 236, 234)"


def test_a_message_without_its_request_reads_not_reported_yet(page, login, alice, account):
    now = timezone.now()
    ingest_events(account, [make_event("opened", "early-1", timestamp=now.isoformat())])
    assert Message.objects.get(message_id="early-1").status == Message.Status.PENDING
    Message.objects.filter(message_id="early-1").update(requested_at=now)
    login(alice)
    page.goto("/messages/?status=pending")
    assert "Not reported yet" in page.locator("#messages-table").inner_text()
    assert "Not reported yet" in page.locator("#id_status").inner_text()
    assert "Awaiting" not in page.locator("main").inner_text()


@pytest.mark.parametrize("width", [1366, 390])
def test_opening_the_tracking_form_address_explains_where_the_form_is(
    page, login, alice, account, width
):
    page.set_viewport_size({"width": width, "height": 800})
    login(alice)
    response = page.goto("/messages/tracking/")
    assert response.status == 405
    assert response.headers["allow"] == "POST"
    assert "saves the tracking form" in page.get_by_role("main").inner_text()
    page.get_by_role("link", name="Send a test email → Tracking").click()
    page.wait_for_url("**/messages/send-test/#tracking")
    assert page.get_by_role("heading", name="Tracking").is_visible()


def test_whitelisted_by_me_opens_the_whitelisted_blocks(page, login, alice, account, other_account):
    for to in ("kept@example.com", "other@example.com"):
        ingest_events(account, [make_event("request", f"mine-{to}", to=to)])
        bounce(other_account, to)
    login(alice)
    page.goto("/blocklist/invalid/")
    page.on("dialog", lambda d: d.accept())
    row = page.get_by_role("row").filter(has_text="kept@example.com")
    row.get_by_role("button", name="Whitelist").click()
    page.wait_for_selector(".messages")

    page.goto("/blocklist/")
    tile = page.locator(".tile").filter(has_text="Whitelisted by me")
    assert tile.locator(".value").inner_text() == "1"
    tile.get_by_role("link", name="View").click()
    page.wait_for_url("**/blocklist/invalid/?whitelisted=yes")
    rows = page.locator("#blocks tbody tr")
    assert rows.count() == 1
    assert "kept@example.com" in rows.first.inner_text()
    assert page.locator("#id_whitelisted").input_value() == "yes"

    page.select_option("#id_whitelisted", "no")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**whitelisted=no**")
    assert rows.count() == 1
    assert "other@example.com" in rows.first.inner_text()


def test_reason_filters_offer_only_reasons_the_list_can_hold(page, login, alice, account):
    login(alice)
    page.goto("/blocklist/custom/")
    options = page.locator("#id_reason option").all_inner_texts()
    assert options == ["Any", "Added by hand", "Uploaded", "Mailbox full (auto-block)"]
    page.goto("/blocklist/rejects/")
    options = page.locator("#id_reason option").all_inner_texts()
    assert options == ["Any", "Recipient unsubscribed", "Recipient reported spam"]
    page.goto("/blocklist/invalid/mine/")
    assert page.locator("#id_reason").count() == 0
    assert page.get_by_label("Address").is_visible()
