"""The blocklist pages in a real browser: query, batch remove, upload, modify expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from blocklist import changes, custom, expiry
from blocklist.models import Block
from tests.blocklist.conftest import bounce, recipient_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_blocking_query_explains_each_address(page, login, alice, account, other_account):
    bounce(other_account, "gone@example.com")
    recipient_event(account, "gone@example.com", "complained")
    login(alice)
    page.goto("/blocklist/")
    page.get_by_label("Addresses").fill("gone@example.com\nfine@example.com")
    page.get_by_role("button", name="Query").click()
    gone = page.locator('tr[data-address="gone@example.com"]')
    assert "Blocked" in gone.inner_text()
    assert "triggered by another account's sending" in gone.inner_text()
    assert "Also blocks, but a stronger block wins." in gone.inner_text()
    assert "Not blocked" in page.locator('tr[data-address="fine@example.com"]').inner_text()


def test_batch_remove_from_my_trigger_list(page, login, alice, account):
    for i in range(3):
        bounce(account, f"u{i}@example.com")
    login(alice)
    page.goto("/blocklist/invalid/mine/")
    remove = page.get_by_role("button", name="Remove selected")
    assert remove.is_disabled()
    page.get_by_label("Select u0@example.com").check()
    page.get_by_label("Select u2@example.com").check()
    assert page.get_by_text("2 selected").is_visible()
    messages = []
    page.on("dialog", lambda d: (messages.append(d.message), d.accept()))
    remove.click()
    page.wait_for_selector(".messages")
    assert "Removed the block of 2 address(es)." in page.locator(".messages").inner_text()
    assert messages == ["Remove the block of 2 address(es) for every account?"]
    assert list(Block.objects.invalid().active().values_list("address", flat=True)) == [
        "u1@example.com"
    ]


def test_a_declined_confirmation_removes_nothing(page, login, alice, account):
    bounce(account, "u0@example.com")
    login(alice)
    page.goto("/blocklist/invalid/mine/")
    page.on("dialog", lambda d: d.dismiss())
    page.get_by_role("button", name="Remove", exact=True).click()
    page.wait_for_timeout(300)
    assert Block.objects.invalid().active().count() == 1


def test_upload_shows_progress_and_a_report(page, login, alice, account, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("\ufeffemail\na@example.com\nA@example.com\nnot-an-address\n".encode())
    login(alice)
    page.goto("/blocklist/custom/upload/")
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Done: added 1 of 3.").wait_for()
    report = page.locator("#upload-report")
    assert report.locator('[data-field="repeat"]').inner_text() == "1"
    assert report.locator('[data-field="invalid"]').inner_text() == "1"
    assert "not-an-address" in page.locator("#upload-problems").inner_text()
    assert page.locator("#upload-bar").get_attribute("value") == "100"
    assert list(Block.objects.values_list("address", flat=True)) == ["a@example.com"]


def test_modify_expiry_then_make_it_permanent(page, login, alice, account):
    custom.add_custom_blocks(account, ["a@example.com"], actor=changes.SYSTEM)
    block = Block.objects.get()
    day = (timezone.now() + timedelta(days=20)).date()
    login(alice)
    page.goto("/blocklist/custom/")
    page.get_by_role("link", name="Modify a@example.com").click()
    page.get_by_label("Expires after (empty: permanent)").fill(day.isoformat())
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/blocklist/custom/")
    block.refresh_from_db()
    assert expiry.expiry_date_of(block) == day
    page.get_by_role("link", name="Modify a@example.com").click()
    # Waits for the modify page: read at once, the content was that of a page in transit.
    expect(page.locator("body")).to_contain_text(f"expiry permanent → {day.isoformat()}")
    page.get_by_label("Expires after (empty: permanent)").fill("")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/blocklist/custom/")
    assert "Permanent" in page.locator("#blocks").inner_text()


def test_the_selection_count_follows_the_boxes_after_going_back(page, login, alice, account):
    for i in range(3):
        bounce(account, f"u{i}@example.com")
    login(alice)
    page.goto("/blocklist/invalid/mine/")
    page.get_by_label("Select u0@example.com").check()
    page.get_by_label("Select u2@example.com").check()
    page.get_by_role("link", name="History").click()
    page.wait_for_url("**/blocklist/history/")
    page.go_back()
    page.wait_for_url("**/blocklist/invalid/mine/")
    # The browser gives the boxes back as they were ticked; the count and buttons follow.
    expect(page.get_by_label("Select u0@example.com")).to_be_checked()
    expect(page.get_by_text("2 selected")).to_be_visible()
    expect(page.get_by_role("button", name="Remove selected")).to_be_enabled()
