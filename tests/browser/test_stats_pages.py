"""The statistics pages in a real browser: chart, filters, and CSV downloads."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from delivery.ingest import ingest_events
from stats.models import SeenDomain, Side
from stats.services import DOMAIN_MENU_SIZE
from tests.scenarios import scenario_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATES = "start=2026-11-27&end=2026-11-28"


@pytest.fixture
def seeded(account):
    ingest_events(account, scenario_events())


def _download(page, link_selector: str) -> list[dict]:
    with page.expect_download() as info:
        page.click(link_selector)
    path = info.value.path()
    with open(path, encoding="utf-8-sig") as f:
        return list(csv.DictReader(io.StringIO(f.read())))


def _chart_sum(page, canvas_id: str, dataset: int) -> int:
    return page.evaluate(
        "([id, i]) => Chart.getChart(id).data.datasets[i].data.reduce((a, b) => a + b, 0)",
        [canvas_id, dataset],
    )


def test_queue_status_chart_follows_the_filters(page, login, alice, seeded):
    login(alice)
    page.goto(f"/queue/?range=custom&{DATES}")
    page.wait_for_selector("canvas[data-ready]")
    assert page.locator('.tile[data-key="requests"] .value').inner_text() == "6"
    assert _chart_sum(page, "queue-chart", 0) == 6
    assert page.locator("#custom-dates").is_visible()
    assert "Data as of" in page.locator(".freshness").inner_text()

    page.fill("#id_sender_domain", "pay.example.com")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**sender_domain=pay.example.com**")
    page.wait_for_selector("canvas[data-ready]")
    assert page.locator('.tile[data-key="requests"] .value').inner_text() == "1"
    assert _chart_sum(page, "queue-chart", 0) == 1

    rows = _download(page, "text=Export CSV")
    assert len(rows) == 48
    assert sum(int(r["requests"]) for r in rows) == 1
    assert rows[0]["bucket_start"] == "2026-11-27T00:00:00Z"


def test_queue_status_hides_dates_for_preset_ranges(page, login, alice, seeded):
    login(alice)
    page.goto("/queue/?range=1h")
    page.wait_for_selector("canvas[data-ready]")
    assert not page.locator("#custom-dates").is_visible()
    assert page.locator("[data-refresh]").count() == 1
    page.select_option("#id_range", "custom")
    assert page.locator("#custom-dates").is_visible()


@pytest.mark.parametrize(
    ("url", "total", "rows", "domain"),
    [
        ("/open-click/", "4", 6, "yahoo.com"),
        ("/spam-reports/", "1", 1, "outlook.com"),
        ("/bounced/", "2", 2, "gmail.com"),
        ("/unsubscriptions/", "1", 1, "yahoo.com"),
    ],
)
def test_reports_filter_and_export(page, login, alice, seeded, url, total, rows, domain):
    login(alice)
    page.goto(f"{url}?{DATES}")
    page.wait_for_selector("canvas[data-ready]")
    first_total = page.locator('.tiles [data-total="0"]')
    assert first_total.inner_text() == total
    assert _chart_sum(page, "report-chart", 0) == int(total)

    events = _download(page, "#export-rows")
    assert len(events) == rows
    assert all(r["timestamp_ms"].isdigit() for r in events)
    counts = _download(page, "#export-counts")
    assert [r["bucket_start"] for r in counts] == ["2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"]

    page.fill("#id_recipient_domain", domain)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**recipient_domain={domain}**")
    page.wait_for_selector("canvas[data-ready]")
    assert first_total.inner_text() == "0"
    assert _chart_sum(page, "report-chart", 0) == 0
    assert "No " in page.locator(".empty").inner_text()


def test_open_click_lists_each_open_with_its_user_agent(page, login, alice, seeded):
    login(alice)
    page.goto(f"/open-click/?{DATES}")
    table = page.locator("#events-table")
    assert "Mail/2.0" in table.inner_text()
    rows = _download(page, "#export-rows")
    opens = [r for r in rows if r["type"] == "opened"]
    assert sorted(r["to"] for r in opens) == [
        "ann@gmail.com",
        "ann@gmail.com",
        "bea@gmail.com",
        "dan@gmail.com",
    ]
    assert '\'=HYPERLINK("x")' in {r["user_agent"] for r in opens}


def test_live_range_refreshes_in_place(page, login, alice, account):
    from datetime import UTC, datetime

    from tests.events import make_event

    login(alice)
    page.clock.install()
    page.goto("/queue/?range=1h")
    page.wait_for_selector("canvas[data-ready]")
    sent = page.locator('.tile[data-key="requests"] .value')
    assert sent.inner_text() == "0"
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    ingest_events(account, [make_event("request", "live-1", timestamp=now)])
    page.clock.fast_forward(31_000)
    page.wait_for_function(
        "() => document.querySelector('.tile[data-key=\"requests\"] .value').textContent === '1'"
    )
    assert _chart_sum(page, "queue-chart", 0) == 1


def _table_sums(page) -> list[int]:
    """Each series' sum over the rows of the queue page's table."""
    return page.evaluate(
        """() => {
            const sums = [];
            for (const row of document.querySelectorAll("#queue-table tbody tr")) {
                row.querySelectorAll("td").forEach((td, i) => {
                    sums[i] = (sums[i] || 0) + Number(td.textContent);
                });
            }
            return sums;
        }"""
    )


def test_a_live_refresh_updates_every_figure_on_the_page(page, login, alice, account):
    """Chart, tiles, the table of figures, the latest minute and the empty state move together."""
    from datetime import UTC, datetime

    from tests.events import make_event

    login(alice)
    page.clock.install()
    page.goto("/queue/?range=1h")
    page.wait_for_selector("canvas[data-ready]")
    page.get_by_text("Show the figures as a table").click()
    rows = page.locator("#queue-table tbody tr")
    assert rows.count() == 60
    assert _table_sums(page) == [0, 0, 0, 0]
    assert "latest event" not in page.locator(".freshness").inner_text()
    assert page.locator("#queue-none-yet").is_visible()

    now = datetime.now(UTC)
    stamp = now.isoformat().replace("+00:00", "Z")
    ingest_events(
        account,
        [
            make_event("request", "live-1", timestamp=stamp),
            make_event("request", "live-2", timestamp=stamp),
            make_event("delivered", "live-1", timestamp=stamp),
        ],
    )
    page.clock.fast_forward(31_000)
    page.wait_for_function(
        "() => document.querySelector('.tile[data-key=\"requests\"] .value').textContent === '2'"
    )
    assert _table_sums(page) == [2, 1, 0, 0]
    assert _table_sums(page) == [_chart_sum(page, "queue-chart", i) for i in range(4)]
    assert rows.count() == 60
    minute = now.strftime("%H:%M")
    assert page.locator("#queue-table tbody tr", has_text=minute).inner_text().split() == [
        minute,
        "2",
        "1",
        "0",
        "0",
    ]
    freshness = page.locator(".freshness").inner_text()
    assert f"latest event in minute {now.strftime('%Y-%m-%d %H:%M')}." in freshness
    assert not page.locator("#queue-none-yet").is_visible()


def test_a_domain_filter_suggests_as_the_user_types(page, login, alice, account):
    """An account with more domains than the page carries: typing asks for the rest."""
    now = timezone.now()
    SeenDomain.objects.bulk_create(
        SeenDomain(account=account, side=Side.RECIPIENT, domain=f"d{i:04}.example", last_seen=now)
        for i in range(DOMAIN_MENU_SIZE + 50)
    )
    login(alice)
    page.goto("/bounced/")
    options = page.locator("#id_recipient_domain-suggestions option")
    assert options.count() == DOMAIN_MENU_SIZE
    page.locator("#id_recipient_domain").press_sequentially("d014")
    expect(options).to_have_count(10)  # d0140 … d0149, asked for as typed
    assert options.first.get_attribute("value") == "d0140.example"
    page.fill("#id_recipient_domain", "d0149.example")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**recipient_domain=d0149.example**")
    assert page.locator("#id_recipient_domain").input_value() == "d0149.example"
    assert not page.locator(".error").count()


def test_an_internationalised_domain_is_suggested_and_chosen_as_written(
    page, login, alice, account
):
    """Stored as xn--…, a domain is offered, typed and shown as people write it."""
    now = timezone.now()
    SeenDomain.objects.bulk_create(
        SeenDomain(account=account, side=Side.RECIPIENT, domain=domain, last_seen=now)
        for domain in [
            *(f"d{i:04}.example" for i in range(DOMAIN_MENU_SIZE + 50)),
            "xn--fsqu00a.xn--fiqs8s",  # 例子.中国, past the page's first hundred
        ]
    )
    login(alice)
    page.goto("/bounced/")
    options = page.locator("#id_recipient_domain-suggestions option")
    page.locator("#id_recipient_domain").press_sequentially("例子")
    expect(options).to_have_count(1)
    assert options.first.get_attribute("value") == "例子.中国"
    page.fill("#id_recipient_domain", "例子.中国")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**recipient_domain=**")
    assert page.locator("#id_recipient_domain").input_value() == "例子.中国"
    assert not page.locator(".error").count()
