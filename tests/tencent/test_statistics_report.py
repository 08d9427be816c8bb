"""GetStatisticsReport over the statistics rollups, through the official SDK."""

from __future__ import annotations

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from delivery.ingest import ingest_events
from tests.events import make_event
from tests.tencent.conftest import call

pytestmark = pytest.mark.django_db

ZERO = {
    "RequestCount": 0,
    "AcceptedCount": 0,
    "DeliveredCount": 0,
    "OpenedCount": 0,
    "ClickedCount": 0,
    "BounceCount": 0,
    "UnsubscribeCount": 0,
}


@pytest.fixture
def traffic(account, other_account):
    day1, day2 = "2026-11-27T10:00:00Z", "2026-11-28T10:00:00Z"
    events = [
        make_event("request", "a", timestamp=day1),
        make_event("delivered", "a", timestamp=day1),
        make_event("opened", "a", timestamp=day1),
        make_event("opened", "a", timestamp=day1),
        make_event("clicked", "a", timestamp=day1, url="https://e.x/"),
        make_event("clicked", "a", timestamp=day1, url="https://e.x/2"),
        make_event("request", "b", timestamp=day2, to="b@qq.com"),
        make_event("bounced", "b", timestamp=day2, smtp={"code": 550, "text": "550 no"}),
        make_event("rejected", "c", timestamp=day2, reason="blocklisted"),
        make_event("request", "d", timestamp=day2, **{"from": "x@other.example"}),
        make_event("delivered", "d", timestamp=day2),
        make_event("unsubscribed", "d", timestamp=day2),
    ]
    assert ingest_events(account, events).errors == []
    assert ingest_events(other_account, [make_event("request", "g", timestamp=day2)]).errors == []


def test_it_reports_daily_and_overall_volumes(ses, traffic):
    body = call(ses, "GetStatisticsReport", StartDate="2026-11-26", EndDate="2026-11-28")
    assert body["DailyVolumes"] == [
        {"SendDate": "2026-11-26", **ZERO},
        {
            **ZERO,
            "SendDate": "2026-11-27",
            "RequestCount": 1,
            "AcceptedCount": 1,
            "DeliveredCount": 1,
            "OpenedCount": 2,
            "ClickedCount": 1,
        },
        {
            **ZERO,
            "SendDate": "2026-11-28",
            "RequestCount": 3,
            "AcceptedCount": 2,
            "DeliveredCount": 1,
            "BounceCount": 1,
            "UnsubscribeCount": 1,
        },
    ]
    assert body["OverallVolume"] == {
        "SendDate": "",
        "RequestCount": 4,
        "AcceptedCount": 3,
        "DeliveredCount": 2,
        "OpenedCount": 2,
        "ClickedCount": 1,
        "BounceCount": 1,
        "UnsubscribeCount": 1,
    }


@pytest.mark.parametrize(
    ("filters", "requests"),
    [
        ({"Domain": "other.example"}, 1),
        ({"Domain": "nobody.example"}, 0),
        ({"ReceivingMailboxType": "qq.com"}, 1),
        ({"ReceivingMailboxType": "QQ.com"}, 1),
        ({"ReceivingMailboxType": "163.com"}, 0),
    ],
)
def test_it_filters_by_sender_and_recipient_domain(ses, traffic, filters, requests):
    body = call(ses, "GetStatisticsReport", StartDate="2026-11-28", EndDate="2026-11-28", **filters)
    assert body["OverallVolume"]["AcceptedCount"] == requests


def test_statistics_never_include_another_account(other_ses, traffic):
    body = call(other_ses, "GetStatisticsReport", StartDate="2026-11-27", EndDate="2026-11-28")
    assert body["OverallVolume"]["RequestCount"] == 1


@pytest.mark.parametrize(
    ("start", "end"), [("2026-11-28", "2026-11-27"), ("2026-13-01", "2026-11-27")]
)
def test_bad_dates_are_refused(ses, start, end):
    with pytest.raises(TencentCloudSDKException) as exc:
        call(ses, "GetStatisticsReport", StartDate=start, EndDate=end)
    assert exc.value.code == "InvalidParameterValue.WrongDate"
