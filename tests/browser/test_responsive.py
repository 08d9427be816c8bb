"""The console on phone-sized screens (from 360 px) and on a 1366 px laptop."""

from __future__ import annotations

import pytest

from delivery.ingest import ingest_events
from tests.events import make_event
from tests.scenarios import scenario_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATES = "start=2026-11-27&end=2026-11-28"
PAGES = [
    f"/queue/?range=custom&{DATES}",
    f"/messages/?{DATES}",
    "/messages/?recipient=nobody@example.com",
    "/messages/id/m1/",
    f"/bounced/?{DATES}",
    f"/open-click/?{DATES}",
    "/blocklist/",
    "/blocklist/invalid/",
    "/blocklist/custom/",
    "/blocklist/custom/upload/",
    "/blocklist/history/",
    "/account/api-keys/",
    "/account/tc3-keys/",
    "/messages/send-test/",
]


@pytest.fixture
def seeded(account):
    ingest_events(account, scenario_events())


def _overflow(page, selector: str) -> int:
    """How many pixels an element's content sticks out sideways (0: it fits)."""
    return page.evaluate(
        "s => { const e = document.querySelector(s); return e.scrollWidth - e.clientWidth; }",
        selector,
    )


@pytest.mark.parametrize("width", [360, 390])
def test_pages_fit_a_phone_without_sideways_scrolling(page, login, alice, seeded, width):
    page.set_viewport_size({"width": width, "height": 800})
    login(alice)
    for path in PAGES:
        page.goto(path)
        assert _overflow(page, "html") <= 0, path
        assert _overflow(page, ".topbar") <= 0, path
        assert not page.locator("#console-nav").is_visible(), path
        main = page.locator("main").bounding_box()
        assert main["width"] >= width - 1, path
        # Wide tables scroll inside their own box, which keyboard users can focus.
        for wrap in page.locator(".table-wrap").all():
            assert wrap.get_attribute("tabindex") == "0"
            if wrap.is_visible():  # the queue's table sits in a closed <details>
                assert wrap.bounding_box()["width"] <= width


@pytest.mark.parametrize("width", [360, 390])
def test_the_menu_button_opens_and_closes_the_navigation(page, login, alice, account, width):
    page.set_viewport_size({"width": width, "height": 800})
    login(alice)
    page.goto("/messages/")
    toggle = page.get_by_role("button", name="Menu")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.get_by_role("link", name="Bounced").is_visible()
    assert not page.get_by_role("link", name="API keys").is_visible()

    # Keyboard only: the skip link, then the button; Enter opens, Tab walks into the links.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "nav-toggle"
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("link", name="Bounced").is_visible()
    assert page.get_by_role("link", name="API keys").is_visible()
    assert _overflow(page, ".topbar") <= 0
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#account-links') !== null")

    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.className") == "nav-toggle"
    assert not page.get_by_role("link", name="Bounced").is_visible()

    toggle.click()
    page.get_by_role("link", name="Bounced").click()
    page.wait_for_url("**/bounced/**")
    assert page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "false"


@pytest.mark.parametrize("width", [360, 390])
def test_charts_follow_the_screen_width(page, login, alice, seeded, width):
    page.set_viewport_size({"width": width, "height": 800})
    login(alice)
    for path, canvas in [
        (f"/queue/?range=custom&{DATES}", "#queue-chart"),
        (f"/bounced/?{DATES}", "#report-chart"),
    ]:
        page.goto(path)
        page.wait_for_selector("canvas[data-ready]")
        box = page.locator(canvas).bounding_box()
        assert width - 80 <= box["width"] <= width - 20, (path, box)
        assert box["height"] >= 200


def test_widening_the_window_redraws_the_chart(page, login, alice, seeded):
    page.set_viewport_size({"width": 390, "height": 800})
    login(alice)
    page.goto(f"/queue/?range=custom&{DATES}")
    page.wait_for_selector("canvas[data-ready]")
    narrow = page.locator("#queue-chart").bounding_box()["width"]
    page.set_viewport_size({"width": 1366, "height": 800})
    page.wait_for_function(
        "w => document.getElementById('queue-chart').getBoundingClientRect().width > w + 400",
        arg=narrow,
    )


def test_a_laptop_shows_the_navigation_and_every_email_status_column(page, login, alice, seeded):
    page.set_viewport_size({"width": 1366, "height": 800})
    login(alice)
    page.goto(f"/messages/?{DATES}")
    assert page.locator("#console-nav").is_visible()
    assert not page.get_by_role("button", name="Menu").is_visible()
    engagement = page.get_by_role("columnheader", name="Engagement")
    box = engagement.bounding_box()
    assert box["x"] + box["width"] <= 1366
    assert _overflow(page, ".table-wrap") <= 0
    assert _overflow(page, "html") <= 0
    assert "Opened" in page.locator("#messages-table").inner_text()


def test_without_script_the_navigation_stays_visible_on_a_phone(browser, live_server, alice):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 360, "height": 800}
    )
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto("/messages/")
    assert page.locator("#console-nav").is_visible()
    assert page.get_by_role("link", name="API keys").is_visible()
    assert not page.locator(".nav-toggle").is_visible()  # a button that could do nothing
    assert _overflow(page, "html") <= 0
    context.close()


# Unbroken runs as machines write them: ids, encoded subjects, replies quoting an address.
LONG_ID = "m-" + "0123456789abcdef" * 7
LONG_SUBJECT = "=?UTF-8?B?" + "SGVsbG8gd29ybGQ" * 14 + "?="
LONG_REPLY = "550-5.1.1 <" + "n" * 64 + "@" + "sub." * 30 + "example.com>:RecipientRejected"


@pytest.mark.parametrize("width", [360, 390])
def test_a_message_with_long_unbroken_values_fits_a_phone(page, login, alice, account, width):
    ingest_events(
        account,
        [
            make_event("request", LONG_ID, to="n" * 64 + "@gmail.com", subject=LONG_SUBJECT),
            make_event(
                "bounced",
                LONG_ID,
                timestamp="2026-11-28T10:01:00Z",
                bounce_class="other",
                smtp={"code": 550, "enhanced": "5.1.1", "text": LONG_REPLY},
            ),
        ],
    )
    page.set_viewport_size({"width": width, "height": 800})
    login(alice)
    page.goto(f"/messages/id/{LONG_ID}/")
    assert LONG_REPLY in page.locator(".card dl.facts").inner_text()
    assert _overflow(page, "html") <= 0
    for value in page.locator("dl.facts dd, #timeline li, h1").all():
        box = value.bounding_box()
        assert box["x"] + box["width"] <= width, value.inner_text()[:40]


def test_a_long_unbroken_flash_message_stays_in_the_window(page, login, alice, account):
    """A whitelist import names each address it could not whitelist, whole."""
    address = "n" * 64 + "@" + "sub." * 40 + "example.com"
    page.set_viewport_size({"width": 1366, "height": 800})
    login(alice)
    page.goto("/blocklist/invalid/")
    page.set_input_files(
        "#whitelist-file",
        files=[{"name": "w.txt", "mimeType": "text/plain", "buffer": address.encode()}],
    )
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_selector(".messages li.msg-warning")
    assert address in page.locator(".messages").inner_text()
    assert _overflow(page, "html") <= 0
    for item in page.locator(".messages li").all():
        box = item.bounding_box()
        assert box["x"] + box["width"] <= 1366
