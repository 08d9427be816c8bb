"""Suppression-list exports (console and API) and re-importing an export unchanged."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from blocklist import actions, changes, custom
from blocklist.models import Block, Whitelist
from sesconsole.lib.timezones import local_today, zone_of
from tests.blocklist.conftest import bounce, recipient_event

pytestmark = pytest.mark.django_db

BOM = "\ufeff".encode()


def _body(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_console_custom_export_is_excel_friendly_and_uploads_back_unchanged(
    alice_client, account, other_account
):
    custom.add_custom_blocks(
        account,
        ["a@example.com", "-dash@example.com", "=sum@example.com"],
        actor=changes.SYSTEM,
        note='Größe, "quoted", =1+1',
    )
    custom.add_custom_blocks(other_account, ["theirs@example.com"], actor=changes.SYSTEM)
    r = alice_client.get(reverse("blocklist:custom_export"))
    data = _body(r)
    assert data.startswith(BOM)
    assert "attachment;" in r["Content-Disposition"] and "custom-blocks" in r["Content-Disposition"]
    rows = _rows(data)
    assert next(iter(rows[0])) == "address"
    # Cells a spreadsheet would run as formulas are neutralised …
    assert {row["address"] for row in rows} == {
        "a@example.com",
        "'-dash@example.com",
        "'=sum@example.com",
    }
    assert rows[0]["note"].startswith("Größe")

    # … and the upload reads the exported file back as it is, in another account.
    Block.objects.filter(account=account).delete()
    upload = SimpleUploadedFile("custom-blocks.csv", data, "text/csv")
    r = alice_client.post(
        reverse("blocklist:custom_upload"), {"file": upload}, HTTP_ACCEPT="application/json"
    )
    report = r.json()
    assert (report["total"], report["valid"], report["invalid"]) == (3, 3, 0), report
    assert set(Block.objects.custom().for_account(account).values_list("address", flat=True)) == {
        "a@example.com",
        "-dash@example.com",
        "=sum@example.com",
    }


def test_console_export_follows_the_page_filter(alice_client, account):
    custom.add_custom_blocks(account, ["a@example.com", "b@example.com"], actor=changes.SYSTEM)
    data = _body(alice_client.get(reverse("blocklist:custom_export"), {"address": "b@example.com"}))
    assert [row["address"] for row in _rows(data)] == ["b@example.com"]


def test_my_invalid_blocks_reject_list_and_whitelist_export(alice_client, account, other_account):
    bounce(account, "mine@example.com")
    bounce(other_account, "theirs@example.com")
    bounce(other_account, "vouched@example.com")
    recipient_event(account, "gone@example.com", "unsubscribed")
    recipient_event(other_account, "other@example.com", "unsubscribed")
    actions.whitelist_addresses(account, ["vouched@example.com"], actor=changes.SYSTEM)

    mine = _rows(_body(alice_client.get(reverse("blocklist:my_triggers_export"))))
    assert [(r["address"], r["reason"]) for r in mine] == [("mine@example.com", "invalid_address")]
    assert "user unknown" in mine[0]["response_text"]
    assert mine[0]["blocked_at"].endswith("Z") and mine[0]["blocked_at_ms"].isdigit()

    rejects = _rows(_body(alice_client.get(reverse("blocklist:rejects_export"))))
    assert [(r["address"], r["reason"]) for r in rejects] == [("gone@example.com", "unsubscribed")]

    whitelist = _rows(_body(alice_client.get(reverse("blocklist:whitelist_export"))))
    assert [r["address"] for r in whitelist] == ["vouched@example.com"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/blocklist/invalid/export/?triggered=me", ["mine@example.com"]),
        ("/api/v1/blocklist/rejects/export/", ["gone@example.com"]),
        ("/api/v1/blocklist/custom/export/", ["kept@example.com"]),
        ("/api/v1/blocklist/whitelist/export/", ["vouched@example.com"]),
    ],
)
def test_api_exports_are_plain_utf8_and_scoped(api_client, account, other_account, path, expected):
    bounce(account, "mine@example.com")
    bounce(other_account, "vouched@example.com")
    recipient_event(account, "gone@example.com", "unsubscribed")
    recipient_event(other_account, "other@example.com", "complained")
    custom.add_custom_blocks(account, ["kept@example.com"], actor=changes.SYSTEM)
    custom.add_custom_blocks(other_account, ["hidden@example.com"], actor=changes.SYSTEM)
    actions.whitelist_addresses(account, ["vouched@example.com"], actor=changes.SYSTEM)
    data = _body(api_client.get(path))
    assert not data.startswith(BOM)
    assert [row["address"] for row in _rows(data)] == expected


def test_api_whitelist_lists_only_the_callers(api_client, other_api_client, account, other_account):
    bounce(other_account, "vouched@example.com")
    actions.whitelist_addresses(account, ["vouched@example.com"], actor=changes.SYSTEM)
    r = api_client.get("/api/v1/blocklist/whitelist/")
    assert [w["address"] for w in r.json()["results"]] == ["vouched@example.com"]
    assert other_api_client.get("/api/v1/blocklist/whitelist/").json()["results"] == []


def test_an_api_export_uploads_back_through_the_api(api_client, account):
    custom.add_custom_blocks(account, ["a@example.com", "b@example.com"], actor=changes.SYSTEM)
    data = _body(api_client.get("/api/v1/blocklist/custom/export/"))
    custom.delete_custom_blocks(account, ["a@example.com", "b@example.com"], actor=changes.SYSTEM)
    r = api_client.post(
        "/api/v1/blocklist/custom/upload/",
        {"file": SimpleUploadedFile("x.csv", data, "text/csv")},
        format="multipart",
    )
    assert r.status_code == 200 and r.json()["valid"] == 2


def test_a_whitelist_export_imports_back_unchanged(alice_client, account, other_account):
    bounce(other_account, "a@example.com")
    bounce(other_account, "b@example.com")
    bounce(account, "mine@example.com")
    actions.whitelist_addresses(account, ["a@example.com", "b@example.com"], actor=changes.SYSTEM)
    data = _body(alice_client.get(reverse("blocklist:whitelist_export")))
    actions.unwhitelist_addresses(account, ["a@example.com", "b@example.com"], actor=changes.SYSTEM)
    data += b"mine@example.com,\r\nnobody@example.com\r\n"
    r = alice_client.post(
        reverse("blocklist:whitelist_import"),
        {"file": SimpleUploadedFile("whitelist.csv", data, "text/csv")},
        follow=True,
    )
    html = r.content.decode()
    assert "Whitelisted 2 of 4 address(es)." in html
    assert "Line 4: mine@example.com was blocked by your own sending" in html
    assert "Line 5: nobody@example.com: no invalid-address block to whitelist." in html
    assert set(
        Whitelist.objects.active().for_account(account).values_list("address", flat=True)
    ) == {"a@example.com", "b@example.com"}


def _filename(response) -> str:
    disposition = response["Content-Disposition"]
    return disposition.split('filename="', 1)[1].rstrip('"')


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("blocklist:my_triggers_export", "invalid-blocks-mine"),
        ("blocklist:rejects_export", "reject-list"),
        ("blocklist:custom_export", "custom-blocks"),
        ("blocklist:whitelist_export", "whitelist"),
    ],
)
def test_an_unfiltered_export_is_named_as_everything_up_to_today(alice_client, account, url, what):
    today = local_today(zone_of(account))
    assert _filename(alice_client.get(reverse(url))) == f"acme-{what}-all-to-{today}.csv"


@pytest.mark.parametrize(
    ("days", "named"),
    [
        ({"start": "2026-11-01", "end": "2026-11-30"}, "2026-11-01-to-2026-11-30"),
        ({"start": "2026-11-01"}, "2026-11-01-to-{today}"),
        ({"end": "2026-11-30"}, "all-to-2026-11-30"),
    ],
)
def test_a_filtered_export_is_named_after_the_days_it_covers(alice_client, account, days, named):
    today = local_today(zone_of(account))
    r = alice_client.get(reverse("blocklist:rejects_export"), days)
    assert _filename(r) == f"acme-reject-list-{named.format(today=today)}.csv"


def _three_lists(account) -> None:
    bounce(account, "gone@example.com")
    recipient_event(account, "quit@example.com", "unsubscribed")
    custom.add_custom_blocks(account, ["kept@example.com"], actor=changes.SYSTEM)


@pytest.mark.parametrize(
    ("page", "export", "query", "field", "message"),
    [
        (
            "blocklist:my_triggers",
            "blocklist:my_triggers_export",
            {"start": "garbage"},
            "start",
            "Blocked from: Enter a valid date.",
        ),
        (
            "blocklist:rejects",
            "blocklist:rejects_export",
            {"reason": "zzz"},
            "reason",
            "Reason: Select a valid choice. zzz is not one of the available choices.",
        ),
        (
            "blocklist:custom",
            "blocklist:custom_export",
            {"start": "2026-12-05", "end": "2026-11-01"},
            "end",
            "Blocked until: “Blocked until” must not be before “Blocked from”.",
        ),
        (
            "blocklist:custom",
            "blocklist:custom_export",
            {"reason": "unsubscribed"},  # a reason the page does not offer
            "reason",
            "Reason: Select a valid choice. unsubscribed is not one of the available choices.",
        ),
    ],
)
def test_an_export_refuses_a_filter_its_page_refuses(
    alice_client, account, page, export, query, field, message
):
    _three_lists(account)
    shown = alice_client.get(reverse(page), query)
    assert shown.status_code == 400
    assert 'id="export-csv"' not in shown.content.decode()
    r = alice_client.get(reverse(export), query)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_filter"
    assert r.json()["message"] == message
    assert list(r.json()["details"]) == [field]


@pytest.mark.parametrize(
    ("page", "export"),
    [
        ("blocklist:my_triggers", "blocklist:my_triggers_export"),
        ("blocklist:rejects", "blocklist:rejects_export"),
        ("blocklist:custom", "blocklist:custom_export"),
    ],
)
@pytest.mark.parametrize(
    "query",
    [{}, {"address": "quit@example.com"}, {"reason": "unsubscribed"}, {"reason": "manual"}],
)
def test_an_export_holds_the_rows_its_page_lists(alice_client, account, page, export, query):
    _three_lists(account)
    shown = alice_client.get(reverse(page), query)
    r = alice_client.get(reverse(export), query)
    assert r.status_code == shown.status_code
    if shown.status_code == 200:
        listed = [b.address for b in shown.context["page"].object_list]
        assert [row["address"] for row in _rows(_body(r))] == listed
