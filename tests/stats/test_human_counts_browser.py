"""The Open/Click page in a real browser: human counts beside the totals, dashed series."""

from __future__ import annotations

import pytest

from delivery.ingest import ingest_events
from tests.scenarios import engagement_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_open_click_draws_human_series_beside_the_totals(page, login, alice, account):
    ingest_events(account, engagement_events())
    login(alice)
    page.goto("/open-click/?start=2026-11-27&end=2026-11-28")
    page.wait_for_selector("canvas[data-ready]")
    tiles = page.locator(".tiles .tile")
    labels = tiles.locator(".label").all_inner_texts()
    values = tiles.locator(".value").all_inner_texts()
    shown = dict(zip(labels, values, strict=True))
    assert (shown["Opens"], shown["Human opens"]) == ("6", "4")
    assert (shown["Clicks"], shown["Human clicks"]) == ("4", "3")
    datasets = page.evaluate(
        "() => Chart.getChart('report-chart').data.datasets.map("
        "d => [d.label, d.data.reduce((a, b) => a + b, 0), d.borderDash.length > 0])"
    )
    assert ["Human opens", 4, True] in datasets
    assert ["Opens", 6, False] in datasets
    header = page.locator("#counts-table thead th").all_inner_texts()
    assert header[1:3] == ["Opens", "Human opens"]
    assert page.locator("#events-table .badge.machine").count() == 3
