"""GetSendEmailStatus and GetAbuseReport over delivery data, through the official SDK."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from delivery.ingest import ingest_events
from tests.events import make_event
from tests.tencent.conftest import call

pytestmark = pytest.mark.django_db


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).timestamp())


@pytest.fixture
def traffic(account, other_account):
    result = ingest_events(
        account,
        [
            make_event("request", "m-delivered", timestamp="2026-11-28T10:00:00Z", subject="Hi"),
            make_event(
                "delivered",
                "m-delivered",
                timestamp="2026-11-28T10:00:05Z",
                smtp={"code": 250, "text": "250 2.0.0 OK"},
            ),
            make_event("opened", "m-delivered", timestamp="2026-11-28T11:00:00Z"),
            make_event(
                "clicked", "m-delivered", timestamp="2026-11-28T11:01:00Z", url="https://e.x/"
            ),
            make_event(
                "complained", "m-delivered", timestamp="2026-11-28T12:00:00Z", ip="203.0.113.9"
            ),
            make_event("request", "m-bounced", timestamp="2026-11-28T10:10:00Z", to="gone@qq.com"),
            make_event(
                "bounced",
                "m-bounced",
                timestamp="2026-11-28T10:10:09Z",
                smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
            ),
            make_event(
                "rejected",
                "m-unsub",
                timestamp="2026-11-28T10:20:00Z",
                to="left@gmail.com",
                reason="unsubscribed",
            ),
            make_event("request", "m-deferred", timestamp="2026-11-28T10:30:00Z", to="s@x.org"),
            make_event(
                "deferred",
                "m-deferred",
                timestamp="2026-11-28T10:31:00Z",
                smtp={"code": 451, "text": "451 try later"},
            ),
            make_event("request", "m-queued", timestamp="2026-11-28T10:40:00Z", to="q@x.org"),
            make_event("request", "m-yesterday", timestamp="2026-11-27T09:00:00Z"),
        ],
    )
    assert result.errors == []
    ingest_events(
        other_account,
        [
            make_event("request", "g-1", timestamp="2026-11-28T10:00:00Z", to="alice@gmail.com"),
            make_event("complained", "g-1", timestamp="2026-11-28T12:00:00Z"),
        ],
    )


def test_it_reports_every_status_of_the_day(ses, traffic):
    body = call(ses, "GetSendEmailStatus", RequestDate="2026-11-28", Offset=0, Limit=100)
    rows = {row["MessageId"]: row for row in body["EmailStatusList"]}
    assert list(rows) == ["m-delivered", "m-bounced", "m-unsub", "m-deferred", "m-queued"]
    assert rows["m-delivered"] == {
        "MessageId": "m-delivered",
        "ToEmailAddress": "alice@gmail.com",
        "FromEmailAddress": "news@mail.example.com",
        "SendStatus": 0,
        "DeliverStatus": 1,
        "DeliverMessage": "250 2.0.0 OK",
        "RequestTime": _epoch("2026-11-28T10:00:00Z"),
        "DeliverTime": _epoch("2026-11-28T10:00:05Z"),
        "UserOpened": True,
        "UserClicked": True,
        "UserUnsubscribed": False,
        "UserComplainted": True,
        "UserComplained": True,
    }
    assert (rows["m-bounced"]["SendStatus"], rows["m-bounced"]["DeliverStatus"]) == (0, 3)
    assert rows["m-bounced"]["DeliverMessage"] == "550 5.1.1 user unknown"
    assert (rows["m-unsub"]["SendStatus"], rows["m-unsub"]["DeliverStatus"]) == (1013, 2)
    assert (rows["m-deferred"]["SendStatus"], rows["m-deferred"]["DeliverStatus"]) == (0, 8)
    assert rows["m-queued"]["DeliverStatus"] == 0
    assert rows["m-queued"]["DeliverTime"] == 0


def test_a_message_whose_request_never_came_is_listed_at_its_first_event(ses, account):
    ingest_events(
        account,
        [
            make_event(
                "bounced",
                "m-lost",
                timestamp="2026-11-28T10:05:00Z",
                to="gone@qq.com",
                smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
            )
        ],
    )
    body = call(ses, "GetSendEmailStatus", RequestDate="2026-11-28", Offset=0, Limit=100)
    [row] = body["EmailStatusList"]
    assert (row["MessageId"], row["ToEmailAddress"]) == ("m-lost", "gone@qq.com")
    assert (row["DeliverStatus"], row["RequestTime"]) == (3, _epoch("2026-11-28T10:05:00Z"))


def test_it_filters_by_message_id_and_recipient(ses, traffic):
    base = {"RequestDate": "2026-11-28", "Offset": 0, "Limit": 100}
    by_id = call(ses, "GetSendEmailStatus", **base, MessageId="m-bounced")
    assert [r["MessageId"] for r in by_id["EmailStatusList"]] == ["m-bounced"]
    by_to = call(ses, "GetSendEmailStatus", **base, ToEmailAddress="Gone@QQ.com")
    assert [r["MessageId"] for r in by_to["EmailStatusList"]] == ["m-bounced"]
    miss = call(ses, "GetSendEmailStatus", **base, ToEmailAddress="nobody@qq.com")
    assert miss["EmailStatusList"] == []


def test_it_pages_with_offset_and_limit(ses, traffic):
    body = call(ses, "GetSendEmailStatus", RequestDate="2026-11-28", Offset=1, Limit=2)
    assert [r["MessageId"] for r in body["EmailStatusList"]] == ["m-bounced", "m-unsub"]


def test_the_day_is_the_accounts_time_zone(ses, account, traffic):
    account.time_zone = "Asia/Shanghai"  # 2026-11-28 in Shanghai ends at 16:00 UTC
    account.save()
    body = call(ses, "GetSendEmailStatus", RequestDate="2026-11-27", Offset=0, Limit=100)
    assert [r["MessageId"] for r in body["EmailStatusList"]] == ["m-yesterday"]


def test_send_status_never_shows_another_accounts_messages(other_ses, traffic):
    body = call(other_ses, "GetSendEmailStatus", RequestDate="2026-11-28", Offset=0, Limit=100)
    assert [r["MessageId"] for r in body["EmailStatusList"]] == ["g-1"]


def test_it_lists_spam_reports(ses, traffic):
    body = call(ses, "GetAbuseReport", StartTime="2026-11-28", EndTime="2026-11-28")
    assert body["TotalCount"] == 1
    (report,) = body["Data"]
    assert report == {
        "DeliverTime": "2026-11-28 10:00:00",
        "OriginalMailFrom": "news@mail.example.com",
        "OriginalRcptTo": "alice@gmail.com",
        "FromDomain": "mail.example.com",
        "ComplainTime": "2026-11-28 12:00:00",
        "Mta": "gmail.com",
        "SourceIp": "203.0.113.9",
        "InsertTime": report["InsertTime"],
        "TemplateId": "",
        "BulkId": "m-delivered",
        "MessageId": "m-delivered",
        "AbuseTime": "2026-11-28 12:00:00",
        "Subject": "Hi",
    }
    assert report["InsertTime"]


@pytest.mark.parametrize(
    ("filters", "hits"),
    [
        ({"FromDomain": "mail.example.com"}, 1),
        ({"FromDomain": "other.example"}, 0),
        ({"FromAddress": "news@mail.example.com"}, 1),
        ({"FromAddress": "promo@mail.example.com"}, 0),
        ({"Mta": "gmail.com"}, 1),
        ({"Mta": "qq.com"}, 0),
        ({"ToAddress": "alice@gmail.com"}, 1),
        ({"ToAddress": "bob@gmail.com"}, 0),
        ({"StartTime": "2026-11-28 12:00:01"}, 0),
        ({"EndTime": "2026-11-28 12:00:00"}, 1),
        ({"EndTime": "2026-11-28 11:59:59"}, 0),
    ],
)
def test_spam_report_filters(ses, traffic, filters, hits):
    params = {"StartTime": "2026-11-28", "EndTime": "2026-11-28", **filters}
    assert call(ses, "GetAbuseReport", **params)["TotalCount"] == hits


def test_spam_reports_never_show_another_accounts(other_ses, traffic):
    body = call(other_ses, "GetAbuseReport", StartTime="2026-11-28", EndTime="2026-11-28")
    assert [r["MessageId"] for r in body["Data"]] == ["g-1"]


def test_a_bad_start_time_is_refused(ses):
    with pytest.raises(TencentCloudSDKException) as exc:
        call(ses, "GetAbuseReport", StartTime="yesterday", EndTime="2026-11-28")
    assert exc.value.code == "InvalidParameter.InvalidStartTimeFormat"


def test_abuse_report_limit_goes_to_1000(ses, traffic):
    assert call(ses, "GetAbuseReport", StartTime="2026-11-28", EndTime="2026-11-28", Limit=1000)
    with pytest.raises(TencentCloudSDKException) as exc:
        call(ses, "GetAbuseReport", StartTime="2026-11-28", EndTime="2026-11-28", Limit=1001)
    assert exc.value.code == "FailedOperation.InvalidLimit"


def test_abuse_report_times_are_in_the_accounts_zone(ses, account, traffic):
    account.time_zone = "Asia/Shanghai"
    account.save()
    body = call(ses, "GetAbuseReport", StartTime="2026-11-28 20:00:00", EndTime="2026-11-28")
    (report,) = body["Data"]
    assert report["ComplainTime"] == "2026-11-28 20:00:00"  # 12:00 UTC
    assert report["DeliverTime"] == "2026-11-28 18:00:00"
