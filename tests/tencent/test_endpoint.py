"""The endpoint through the official SDK: authentication, the envelope, dispatch, tenancy."""

from __future__ import annotations

import json
import time

import pytest
import tencentcloud.common.abstract_client as abstract_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tencent.models import Tc3Key
from tests.tencent.conftest import call

pytestmark = pytest.mark.django_db

QUERY = {"RequestDate": "2026-11-28", "Offset": 0, "Limit": 10}


def _error(client, action: str = "GetSendEmailStatus", **params) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as exc:
        call(client, action, **(params or QUERY))
    return exc.value


def test_it_answers_a_signed_call_in_the_envelope(ses):
    body = call(ses, "GetSendEmailStatus", **QUERY)
    assert body["EmailStatusList"] == []
    assert len(body["RequestId"]) == 36


def test_a_wrong_key_fails_with_signature_failure(make_ses, tc3_key):
    secret_id, _ = tc3_key
    exc = _error(make_ses(secret_id, "not-the-key"))
    assert exc.code == "AuthFailure.SignatureFailure"
    assert exc.requestId


def test_an_unknown_secret_id_fails(make_ses):
    exc = _error(make_ses("AKIDdoesnotexist", "whatever"))
    assert exc.code == "AuthFailure.SecretIdNotFound"


def test_a_revoked_key_fails(make_ses, tc3_key):
    Tc3Key.objects.get(secret_id=tc3_key[0]).revoke()
    exc = _error(make_ses(*tc3_key))
    assert exc.code == "AuthFailure.SecretIdNotFound"


class _ClockOf:
    def __init__(self, seconds_ago: int):
        self.seconds_ago = seconds_ago

    def time(self) -> float:
        return time.time() - self.seconds_ago


def test_an_old_timestamp_fails_with_signature_expire(ses, monkeypatch):
    # Only the SDK's clock goes back; the server's stays.
    monkeypatch.setattr(abstract_client, "time", _ClockOf(seconds_ago=400))
    exc = _error(ses)
    assert exc.code == "AuthFailure.SignatureExpire"


def test_a_timestamp_within_five_minutes_passes(ses, monkeypatch):
    monkeypatch.setattr(abstract_client, "time", _ClockOf(seconds_ago=200))
    assert call(ses, "GetSendEmailStatus", **QUERY)["EmailStatusList"] == []


def test_it_records_when_a_key_was_used(ses, tc3_key):
    call(ses, "GetSendEmailStatus", **QUERY)
    assert Tc3Key.objects.get(secret_id=tc3_key[0]).last_used_at is not None


def test_an_unknown_action_is_invalid(ses):
    with pytest.raises(TencentCloudSDKException) as exc:
        ses.call_json("NoSuchThing", {})
    assert exc.value.code == "InvalidAction"


def test_an_action_not_offered_here_is_unsupported(ses):
    with pytest.raises(TencentCloudSDKException) as exc:
        ses.call_json("ListEmailTemplates", {"Limit": 10, "Offset": 0})
    assert exc.value.code == "UnsupportedOperation"


def test_action_names_are_case_sensitive(ses):
    # Tencent spells these exactly: CreateCustomBlacklist but UpdateCustomBlackList.
    with pytest.raises(TencentCloudSDKException) as exc:
        ses.call_json("GetSendEmailstatus", QUERY)
    assert exc.value.code == "InvalidAction"


def test_a_limit_over_100_is_refused(ses):
    exc = _error(ses, **{**QUERY, "Limit": 101})
    assert exc.code == "FailedOperation.InvalidLimit"


def test_a_bad_date_is_refused(ses):
    exc = _error(ses, **{**QUERY, "RequestDate": "28/11/2026"})
    assert exc.code == "InvalidParameterValue.WrongDate"


def test_a_missing_required_field_is_refused(ses):
    with pytest.raises(TencentCloudSDKException) as exc:
        ses.call_json("GetSendEmailStatus", {"Offset": 0, "Limit": 10})
    assert exc.value.code == "MissingParameter"


def test_a_field_of_the_wrong_type_is_refused(ses):
    with pytest.raises(TencentCloudSDKException) as exc:
        ses.call_json("GetSendEmailStatus", {**QUERY, "Limit": "ten"})
    assert exc.value.code == "InvalidParameter"


def test_a_post_without_tc3_headers_is_not_the_api(client):
    response = client.post("/", {"a": "b"})
    assert response.status_code == 302  # the console home, as before


def test_get_still_opens_the_console(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_unsigned_tc3_call_fails_with_invalid_authorization(client):
    response = client.post(
        "/",
        data=json.dumps(QUERY),
        content_type="application/json",
        HTTP_X_TC_ACTION="GetSendEmailStatus",
        HTTP_X_TC_VERSION="2020-10-02",
        HTTP_X_TC_TIMESTAMP=str(int(time.time())),
    )
    assert response.status_code == 200
    body = response.json()["Response"]
    assert body["Error"]["Code"] == "AuthFailure.InvalidAuthorization"
    assert set(body) == {"Error", "RequestId"}


def test_another_api_version_does_not_exist(ses):
    ses._apiVersion = "2019-01-01"
    exc = _error(ses)
    assert exc.code == "NoSuchVersion"


def test_an_unsigned_payload_is_accepted_when_the_client_says_so(ses):
    ses.profile.unsignedPayload = True
    assert call(ses, "GetSendEmailStatus", **QUERY)["EmailStatusList"] == []


def test_the_old_signature_methods_are_refused_clearly(make_ses, tc3_key):
    ses = make_ses(*tc3_key)
    ses.profile.signMethod = "HmacSHA256"
    exc = _error(ses)
    assert exc.code == "AuthFailure.InvalidAuthorization"
    assert "TC3-HMAC-SHA256" in exc.message
