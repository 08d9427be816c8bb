"""axe-core finds no accessibility violation on the console's own pages, wide and narrow."""

from __future__ import annotations

import pytest

from delivery.ingest import ingest_events
from tests.blocklist.conftest import bounce, recipient_event
from tests.browser.axe import AXE, violations
from tests.scenarios import scenario_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATES = "start=2026-11-27&end=2026-11-28"
PAGES = [
    f"/queue/?range=custom&{DATES}",
    "/queue/?range=custom&start=2026-11-28&end=2026-11-27",
    "/queue/?range=custom&start=2026-10-01&end=2026-10-02",
    f"/messages/?{DATES}",
    "/messages/?recipient=nobody@example.com",
    "/messages/?start=garbage",
    "/messages/m1/",
    f"/bounced/?{DATES}",
    f"/open-click/?{DATES}",
    f"/spam-reports/?{DATES}",
    f"/unsubscriptions/?{DATES}",
    "/messages/send-test/",
    "/blocklist/",
    "/blocklist/?q=gone@example.com%0Afine@example.com%0Anot-an-address",
    "/blocklist/invalid/",
    "/blocklist/invalid/mine/",
    "/blocklist/rejects/",
    "/blocklist/custom/",
    "/blocklist/custom/?start=garbage",
    "/blocklist/custom/upload/",
    "/blocklist/history/",
    "/account/api-keys/",
    "/account/tc3-keys/",
    "/messages/tracking/",
    "/no-such-page/",
]


@pytest.fixture
def seeded(account):
    ingest_events(account, scenario_events())
    bounce(account, "gone@example.com")
    recipient_event(account, "ann@gmail.com", "complained")


def _add_custom_block(page):
    page.goto("/blocklist/custom/")
    page.fill("#add-addresses", "held@example.com")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector(".messages")


def test_axe_core_is_installed():
    assert AXE.is_file(), "run `make install` (npm ci) to install axe-core"


@pytest.mark.parametrize("width", [1366, 390])
def test_console_pages_have_no_violations(page, login, alice, seeded, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(alice)
    _add_custom_block(page)
    found = {}
    for path in PAGES:
        page.goto(path)
        if page.locator("canvas[data-chart]").count():
            page.wait_for_selector("canvas[data-ready]")
        if width < 900:
            page.get_by_role("button", name="Menu").click()
        if problems := violations(page):
            found[path] = problems
    assert found == {}


def test_the_sign_in_page_has_no_violations(page, alice):
    page.goto("/login/")
    assert violations(page) == []
    page.fill("#id_username", "alice")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert violations(page) == []


def test_the_check_finds_a_violation_when_there_is_one(page, login, alice, account):
    login(alice)
    page.goto("/messages/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x>')")
    page.evaluate("document.querySelector('#id_recipient').removeAttribute('id')")
    found = violations(page)
    assert any(v.startswith("image-alt:") for v in found)
    assert any(v.startswith("label:") for v in found)


DESCRIBED_BY = """() => Array.from(document.querySelectorAll('[aria-describedby]')).flatMap(el =>
  el.getAttribute('aria-describedby').split(/\\s+/).map(id => {
    const target = document.getElementById(id);
    return {field: el.id, ref: id, found: !!target,
            visible: !!target && target.getClientRects().length > 0,
            text: target ? target.innerText.trim() : ''};
  }))"""


@pytest.mark.parametrize("width", [1366, 360])
def test_filter_help_is_shown_where_fields_point_to_it(page, login, alice, seeded, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(alice)
    for path in [
        f"/messages/?{DATES}",
        "/messages/?start=garbage",
        f"/bounced/?{DATES}",
        "/queue/?range=custom&start=garbage&end=2026-11-28",
        "/blocklist/custom/?start=garbage",
        "/blocklist/history/?end=garbage",
    ]:
        page.goto(path)
        refs = page.evaluate(DESCRIBED_BY)
        assert refs, path
        for ref in refs:
            assert ref["found"] and ref["visible"] and ref["text"], (path, ref)

    page.goto(f"/messages/?{DATES}")
    help_end = page.locator("#id_end_helptext")
    assert help_end.is_visible()
    assert "at most 31 days" in help_end.inner_text()
    assert "id_end_helptext" in page.locator("#id_end").get_attribute("aria-describedby")

    page.goto("/messages/?start=garbage")
    assert "id_start_error" in page.locator("#id_start").get_attribute("aria-describedby")
    assert page.locator("#id_start_error").is_visible()


def test_the_api_docs_page_names_its_language(page):
    page.goto("/api/docs/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.wait_for_selector(".swagger-ui .info")
    assert violations(page, ["html-has-lang", "html-lang-valid", "document-title"]) == []


def test_the_unsubscribe_page_has_no_violations(page, account):
    from delivery import tracking
    from tests.factories import MessageFactory

    MessageFactory(account=account, message_id="msg-9", recipient="dave@gmail.com")
    page.goto(tracking.unsubscribe_url(account.pk, "msg-9").removeprefix("http://127.0.0.1:8000"))
    assert violations(page) == []
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("status").wait_for()
    assert violations(page) == []


@pytest.mark.parametrize("width", [1366, 390])
def test_a_held_verdicts_notes_have_no_violations(
    page, login, alice, account, other_account, settings, width
):
    from datetime import timedelta

    from django.utils import timezone

    from delivery.models import Message
    from tests.blocklist.test_surges import bounces, people

    settings.INVALID_SURGE_MIN_VERDICTS = 5
    an_hour_ago = timezone.now() - timedelta(hours=1)
    bounces(account, ["first@elsewhere.test"], an_hour_ago - timedelta(days=3))
    bounces(account, people(5), an_hour_ago)
    bounces(other_account, ["theirs@gmail.test"], an_hour_ago + timedelta(minutes=1))
    bounces(account, people(2, start=5), an_hour_ago + timedelta(minutes=2))
    message = Message.objects.get(account=account, recipient="user6@gmail.test")
    day = an_hour_ago.date()

    page.set_viewport_size({"width": width, "height": 900})
    login(alice)
    found = {}
    for path, note in [
        ("/blocklist/?q=user6@gmail.test", ".surge-held"),
        (f"/messages/id/{message.message_id}/", "#surge-held"),
        (f"/bounced/?start={day - timedelta(days=1)}&end={day + timedelta(days=1)}", ".held"),
    ]:
        page.goto(path)
        assert page.locator(note).first.is_visible(), path
        if width < 900:
            page.get_by_role("button", name="Menu").click()
        if problems := violations(page):
            found[path] = problems
    assert found == {}
