"""The blocklist API: every operation, scoped to the caller's account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from blocklist import changes, custom
from blocklist.models import Block
from tests.blocklist.conftest import bounce, recipient_event

pytestmark = pytest.mark.django_db


def test_check_explains_each_address(api_client, account):
    bounce(account, "gone@example.com")
    r = api_client.post(
        "/api/v1/blocklist/check/",
        {"addresses": ["Gone@example.com", "ok@example.com", "junk"]},
        format="json",
    )
    assert r.status_code == 200
    results = {v["address"]: v for v in r.json()["results"]}
    assert results["gone@example.com"]["blocked"] is True
    assert results["gone@example.com"]["kind"] == "invalid"
    assert results["gone@example.com"]["reject_reason"] == "blocklisted"
    assert results["gone@example.com"]["matches"][0]["triggered_by_you"] is True
    assert results["ok@example.com"]["blocked"] is False
    assert results["junk"]["valid"] is False


def test_check_hides_another_accounts_bounce_details(api_client, account, other_account):
    bounce(other_account, "gone@example.com")
    r = api_client.post(
        "/api/v1/blocklist/check/", {"addresses": ["gone@example.com"]}, format="json"
    )
    [verdict] = r.json()["results"]
    assert verdict["blocked"] is True and verdict["kind"] == "invalid"
    [match] = verdict["matches"]
    assert match["triggered_by_you"] is False
    assert (match["response_text"], match["event_id"], match["note"]) == ("", "", "")
    assert "user unknown" not in r.content.decode() and "m-" not in r.content.decode()


def test_check_refuses_an_empty_or_oversized_batch(api_client):
    r = api_client.post("/api/v1/blocklist/check/", {"addresses": []}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    r = api_client.post("/api/v1/blocklist/check/", {"addresses": ["a@b.co"] * 1001}, format="json")
    assert r.status_code == 400


def test_invalid_list_shows_mine_and_hides_other_tenants(api_client, account, other_account):
    bounce(account, "mine@example.com")
    bounce(other_account, "theirs@example.com")
    r = api_client.get("/api/v1/blocklist/invalid/")
    assert r.status_code == 200
    rows = r.json()["results"]
    assert [row["address"] for row in rows] == ["mine@example.com"]
    row = rows[0]
    assert row["account"] == "acme" and row["triggered_by_you"] is True
    assert row["reason"] == "invalid_address" and "user unknown" in row["response_text"]
    assert row["status"] == "active" and row["whitelisted"] is False


def test_invalid_list_filters_by_triggered_and_address(api_client, account, other_account):
    from delivery.ingest import ingest_events
    from tests.events import make_event

    bounce(account, "mine@example.com")
    bounce(other_account, "shared@example.com")
    ingest_events(account, [make_event("request", "x1", to="shared@example.com")])
    r = api_client.get("/api/v1/blocklist/invalid/?triggered=others")
    rows = r.json()["results"]
    assert [row["address"] for row in rows] == ["shared@example.com"]
    assert rows[0]["account"] is None  # another tenant's name stays private
    # ... and so do its recipient server's reply and its event (which names its message).
    assert (rows[0]["response_text"], rows[0]["event_id"], rows[0]["note"]) == ("", "", "")
    assert rows[0]["bounce_evidence"]  # how strong the verdict is may be shown
    r = api_client.get("/api/v1/blocklist/invalid/?address=MINE@example.com")
    assert [row["address"] for row in r.json()["results"]] == ["mine@example.com"]
    r = api_client.get("/api/v1/blocklist/invalid/?address=none@example.com")
    assert r.json()["results"] == []


@pytest.mark.parametrize(
    "csv_url", ["/api/v1/blocklist/invalid/export/", "/api/v1/blocklist/invalid/?format=csv"]
)
def test_another_accounts_block_shows_no_reply_note_or_stops_in_lists_and_exports(
    api_client, account, other_account, settings, csv_url
):
    import csv
    import io

    from blocklist import gate
    from delivery.ingest import ingest_events
    from tests.events import make_event

    bounce(other_account, "shared@example.com")
    bounce(account, "mine@example.com")
    Block.objects.update(note="a private note")
    # The other account tries to mail the address again: a stop of its sending.
    gate.check(other_account, ["shared@example.com"], record_stops=True)
    ingest_events(account, [make_event("request", "x1", to="shared@example.com")])
    rows = {r["address"]: r for r in api_client.get("/api/v1/blocklist/invalid/").json()["results"]}
    theirs, mine = rows["shared@example.com"], rows["mine@example.com"]
    assert (theirs["stopped_count"], theirs["last_stopped_at"]) == (None, None)
    assert (theirs["response_text"], theirs["note"]) == ("", "")
    assert mine["note"] == "a private note" and "user unknown" in mine["response_text"]

    export = api_client.get(csv_url)
    assert export.status_code == 200
    lines = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    by_address = {line["address"]: line for line in lines}
    theirs, mine = by_address["shared@example.com"], by_address["mine@example.com"]
    assert (theirs["response_text"], theirs["note"]) == ("", "")
    assert (theirs["stopped_count"], theirs["last_stopped_at"], theirs["last_stopped_at_ms"]) == (
        "",
        "",
        "",
    )
    assert theirs["bounce_evidence"] and theirs["blocked_at_ms"]
    assert mine["note"] == "a private note" and "user unknown" in mine["response_text"]


def test_remove_and_whitelist_through_the_api(api_client, other_api_client, account, other_account):
    bounce(account, "x@example.com")
    r = other_api_client.post(
        "/api/v1/blocklist/invalid/remove/", {"addresses": ["x@example.com"]}, format="json"
    )
    assert r.json()["refused"][0]["code"] == "triggered_by_another_account"
    r = other_api_client.post(
        "/api/v1/blocklist/invalid/whitelist/", {"addresses": ["x@example.com"]}, format="json"
    )
    assert r.json()["done"] == ["x@example.com"]
    r = api_client.post(
        "/api/v1/blocklist/invalid/remove/", {"addresses": ["x@example.com"]}, format="json"
    )
    assert r.json() == {"done": ["x@example.com"], "refused": [], "not_found": [], "invalid": []}


def test_reject_list(api_client, account, other_account):
    recipient_event(account, "bye@example.com", "unsubscribed")
    recipient_event(other_account, "other@example.com", "complained")
    r = api_client.get("/api/v1/blocklist/rejects/?reason=unsubscribed")
    assert [row["address"] for row in r.json()["results"]] == ["bye@example.com"]
    r = api_client.get("/api/v1/blocklist/rejects/?reason=complained")
    assert r.json()["results"] == []


def test_custom_add_list_update_delete(api_client, account):
    r = api_client.post(
        "/api/v1/blocklist/custom/",
        {"addresses": ["a@example.com", "a@example.com", "bad"], "expires_on": None},
        format="json",
    )
    assert r.status_code == 200
    report = r.json()
    assert (report["total"], report["valid"], report["repeat"], report["invalid"]) == (3, 1, 1, 1)
    r = api_client.get("/api/v1/blocklist/custom/?status=active")
    [row] = r.json()["results"]
    assert row["address"] == "a@example.com" and row["expires_at"] is None
    soon = (timezone.now() + timedelta(days=3)).date().isoformat()
    r = api_client.patch(
        f"/api/v1/blocklist/custom/{row['id']}/",
        {"address": "b@example.com", "expires_on": soon},
        format="json",
    )
    assert r.status_code == 200 and r.json()["address"] == "b@example.com"
    assert r.json()["expires_at"] is not None
    r = api_client.patch(
        f"/api/v1/blocklist/custom/{row['id']}/", {"expires_on": "2020-01-01"}, format="json"
    )
    assert r.status_code == 400 and r.json()["code"] == "expiry_in_past"
    r = api_client.post(
        "/api/v1/blocklist/custom/delete/", {"addresses": ["b@example.com"]}, format="json"
    )
    assert r.json()["done"] == ["b@example.com"]
    assert api_client.get("/api/v1/blocklist/custom/").json()["results"] == []


def test_custom_status_filter_shows_expired(api_client, account):
    custom.add_custom_blocks(account, ["old@example.com", "new@example.com"], actor=changes.SYSTEM)
    Block.objects.filter(address="old@example.com").update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    r = api_client.get("/api/v1/blocklist/custom/?status=expired")
    assert [row["address"] for row in r.json()["results"]] == ["old@example.com"]
    assert r.json()["results"][0]["status"] == "expired"


def test_custom_delete_by_id_and_another_accounts_block_is_404(
    api_client, other_api_client, account
):
    custom.add_custom_blocks(account, ["a@example.com"], actor=changes.SYSTEM)
    block = Block.objects.get()
    assert other_api_client.delete(f"/api/v1/blocklist/custom/{block.pk}/").status_code == 404
    assert (
        other_api_client.patch(
            f"/api/v1/blocklist/custom/{block.pk}/", {"expires_on": None}, format="json"
        ).status_code
        == 404
    )
    assert api_client.delete(f"/api/v1/blocklist/custom/{block.pk}/").status_code == 204


def test_upload_reports_counts(api_client, account):
    data = "\ufeffa@example.com\nA@example.com\nnope\n".encode()
    r = api_client.post(
        "/api/v1/blocklist/custom/upload/",
        {"file": SimpleUploadedFile("list.txt", data, content_type="text/plain")},
        format="multipart",
    )
    assert r.status_code == 200
    assert {k: r.json()[k] for k in ("total", "valid", "repeat", "invalid", "too_long")} == {
        "total": 3,
        "valid": 1,
        "repeat": 1,
        "invalid": 1,
        "too_long": 0,
    }


def test_upload_of_an_empty_file_is_a_400(api_client):
    r = api_client.post(
        "/api/v1/blocklist/custom/upload/",
        {"file": SimpleUploadedFile("list.txt", b"\n\n", content_type="text/plain")},
        format="multipart",
    )
    assert r.status_code == 400 and r.json()["code"] == "empty_file"


def test_auto_block_setting(api_client):
    assert api_client.get("/api/v1/blocklist/auto-block/").json() == {"enabled": False, "days": 7}
    r = api_client.put("/api/v1/blocklist/auto-block/", {"enabled": True, "days": 3}, format="json")
    assert r.json() == {"enabled": True, "days": 3}
    r = api_client.put("/api/v1/blocklist/auto-block/", {"enabled": True, "days": 0}, format="json")
    assert r.status_code == 400


def test_history_lists_removed_blocks_and_hides_other_tenants_actions(
    api_client, other_api_client, account
):
    bounce(account, "x@example.com")
    other_api_client.post(
        "/api/v1/blocklist/invalid/whitelist/", {"addresses": ["x@example.com"]}, format="json"
    )
    api_client.post(
        "/api/v1/blocklist/invalid/remove/", {"addresses": ["x@example.com"]}, format="json"
    )
    rows = api_client.get("/api/v1/blocklist/history/?address=X@Example.com").json()["results"]
    assert [row["action"] for row in rows] == ["removed", "added"]
    theirs = other_api_client.get("/api/v1/blocklist/history/").json()["results"]
    # Whitelisting (and the release of the whitelist when the block was removed) is theirs.
    assert [row["action"] for row in theirs] == ["whitelisted"]


def test_lists_need_an_account(client):
    assert client.get("/api/v1/blocklist/custom/").status_code in (401, 403)


def test_a_custom_block_payload_is_pinned(api_client, account, alice):
    import time_machine

    with time_machine.travel("2026-11-28 10:15:00Z", tick=False):
        custom.add_custom_blocks(
            account,
            ["pinned@example.com"],
            actor=changes.Actor(alice, "alice"),
            expires_on=timezone.now().date() + timedelta(days=2),
            note="asked by support",
        )
        row = api_client.get("/api/v1/blocklist/custom/").json()["results"][0]
    block = Block.objects.get()
    assert row == {
        "id": block.pk,
        "kind": "custom",
        "address": "pinned@example.com",
        "account": "acme",
        "triggered_by_you": None,
        "whitelisted": None,
        "reason": "manual",
        "reason_label": "Added by hand",
        "note": "asked by support",
        "response_text": "",
        "event_id": "",
        "blocked_at": "2026-11-28T10:15:00Z",
        "expires_at": "2026-12-01T00:00:00Z",
        "expires_on": "2026-11-30",
        "status": "active",
        "released_at": None,
        "release_reason": "",
        "stopped_count": 0,
        "last_stopped_at": None,
    }


@pytest.mark.parametrize(
    ("query", "hit"),
    [
        ("reason=upload", True),
        ("reason=manual", False),
        ("start=2026-11-28", True),
        ("start=2026-11-29", False),
        ("end=2026-11-28", True),
        ("end=2026-11-27", False),
        ("status=active", True),
        ("status=expired", False),
        ("address=u@example.com", True),
        ("address=v@example.com", False),
    ],
)
def test_custom_filters_hit_and_miss(api_client, account, query, hit):
    import time_machine

    with time_machine.travel("2026-11-28 10:15:00Z", tick=False):
        custom.upload_custom_blocks(account, b"u@example.com\n", actor=changes.SYSTEM)
        rows = api_client.get(f"/api/v1/blocklist/custom/?{query}").json()["results"]
    assert bool(rows) is hit


@pytest.mark.parametrize(
    ("query", "hit"),
    [
        ("kind=custom", True),
        ("kind=invalid", False),
        ("action=added", True),
        ("action=removed", False),
        ("address=u@example.com", True),
        ("address=v@example.com", False),
    ],
)
def test_history_filters_hit_and_miss(api_client, account, query, hit):
    custom.add_custom_blocks(account, ["u@example.com"], actor=changes.SYSTEM)
    rows = api_client.get(f"/api/v1/blocklist/history/?{query}").json()["results"]
    assert bool(rows) is hit


def test_a_bad_page_size_is_bounded(api_client, account):
    custom.add_custom_blocks(account, [f"u{i}@example.com" for i in range(3)], actor=changes.SYSTEM)
    r = api_client.get("/api/v1/blocklist/custom/?page_size=100000")
    assert r.status_code == 200 and r.json()["count"] == 3


def test_an_expiry_date_past_the_last_day_is_a_clear_error_everywhere(api_client, account):
    far = "9999-12-31"
    added = api_client.post(
        "/api/v1/blocklist/custom/",
        {"addresses": ["z@example.com"], "expires_on": far},
        format="json",
    )
    assert added.status_code == 400 and added.json()["code"] == "invalid_date"
    assert "9999-12-30" in added.json()["message"]
    upload = api_client.post(
        "/api/v1/blocklist/custom/upload/",
        {"file": SimpleUploadedFile("a.txt", b"z@example.com\n"), "expires_on": far},
    )
    assert upload.status_code == 400 and upload.json()["code"] == "invalid_date"
    assert not Block.objects.exists()
    custom.add_custom_blocks(account, ["z@example.com"], actor=changes.SYSTEM)
    block = Block.objects.get()
    changed = api_client.patch(
        f"/api/v1/blocklist/custom/{block.pk}/", {"expires_on": far}, format="json"
    )
    assert changed.status_code == 400 and changed.json()["code"] == "invalid_date"
    block.refresh_from_db()
    assert block.expires_at is None
    # The last day itself is a date like any other.
    kept = api_client.patch(
        f"/api/v1/blocklist/custom/{block.pk}/", {"expires_on": "9999-12-30"}, format="json"
    )
    assert kept.status_code == 200 and kept.json()["expires_on"] == "9999-12-30"


def test_each_result_of_the_blocking_query_names_the_inputs_it_answers(api_client, account):
    given = [
        "Gone@Example.com",
        "gone@example.com",
        "x@Bücher.de",
        "x@xn--bcher-kva.de",
        "bad",
        "BAD",
        "bad",
    ]
    bounce(account, "gone@example.com")
    results = api_client.post("/api/v1/blocklist/check/", {"addresses": given}, format="json")
    inputs = {r["address"]: r["inputs"] for r in results.json()["results"]}
    assert inputs == {
        "gone@example.com": ["Gone@Example.com", "gone@example.com"],
        "x@xn--bcher-kva.de": ["x@Bücher.de", "x@xn--bcher-kva.de"],
        "bad": ["bad", "bad"],
        "BAD": ["BAD"],
    }
    # Every input is answered once.
    assert sorted(i for r in results.json()["results"] for i in r["inputs"]) == sorted(given)
