"""Console CSV downloads open in Excel (UTF-8 with a BOM) and carry account and range in the
file name; API exports stay plain UTF-8."""

from __future__ import annotations

import csv

import pytest

from delivery.ingest import ingest_events
from tests.events import make_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOM = b"\xef\xbb\xbf"
SUBJECT = "Grüße aus Zürich, 北京見本"


@pytest.fixture
def seeded(account):
    ingest_events(
        account,
        [
            make_event("request", "m-1", to="zoë@example.com", subject=SUBJECT),
            make_event(
                "bounced", "m-1", smtp={"code": 550, "text": "550 no"}, bounce_class="other"
            ),
        ],
    )


def _download(page, selector: str):
    with page.expect_download() as info:
        page.click(selector)
    with open(info.value.path(), "rb") as f:
        return info.value.suggested_filename, f.read()


@pytest.mark.parametrize("width", [1366, 390])
def test_console_downloads_start_with_a_bom_and_name_account_and_range(
    page, login, alice, seeded, width
):
    page.set_viewport_size({"width": width, "height": 900})
    login(alice)
    page.goto("/messages/?start=2026-11-27&end=2026-11-28")
    name, body = _download(page, "#export-csv")
    assert name == "acme-email-status-2026-11-27-to-2026-11-28.csv"
    assert body.startswith(BOM)
    rows = list(csv.DictReader(body.decode("utf-8-sig").splitlines()))
    assert rows[0]["subject"] == SUBJECT
    assert next(iter(rows[0])) == "message_id"

    page.goto("/bounced/?start=2026-11-27&end=2026-11-28")
    name, body = _download(page, "#export-rows")
    assert name == "acme-bounced-events-2026-11-27-to-2026-11-28.csv"
    assert body.startswith(BOM) and SUBJECT in body.decode("utf-8-sig")
    name, body = _download(page, "#export-counts")
    assert name == "acme-bounced-counts-2026-11-27-to-2026-11-28.csv"
    assert body.startswith(BOM)

    page.goto("/queue/?range=custom&start=2026-11-27&end=2026-11-28")
    name, body = _download(page, "text=Export CSV")
    assert name == "acme-queue-status-2026-11-27-to-2026-11-28.csv"
    assert body.startswith(BOM)


def test_api_exports_stay_plain_utf8(api_client, seeded):
    response = api_client.get(
        "/api/v1/messages/", {"start": "2026-11-27", "end": "2026-11-28", "format": "csv"}
    )
    body = b"".join(response.streaming_content)
    assert not body.startswith(BOM)
    assert SUBJECT in body.decode("utf-8")
