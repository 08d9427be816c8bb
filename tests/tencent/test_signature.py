"""TC3-HMAC-SHA256 verification against requests signed by the official SDK's own signer."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
import tencentcloud.common.abstract_client as abstract_client
from tencentcloud.common import credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ses.v20201002.ses_client import SesClient

from tencent import signature

NOW = 1764403200  # 2025-11-29 08:00:00 UTC
BODY = b'{"RequestDate": "2025-11-29", "Offset": 0, "Limit": 10}'
# Computed once with the SDK (tencentcloud-sdk-python-common 3.1.195) for the request above,
# SecretKey "secretexample", Host 127.0.0.1:8000.
SDK_SIGNATURE = "2d0d73d359a257c12d2898a533e1df3083dd92efeaaf0c79cb37cd497457988b"
AUTHORIZATION = (
    "TC3-HMAC-SHA256 Credential=AKIDexample/2025-11-29/ses/tc3_request, "
    f"SignedHeaders=content-type;host, Signature={SDK_SIGNATURE}"
)
HEADERS = {"content-type": "application/json", "host": "127.0.0.1:8000"}


def _verify(authorization: str = AUTHORIZATION, **overrides) -> None:
    args = {
        "method": "POST",
        "uri": "/",
        "query": "",
        "headers": HEADERS,
        "payload": BODY,
        "timestamp": str(NOW),
        "now": datetime.fromtimestamp(NOW, tz=UTC),
    }
    args.update(overrides)
    secret_key = args.pop("secret_key", "secretexample")
    signature.verify(signature.parse_authorization(authorization), secret_key, **args)


def test_it_computes_the_sdk_signature():
    canonical = signature.canonical_request(
        method="POST",
        uri="/",
        query="",
        headers=HEADERS,
        signed_headers=("content-type", "host"),
        payload=BODY,
    )
    signed = signature.sign(
        "secretexample",
        timestamp=str(NOW),
        date="2025-11-29",
        service="ses",
        canonical_request=canonical,
    )
    assert signed == SDK_SIGNATURE


def test_it_accepts_the_sdk_signature():
    _verify()  # raises on failure


def test_it_accepts_a_request_the_sdk_builds_now(monkeypatch):
    monkeypatch.setattr(abstract_client, "time", _FrozenTime(NOW + 42))
    profile = ClientProfile(
        signMethod="TC3-HMAC-SHA256",
        httpProfile=HttpProfile(endpoint="ses.example.test:8443", protocol="http"),
    )
    client = SesClient(credential.Credential("AKIDx", "s3cret/+key"), "ap-guangzhou", profile)
    req = RequestInternal("ses.example.test:8443", "POST", "/", header={})
    client._build_req_inter("ListCustomBlacklist", {"Offset": 0, "Limit": 5, "Status": 2}, req)
    signature.verify(
        signature.parse_authorization(req.header["Authorization"]),
        "s3cret/+key",
        method="POST",
        uri="/",
        query="",
        headers={"content-type": req.header["Content-Type"], "host": req.header["Host"]},
        payload=req.data.encode(),
        timestamp=req.header["X-TC-Timestamp"],
        now=datetime.fromtimestamp(NOW, tz=UTC),
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"secret_key": "wrong"},
        {"payload": BODY.replace(b"10", b"11")},
        {"headers": {**HEADERS, "host": "127.0.0.1:8001"}},
        {"headers": {**HEADERS, "content-type": "application/x-www-form-urlencoded"}},
        {"method": "GET"},
        {"timestamp": str(NOW + 1), "now": datetime.fromtimestamp(NOW + 1, tz=UTC)},
    ],
    ids=["key", "body", "host", "content-type", "method", "timestamp"],
)
def test_it_rejects_any_change_to_what_was_signed(overrides):
    with pytest.raises(signature.SignatureError) as exc:
        _verify(**overrides)
    assert exc.value.code == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("skew", [-301, 301])
def test_it_rejects_timestamps_more_than_five_minutes_off(skew):
    with pytest.raises(signature.SignatureError) as exc:
        _verify(now=datetime.fromtimestamp(NOW + skew, tz=UTC))
    assert exc.value.code == "AuthFailure.SignatureExpire"


@pytest.mark.parametrize("skew", [-300, 300])
def test_it_accepts_timestamps_within_five_minutes(skew):
    _verify(now=datetime.fromtimestamp(NOW + skew, tz=UTC))


def test_it_rejects_a_scope_for_another_service():
    with pytest.raises(signature.SignatureError) as exc:
        _verify(AUTHORIZATION.replace("/ses/", "/cvm/"))
    assert exc.value.code == "AuthFailure.SignatureFailure"


def test_it_rejects_a_scope_date_other_than_the_timestamps():
    with pytest.raises(signature.SignatureError) as exc:
        _verify(AUTHORIZATION.replace("2025-11-29", "2025-11-28"))
    assert exc.value.code == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer ses_abc",
        "TC3-HMAC-SHA256 Credential=AKID/2025-11-29/ses/tc3_request, Signature=" + "0" * 64,
        AUTHORIZATION.replace("content-type;host", "host"),
    ],
    ids=["empty", "bearer", "no-signed-headers", "host-only"],
)
def test_it_rejects_malformed_authorization(header):
    with pytest.raises(signature.SignatureError) as exc:
        signature.parse_authorization(header)
    assert exc.value.code == "AuthFailure.InvalidAuthorization"


def test_it_honours_unsigned_payload():
    headers = {**HEADERS, "x-tc-content-sha256": "UNSIGNED-PAYLOAD"}
    canonical = signature.canonical_request(
        method="POST",
        uri="/",
        query="",
        headers=headers,
        signed_headers=("content-type", "host"),
        payload=b"anything",
    )
    # The marker's hash stands in for the body's.
    assert canonical.endswith(hashlib.sha256(b"UNSIGNED-PAYLOAD").hexdigest())


class _FrozenTime:
    def __init__(self, now: int):
        self.now = now

    def time(self) -> float:
        return float(self.now)


def test_it_accepts_header_values_signed_as_sent():
    # The SDK signs the Host exactly as configured, capitals included.
    headers = {"content-type": "application/json; charset=UTF-8", "host": "SES.Example.test"}
    canonical = signature.canonical_request(
        method="POST",
        uri="/",
        query="",
        headers=headers,
        signed_headers=("content-type", "host"),
        payload=BODY,
        lowercase_values=False,
    )
    sig = signature.sign(
        "secretexample",
        timestamp=str(NOW),
        date="2025-11-29",
        service="ses",
        canonical_request=canonical,
    )
    _verify(AUTHORIZATION.replace(SDK_SIGNATURE, sig), headers=headers)
    with pytest.raises(signature.SignatureError):
        _verify(AUTHORIZATION.replace(SDK_SIGNATURE, sig), headers={**headers, "host": "other"})
