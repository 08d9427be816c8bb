"""Every list in the console says what was searched when nothing matches."""

from __future__ import annotations

import pytest

from delivery.ingest import ingest_events
from tests.scenarios import scenario_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATES = "start=2026-11-27&end=2026-11-28"


@pytest.fixture
def seeded(account):
    ingest_events(account, scenario_events())


def _empty_text(page) -> str:
    empty = page.locator(".empty")
    assert empty.count() == 1
    assert empty.is_visible()
    return " ".join(empty.inner_text().split())


def test_email_status_says_nothing_matched_the_recipient(page, login, alice, seeded):
    login(alice)
    page.goto(f"/messages/?recipient=nobody@example.com&{DATES}")
    text = _empty_text(page)
    assert "Nothing matched" in text
    assert "Recipient address: “nobody@example.com”" in text
    assert "From: “2026-11-27”" in text
    assert page.locator("#messages-table").count() == 0
    assert "0 messages" in page.locator("main").inner_text()
    assert page.locator("#export-csv").is_visible()


def test_email_status_names_the_status_by_its_label(page, login, alice, seeded):
    login(alice)
    page.goto(f"/messages/?status=deferred&recipient=ann@gmail.com&{DATES}")
    text = _empty_text(page)
    assert "Status: “Deferred”" in text
    assert "Recipient address: “ann@gmail.com”" in text


@pytest.mark.parametrize(
    ("path", "things"),
    [
        ("/bounced/", "bounced events"),
        ("/open-click/", "open/click events"),
        ("/spam-reports/", "spam report events"),
        ("/unsubscriptions/", "unsubscription events"),
    ],
)
def test_report_event_lists_say_what_was_searched(page, login, alice, account, path, things):
    login(alice)
    page.goto(f"{path}?start=2020-01-01&end=2020-01-02")
    text = _empty_text(page)
    assert f"No {things} found for this search" in text
    assert "2020-01-01" in text


@pytest.mark.parametrize(
    "path",
    [
        "/blocklist/invalid/",
        "/blocklist/invalid/mine/",
        "/blocklist/rejects/",
        "/blocklist/custom/",
        "/blocklist/history/",
    ],
)
def test_blocklist_lists_say_what_was_searched(page, login, alice, account, path):
    login(alice)
    page.goto(path)
    first = _empty_text(page)
    assert "Nothing matched" not in first  # no search yet: says the list is empty
    page.goto(f"{path}?address=nobody@example.com")
    text = _empty_text(page)
    assert "Nothing matched" in text
    assert "Address: “nobody@example.com”" in text


@pytest.mark.parametrize(
    ("path", "text"), [("/account/api-keys/", "No keys yet"), ("/account/tc3-keys/", "No TC3")]
)
def test_key_lists_say_there_are_none_yet(page, login, alice, account, path, text):
    login(alice)
    page.goto(path)
    assert text in _empty_text(page)


@pytest.mark.parametrize("width", [1366, 360])
def test_the_queue_page_says_when_a_range_holds_no_mail(page, login, alice, seeded, width):
    page.set_viewport_size({"width": width, "height": 800})
    login(alice)
    page.goto("/queue/?range=custom&start=2026-11-27&end=2026-11-28")
    assert page.locator(".empty").count() == 0
    page.goto("/queue/?range=custom&start=2026-10-01&end=2026-10-02&sender_domain=pay.example.com")
    text = _empty_text(page)
    assert "No mail found for this search" in text
    assert "Range: “Custom”" in text
    assert "Sender domain: “pay.example.com”" in text
