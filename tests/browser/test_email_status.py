"""The Email Status page in a real browser: search, sort, detail and CSV."""

from __future__ import annotations

import csv

import pytest

from delivery.ingest import ingest_events
from tests.scenarios import scenario_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(account):
    ingest_events(account, scenario_events())


def test_a_customer_searches_sorts_opens_and_exports(page, login, alice, seeded):
    login(alice)
    page.goto("/messages/?start=2026-11-27&end=2026-11-28")
    rows = page.locator("#messages-table tbody tr")
    assert rows.count() == 7

    page.fill("#id_recipient", "dan@gmail.com")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**recipient=dan**")
    assert rows.count() == 1
    assert "Opened" in rows.first.inner_text()

    page.fill("#id_recipient", "")
    page.select_option("#id_status", "bounced")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**status=bounced**")
    assert rows.count() == 2

    page.select_option("#id_status", "")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="To", exact=True).click()
    page.wait_for_url("**sort=to**")
    assert rows.first.locator("td").nth(2).inner_text() == "ann@gmail.com"
    assert page.locator('th[aria-sort="ascending"]').inner_text().startswith("To")

    with page.expect_download() as info:
        page.click("#export-csv")
    assert info.value.suggested_filename == "acme-email-status-2026-11-27-to-2026-11-28.csv"
    with open(info.value.path(), encoding="utf-8-sig") as f:
        exported = list(csv.DictReader(f))
    assert len(exported) == 7
    assert exported[0]["to"] == "ann@gmail.com"

    page.get_by_role("link", name="m1", exact=True).click()
    timeline = page.locator("#timeline li")
    assert timeline.count() == 6
    assert timeline.first.inner_text().startswith("Request")
