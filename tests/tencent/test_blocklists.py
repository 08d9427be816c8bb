"""The blocklist actions through the official SDK: invalid-address and custom blocks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from blocklist import gate
from blocklist.models import Block, Whitelist
from tests.blocklist.conftest import bounce
from tests.tencent.conftest import call

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_day")]

WINDOW = {"StartDate": "2026-11-01", "EndDate": "2026-11-30", "Offset": 0, "Limit": 100}


def _addresses(body: dict, key: str = "BlackList", field: str = "EmailAddress") -> list[str]:
    return sorted(row[field] for row in body[key])


@pytest.fixture
def invalid_blocks(account, other_account):
    bounce(account, "gone@gmail.com", timestamp="2026-11-28T10:00:00Z")
    bounce(account, "old@gmail.com", timestamp="2026-11-20T10:00:00Z")
    bounce(other_account, "theirs@qq.com", timestamp="2026-11-28T10:00:00Z")


def test_it_lists_the_invalid_addresses_an_account_may_see(ses, invalid_blocks):
    body = call(ses, "ListBlackEmailAddress", **WINDOW)
    assert body["TotalCount"] == 2
    assert body["BlackList"][0] == {
        "BounceTime": "2026-11-28 10:00:00",
        "EmailAddress": "gone@gmail.com",
        "IspDesc": "550 5.1.1 user unknown",
    }
    assert _addresses(body) == ["gone@gmail.com", "old@gmail.com"]


def test_the_other_account_sees_only_its_own(other_ses, invalid_blocks):
    assert _addresses(call(other_ses, "ListBlackEmailAddress", **WINDOW)) == ["theirs@qq.com"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"EmailAddress": "gone@gmail.com"}, ["gone@gmail.com"]),
        ({"EmailAddress": "nobody@gmail.com"}, []),
        ({"StartDate": "2026-11-25"}, ["gone@gmail.com"]),
        ({"EndDate": "2026-11-21"}, ["old@gmail.com"]),
        ({"TaskID": "ignored"}, ["gone@gmail.com", "old@gmail.com"]),
    ],
)
def test_invalid_address_filters(ses, invalid_blocks, filters, expected):
    assert _addresses(call(ses, "ListBlackEmailAddress", **{**WINDOW, **filters})) == expected


def test_it_pages_the_invalid_addresses(ses, invalid_blocks):
    body = call(ses, "ListBlackEmailAddress", **{**WINDOW, "Offset": 1, "Limit": 1})
    assert (body["TotalCount"], _addresses(body)) == (2, ["old@gmail.com"])


def test_delete_black_list_removes_blocks_the_account_caused(ses, account, invalid_blocks):
    call(ses, "DeleteBlackList", EmailAddressList=["gone@gmail.com"])
    assert not Block.objects.invalid().active().filter(address="gone@gmail.com").exists()
    assert _addresses(call(ses, "ListBlackEmailAddress", **WINDOW)) == ["old@gmail.com"]
    assert gate.check(account, ["gone@gmail.com"])["gone@gmail.com"].blocked is False


def test_delete_black_list_whitelists_anothers_block_for_this_account_only(
    ses, account, other_account, invalid_blocks
):
    call(ses, "DeleteBlackList", EmailAddressList=["theirs@qq.com"])
    assert Block.objects.invalid().active().filter(address="theirs@qq.com").exists()
    assert Whitelist.objects.active().filter(account=account, address="theirs@qq.com").exists()
    assert gate.check(account, ["theirs@qq.com"])["theirs@qq.com"].blocked is False
    assert gate.check(other_account, ["theirs@qq.com"])["theirs@qq.com"].blocked is True


def test_delete_black_list_refuses_a_malformed_address(ses, invalid_blocks):
    with pytest.raises(TencentCloudSDKException) as exc:
        call(ses, "DeleteBlackList", EmailAddressList=["gone@gmail.com", "not an address"])
    assert exc.value.code == "InvalidParameterValue.IllegalEmailAddress"
    assert Block.objects.invalid().active().filter(address="gone@gmail.com").exists()


def test_delete_black_list_needs_addresses(ses):
    with pytest.raises(TencentCloudSDKException) as exc:
        call(ses, "DeleteBlackList", EmailAddressList=[])
    assert exc.value.code == "MissingParameter"


def test_create_custom_blacklist_reports_like_tencent(ses, account):
    # Tencent's own example: one valid, one repeat, one invalid.
    body = call(
        ses,
        "CreateCustomBlacklist",
        Emails=["resrse@sdasd.com", "resrse@sdasd.com", "asdasdasdasd", "x" * 250 + "@a.com"],
    )
    assert {k: v for k, v in body.items() if k != "RequestId"} == {
        "TotalCount": 4,
        "ValidCount": 1,
        "TooLongCount": 1,
        "RepeatCount": 1,
        "InvalidCount": 1,
    }
    block = Block.objects.custom().get(account=account)
    assert (block.address, block.expires_at) == ("resrse@sdasd.com", None)


def test_create_custom_blacklist_needs_emails(ses):
    with pytest.raises(TencentCloudSDKException) as exc:
        call(ses, "CreateCustomBlacklist", Emails=[])
    assert exc.value.code == "MissingParameter.EmailsNecessary"


def test_create_custom_blacklist_refuses_a_past_expiry(ses):
    with pytest.raises(TencentCloudSDKException) as exc:
        call(ses, "CreateCustomBlacklist", Emails=["a@b.com"], ExpireDate="2020-01-01")
    assert exc.value.code == "InvalidParameterValue.WrongDate"


@pytest.fixture
def custom(ses, account):
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    call(ses, "CreateCustomBlacklist", Emails=["keep@x.org"])
    call(ses, "CreateCustomBlacklist", Emails=["soon@x.org"], ExpireDate=tomorrow)
    expired = Block.objects.custom().get(address="soon@x.org")
    Block.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    return tomorrow


@pytest.mark.parametrize(
    ("status", "expected"),
    [(0, ["soon@x.org"]), (1, ["keep@x.org"]), (2, ["keep@x.org", "soon@x.org"])],
)
def test_list_custom_blacklist_by_status(ses, custom, status, expected):
    body = call(ses, "ListCustomBlacklist", Offset=0, Limit=100, Status=status)
    assert body["TotalCount"] == len(expected)
    assert _addresses(body, "Data", "Email") == expected


def test_list_custom_blacklist_rows(ses, account, custom):
    body = call(ses, "ListCustomBlacklist", Offset=0, Limit=100, Status=2, Email="keep@x.org")
    (row,) = body["Data"]
    block = Block.objects.custom().get(address="keep@x.org")
    assert row == {
        "Id": block.pk,
        "Email": "keep@x.org",
        "CreateTime": timezone.localtime(block.blocked_at).strftime("%Y-%m-%d %H:%M:%S"),
        "ExpireDate": "",
        "Status": 1,
    }


def test_list_custom_blacklist_refuses_an_unknown_status(ses):
    with pytest.raises(TencentCloudSDKException) as exc:
        call(ses, "ListCustomBlacklist", Offset=0, Limit=10, Status=3)
    assert exc.value.code == "InvalidParameterValue"


def test_update_custom_black_list_changes_address_and_expiry(ses, custom):
    block = Block.objects.custom().get(address="keep@x.org")
    call(ses, "UpdateCustomBlackList", Id=block.pk, Email="kept@x.org", ExpireDate=custom)
    body = call(ses, "ListCustomBlacklist", Offset=0, Limit=100, Status=1)
    assert [(r["Id"], r["Email"], r["ExpireDate"]) for r in body["Data"]] == [
        (block.pk, "kept@x.org", custom)
    ]
    call(ses, "UpdateCustomBlackList", Id=block.pk, Email="kept@x.org")  # no date: permanent
    block.refresh_from_db()
    assert block.expires_at is None


def test_update_custom_black_list_refuses_a_bad_address(ses, custom):
    block = Block.objects.custom().get(address="keep@x.org")
    with pytest.raises(TencentCloudSDKException) as exc:
        call(ses, "UpdateCustomBlackList", Id=block.pk, Email="nope")
    assert exc.value.code == "InvalidParameterValue.IllegalEmailAddress"


def test_update_never_reaches_another_accounts_entry(other_ses, custom):
    block = Block.objects.custom().get(address="keep@x.org")
    with pytest.raises(TencentCloudSDKException) as exc:
        call(other_ses, "UpdateCustomBlackList", Id=block.pk, Email="stolen@x.org")
    assert exc.value.code == "ResourceNotFound"
    block.refresh_from_db()
    assert block.address == "keep@x.org"


def test_custom_lists_are_per_account(other_ses, custom):
    body = call(other_ses, "ListCustomBlacklist", Offset=0, Limit=100, Status=2)
    assert (body["TotalCount"], body["Data"]) == (0, [])


def test_delete_custom_black_list_by_address(one_call_per_second, ses, other_ses, custom):
    call(other_ses, "DeleteCustomBlackList", Emails=["keep@x.org"])  # not theirs: no effect
    assert Block.objects.custom().active().filter(address="keep@x.org").exists()
    call(ses, "DeleteCustomBlackList", Emails=["keep@x.org"])
    body = call(ses, "ListCustomBlacklist", Offset=0, Limit=100, Status=2)
    assert _addresses(body, "Data", "Email") == ["soon@x.org"]
