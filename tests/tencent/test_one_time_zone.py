"""One time zone everywhere: with an account in a half-hour-offset zone (Asia/Kolkata,
UTC+05:30), the same dates select the same rows on the pages, in the CSV downloads, in the
REST API and in the Tencent actions, and every one of them shows local times."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine

from blocklist.gate import check
from blocklist.models import Block
from delivery.ingest import ingest_events
from sesconsole.models import ApiKey
from tencent.models import Tc3Key
from tests.events import make_event

from .conftest import call

pytestmark = pytest.mark.django_db

# 19:00 UTC on the 27th is 00:30 on the 28th in Kolkata: a UTC day would put it a day early.
BOUNCED_AT = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
LOCAL_DAY, UTC_DAY = "2026-11-28", "2026-11-27"
ADDRESS = "gone@example.com"


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def _days(day: str) -> dict:
    return {"start": day, "end": day}


@pytest.fixture
def kolkata(account):
    account.time_zone = "Asia/Kolkata"
    account.save()
    with time_machine.travel(BOUNCED_AT, tick=True):
        stamp = BOUNCED_AT.isoformat()
        result = ingest_events(
            account,
            [
                make_event("request", "m-kol", timestamp=stamp, to=ADDRESS, subject="Hello"),
                make_event(
                    "bounced",
                    "m-kol",
                    timestamp=stamp,
                    smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
                    bounce_class="invalid_address",
                ),
            ],
        )
        assert result.errors == []
        yield account


def test_blocklist_pages_select_and_show_local_days(alice_client, kolkata):
    for url in ("/blocklist/invalid/", "/blocklist/invalid/mine/", "/blocklist/history/"):
        hit = alice_client.get(url, _days(LOCAL_DAY))
        html = hit.content.decode()
        assert len(hit.context["page"].object_list) >= 1, url
        assert "2026-11-28 00:30" in html and "Asia/Kolkata" in html, url
        miss = alice_client.get(url, _days(UTC_DAY))
        assert len(miss.context["page"].object_list) == 0, url


def test_the_blocking_query_shows_local_times(alice_client, kolkata):
    html = alice_client.get("/blocklist/", {"q": ADDRESS}).content.decode()
    assert "Since 2026-11-28 00:30" in html and "Asia/Kolkata" in html


def test_the_blocklist_api_selects_local_days(api_client, kolkata):
    url = "/api/v1/blocklist/invalid/"
    assert api_client.get(url, _days(LOCAL_DAY)).json()["count"] == 1
    assert api_client.get(url, _days(UTC_DAY)).json()["count"] == 0


def test_delivery_pages_exports_and_api_select_local_days(alice_client, api_client, kolkata):
    page = alice_client.get("/messages/", _days(LOCAL_DAY))
    assert [m.message_id for m in page.context["page"].object_list] == ["m-kol"]
    assert "Asia/Kolkata" in page.content.decode()
    assert not alice_client.get("/messages/", _days(UTC_DAY)).context["page"].object_list
    [row] = _csv(alice_client.get("/messages/", {**_days(LOCAL_DAY), "export": "csv"}))
    assert row["requested_at"] == "2026-11-27T19:00:00.000Z"  # unchanged: UTC
    assert row["requested_at_local"] == "2026-11-28T00:30:00.000+05:30"
    assert row["time_zone"] == "Asia/Kolkata"
    assert _csv(alice_client.get("/messages/", {**_days(UTC_DAY), "export": "csv"})) == []
    [api_row] = _csv(api_client.get("/api/v1/messages/export/", _days(LOCAL_DAY)))
    assert api_row["requested_at_local"] == row["requested_at_local"]
    assert api_client.get("/api/v1/messages/", _days(UTC_DAY)).json()["count"] == 0

    bounced = alice_client.get("/bounced/", _days(LOCAL_DAY))
    assert dict(bounced.context["totals"])["Bounced"] == 1
    [event] = _csv(alice_client.get("/bounced/", {**_days(LOCAL_DAY), "export": "rows"}))
    assert event["timestamp_local"] == "2026-11-28T00:30:00.000+05:30"
    [bucket] = _csv(alice_client.get("/bounced/", {**_days(LOCAL_DAY), "export": "counts"}))
    assert bucket["bucket_start"] == "2026-11-28T00:00:00+05:30"
    assert bucket["time_zone"] == "Asia/Kolkata"
    assert dict(alice_client.get("/bounced/", _days(UTC_DAY)).context["totals"])["Bounced"] == 0


def test_tencent_actions_select_local_days(ses, kolkata):
    hit = call(
        ses, "ListBlackEmailAddress", StartDate=LOCAL_DAY, EndDate=LOCAL_DAY, Limit=10, Offset=0
    )
    assert hit["TotalCount"] == 1
    assert hit["BlackList"][0]["BounceTime"] == "2026-11-28 00:30:00"
    miss = call(
        ses, "ListBlackEmailAddress", StartDate=UTC_DAY, EndDate=UTC_DAY, Limit=10, Offset=0
    )
    assert miss["TotalCount"] == 0
    status = call(ses, "GetSendEmailStatus", RequestDate=LOCAL_DAY, Offset=0, Limit=10)
    assert [s["ToEmailAddress"] for s in status["EmailStatusList"]] == [ADDRESS]
    status = call(ses, "GetSendEmailStatus", RequestDate=UTC_DAY, Offset=0, Limit=10)
    assert status["EmailStatusList"] == []


@time_machine.travel(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tick=False)
def test_a_custom_block_expires_at_the_end_of_the_local_day(alice_client, api_client, ses, account):
    account.time_zone = "Asia/Kolkata"
    account.save()
    alice_client.post(
        "/blocklist/custom/add/", {"addresses": "pin@x.org", "expires_on": "2026-12-31"}
    )
    call(ses, "CreateCustomBlacklist", Emails=["sdk@x.org"], ExpireDate="2026-12-31")
    for address in ("pin@x.org", "sdk@x.org"):
        block = Block.objects.custom().get(address=address)
        # The end of 12/31 in Kolkata, not the next UTC midnight.
        assert block.expires_at == datetime(2026, 12, 31, 18, 30, tzinfo=UTC)
    page = alice_client.get("/blocklist/custom/")
    html = page.content.decode()
    assert "2026-12-31" in html and "2027-01-01" not in html
    api = api_client.get("/api/v1/blocklist/custom/").json()["results"]
    assert {row["expires_on"] for row in api} == {"2026-12-31"}
    tencent = call(ses, "ListCustomBlacklist", Offset=0, Limit=10, Status=2)
    assert {row["ExpireDate"] for row in tencent["Data"]} == {"2026-12-31"}
    edit = alice_client.get(f"/blocklist/custom/{block.pk}/").content.decode()
    assert 'value="2026-12-31"' in edit and "Asia/Kolkata" in edit

    with time_machine.travel(datetime(2026, 12, 31, 18, 29, tzinfo=UTC), tick=False):
        assert check(account, ["pin@x.org"])["pin@x.org"].blocked  # 23:59 on 12/31 local
    with time_machine.travel(datetime(2026, 12, 31, 18, 31, tzinfo=UTC), tick=False):
        assert not check(account, ["pin@x.org"])["pin@x.org"].blocked  # 00:01 on 1/1 local


@time_machine.travel(datetime(2026, 12, 31, 19, 0, tzinfo=UTC), tick=False)
def test_today_is_the_local_today_for_expiry_dates(api_client, account):
    """At 00:30 on 1/1 in Kolkata, 12/31 is already past."""
    account.time_zone = "Asia/Kolkata"
    account.save()
    response = api_client.post(
        "/api/v1/blocklist/custom/",
        {"addresses": ["late@x.org"], "expires_on": "2026-12-31"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "expiry_in_past"


@time_machine.travel(BOUNCED_AT, tick=False)
def test_key_pages_show_local_times(alice_client, account):
    account.time_zone = "Asia/Kolkata"
    account.save()
    ApiKey.issue(account, name="pipeline")
    Tc3Key.issue(account, name="sdk")
    for url in ("/account/api-keys/", "/account/tc3-keys/"):
        html = alice_client.get(url).content.decode()
        assert "2026-11-28 00:30" in html and "Times are in Asia/Kolkata." in html, url
