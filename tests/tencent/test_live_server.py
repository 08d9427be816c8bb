"""The official SDK against the real server over HTTP: every action's round trip, the
authentication failures, tenancy, and SendEmail to a blocked address.

Behaviour in detail (filters, limits, error codes) is tested in-process in the other modules.
"""

from __future__ import annotations

import base64
import time

import pytest
import tencentcloud.common.abstract_client as abstract_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from blocklist.models import Block
from delivery.ingest import ingest_events
from delivery.sending import add_sender_identity
from tests.blocklist.conftest import bounce
from tests.events import make_event
from tests.tencent.conftest import EXPIRES, call

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("frozen_day")]

TODAY = "2026-11-29"
DAY = {"RequestDate": TODAY, "Offset": 0, "Limit": 100}
MAIL = {
    "FromEmailAddress": "Acme <news@mail.acme.example>",
    "Subject": "November news",
    "Simple": {"Text": base64.b64encode(b"Hello").decode()},
}


@pytest.fixture
def sender(account):
    return add_sender_identity(account, "mail.acme.example", verified=True)


def test_every_action_round_trips(live_ses, account, sender, one_call_per_second):
    sent = call(live_ses, "SendEmail", **MAIL, Destination=["carol@gmail.com"])
    (status,) = call(live_ses, "GetSendEmailStatus", **DAY, MessageId=sent["MessageId"])[
        "EmailStatusList"
    ]
    assert (status["ToEmailAddress"], status["SendStatus"]) == ("carol@gmail.com", 0)

    report = call(live_ses, "GetStatisticsReport", StartDate=TODAY, EndDate=TODAY)
    assert report["OverallVolume"]["AcceptedCount"] == 1

    message_id = status["MessageId"] + "-0"
    ingest_events(account, [make_event("complained", message_id, timestamp=f"{TODAY}T12:00:00Z")])
    abuse = call(live_ses, "GetAbuseReport", StartTime=TODAY, EndTime=TODAY)
    assert [r["OriginalRcptTo"] for r in abuse["Data"]] == ["carol@gmail.com"]

    added = call(live_ses, "CreateCustomBlacklist", Emails=["dave@gmail.com", "bad"])
    assert (added["ValidCount"], added["InvalidCount"]) == (1, 1)
    (row,) = call(live_ses, "ListCustomBlacklist", Offset=0, Limit=10, Status=1)["Data"]
    call(
        live_ses,
        "UpdateCustomBlackList",
        Id=row["Id"],
        Email="dave@gmail.com",
        ExpireDate=EXPIRES,
    )
    (row,) = call(live_ses, "ListCustomBlacklist", Offset=0, Limit=10, Status=2)["Data"]
    assert row["ExpireDate"] == EXPIRES
    call(live_ses, "DeleteCustomBlackList", Emails=["dave@gmail.com"])
    assert call(live_ses, "ListCustomBlacklist", Offset=0, Limit=10, Status=2)["TotalCount"] == 0

    bounce(account, "gone@gmail.com", timestamp=f"{TODAY}T09:00:00Z")
    window = {"StartDate": TODAY, "EndDate": TODAY, "Offset": 0, "Limit": 10}
    listed = call(live_ses, "ListBlackEmailAddress", **window)
    assert [r["EmailAddress"] for r in listed["BlackList"]] == ["gone@gmail.com"]
    call(live_ses, "DeleteBlackList", EmailAddressList=["gone@gmail.com"])
    assert call(live_ses, "ListBlackEmailAddress", **window)["TotalCount"] == 0


def test_sending_to_a_blocked_address_fails_and_shows_in_the_status(live_ses, account, sender):
    bounce(account, "gone@gmail.com", timestamp=f"{TODAY}T09:00:00Z")
    with pytest.raises(TencentCloudSDKException) as exc:
        call(live_ses, "SendEmail", **MAIL, Destination=["gone@gmail.com"])
    assert exc.value.code == "FailedOperation.EmailAddrInBlacklist"
    rows = call(live_ses, "GetSendEmailStatus", **DAY, ToEmailAddress="gone@gmail.com")
    assert [(r["SendStatus"], r["DeliverStatus"]) for r in rows["EmailStatusList"]] == [(1007, 2)]


def test_a_wrong_key_fails_with_signature_failure(make_live_ses, tc3_key):
    with pytest.raises(TencentCloudSDKException) as exc:
        call(make_live_ses(tc3_key[0], "not-the-key"), "GetSendEmailStatus", **DAY)
    assert exc.value.code == "AuthFailure.SignatureFailure"
    assert exc.value.requestId


class _ClockOf:
    def __init__(self, seconds_ago: int):
        self.seconds_ago = seconds_ago

    def time(self) -> float:
        return time.time() - self.seconds_ago


def test_an_old_timestamp_fails_with_signature_expire(live_ses, monkeypatch):
    monkeypatch.setattr(abstract_client, "time", _ClockOf(seconds_ago=301))  # the SDK's only
    with pytest.raises(TencentCloudSDKException) as exc:
        call(live_ses, "GetSendEmailStatus", **DAY)
    assert exc.value.code == "AuthFailure.SignatureExpire"


def test_one_accounts_keys_never_see_anothers_data(live_ses, live_other_ses, account, sender):
    call(live_ses, "SendEmail", **MAIL, Destination=["carol@gmail.com"])
    call(live_ses, "CreateCustomBlacklist", Emails=["dave@gmail.com"])
    bounce(account, "gone@gmail.com", timestamp=f"{TODAY}T09:00:00Z")
    ingest_events(account, [make_event("complained", "m-x", timestamp=f"{TODAY}T12:00:00Z")])

    other = live_other_ses
    assert call(other, "GetSendEmailStatus", **DAY)["EmailStatusList"] == []
    stats = call(other, "GetStatisticsReport", StartDate=TODAY, EndDate=TODAY)
    assert stats["OverallVolume"]["RequestCount"] == 0
    assert call(other, "GetAbuseReport", StartTime=TODAY, EndTime=TODAY)["TotalCount"] == 0
    assert call(other, "ListCustomBlacklist", Offset=0, Limit=10, Status=2)["TotalCount"] == 0
    window = {"StartDate": TODAY, "EndDate": TODAY, "Offset": 0, "Limit": 10}
    assert call(other, "ListBlackEmailAddress", **window)["TotalCount"] == 0
    call(other, "DeleteCustomBlackList", Emails=["dave@gmail.com"])
    assert Block.objects.custom().active().filter(account=account).count() == 1
