"""In a real browser, at desktop and phone widths: blocklist times in the account's zone,
named on the page; a bad queue filter shows the form and its error, and no figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from delivery.ingest import ingest_events
from tests.events import make_event
from tests.scenarios import scenario_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [(1366, 900), (390, 844)]


def _bounced_day() -> date:
    """The bounce's day, three days ago: its block is released 180 days after it."""
    return timezone.now().date() - timedelta(days=3)


@pytest.fixture
def kolkata(account):
    account.time_zone = "Asia/Kolkata"
    account.save()
    stamp = f"{_bounced_day()}T19:00:00Z"  # 00:30 on the next day in Kolkata
    ingest_events(
        account,
        [
            *scenario_events(),
            make_event("request", "m-kol", timestamp=stamp, to="gone@example.com"),
            make_event(
                "bounced",
                "m-kol",
                timestamp=stamp,
                smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
                bounce_class="invalid_address",
            ),
        ],
    )
    return account


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_blocklist_lists_local_days_and_names_the_zone(page, login, alice, kolkata, width, height):
    page.set_viewport_size({"width": width, "height": height})
    login(alice)
    bounced = _bounced_day()
    local_day = bounced + timedelta(days=1)
    page.goto(f"/blocklist/invalid/?start={local_day}&end={local_day}")
    assert "Asia/Kolkata" in page.locator("#timezone-note").inner_text()
    row = page.locator("#blocks tbody tr", has_text="gone@example.com")
    assert f"{local_day} 00:30" in row.inner_text()
    page.goto(f"/blocklist/invalid/?start={bounced}&end={bounced}")
    assert page.locator("#blocks tbody tr", has_text="gone@example.com").count() == 0

    page.goto("/blocklist/rejects/?start=garbage")
    assert page.locator("#filter-invalid").is_visible()
    assert page.locator("#id_start_error").inner_text() == "Enter a valid date."


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_a_bad_queue_filter_shows_no_figures(page, login, alice, kolkata, width, height):
    page.set_viewport_size({"width": width, "height": height})
    login(alice)
    page.goto("/queue/?range=custom&start=garbage&end=2026-11-28&sender_domain=mail.example.com")
    assert page.locator("#queue-invalid").is_visible()
    assert page.locator("#id_start_error").inner_text() == "Enter a valid date."
    assert page.locator(".tile").count() == 0
    assert page.locator("#queue-chart").count() == 0
    assert page.locator("#id_end").input_value() == "2026-11-28"
    assert page.locator("#id_sender_domain").input_value() == "mail.example.com"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
