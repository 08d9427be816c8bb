"""Each signed request is accepted once: replays and action swaps are refused."""

from __future__ import annotations

import json
import time

import pytest

from blocklist.models import Block
from tencent import signature
from tests.tencent.conftest import DjangoClientAdapter, call, sdk_client

pytestmark = pytest.mark.django_db


class Recorder(DjangoClientAdapter):
    """Serves the SDK in-process and keeps a copy of every request as it was signed."""

    def __init__(self, client):
        super().__init__(client)
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append(request.copy())
        return super().send(request, **kwargs)

    def resend(self, request, **headers) -> dict:
        again = request.copy()
        again.headers.update(headers)
        return json.loads(super().send(again).content)["Response"]


@pytest.fixture
def recorded(client, tc3_key):
    recorder = Recorder(client)
    ses = sdk_client("testserver", *tc3_key)
    ses.request.conn._session.mount("http://", recorder)
    return ses, recorder


def test_a_replayed_request_is_refused(recorded, account):
    ses, recorder = recorded
    call(ses, "CreateCustomBlacklist", Emails=["keep@x.org"])
    [captured] = recorder.sent
    Block.objects.custom().filter(address="keep@x.org").delete()

    answer = recorder.resend(captured)
    assert answer["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert "already used" in answer["Error"]["Message"]
    assert not Block.objects.custom().filter(address="keep@x.org").exists()


def test_a_captured_request_cannot_be_resent_as_another_action(recorded, account):
    ses, recorder = recorded
    call(ses, "CreateCustomBlacklist", Emails=["keep@x.org"])
    [captured] = recorder.sent
    assert "x-tc-action" not in captured.headers["Authorization"]  # the SDK does not sign it

    answer = recorder.resend(captured, **{"X-TC-Action": "DeleteCustomBlackList"})
    assert answer["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert Block.objects.custom().active().filter(address="keep@x.org").exists()


def test_fresh_requests_of_the_same_client_are_accepted(recorded, account):
    ses, recorder = recorded
    call(ses, "CreateCustomBlacklist", Emails=["one@x.org"])
    call(ses, "CreateCustomBlacklist", Emails=["two@x.org"])
    body = call(ses, "ListCustomBlacklist", Offset=0, Limit=10, Status=1)
    assert {row["Email"] for row in body["Data"]} == {"one@x.org", "two@x.org"}
    assert len(recorder.sent) == 3


def test_a_request_that_signs_its_action_cannot_change_it(client, tc3_key, account):
    secret_id, secret_key = tc3_key
    timestamp = str(int(time.time()))
    date = time.strftime("%Y-%m-%d", time.gmtime(int(timestamp)))
    body = json.dumps({"Offset": 0, "Limit": 10, "Status": 1}).encode()
    headers = {
        "content-type": "application/json",
        "host": "testserver",
        "x-tc-action": "listcustomblacklist",
    }
    signed = ("content-type", "host", "x-tc-action")
    sig = signature.sign(
        secret_key,
        timestamp=timestamp,
        date=date,
        service="ses",
        canonical_request=signature.canonical_request(
            method="POST",
            uri="/",
            query="",
            headers=headers,
            signed_headers=signed,
            payload=body,
        ),
    )
    authorization = (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/ses/tc3_request, "
        f"SignedHeaders={';'.join(signed)}, Signature={sig}"
    )

    def post(action: str) -> dict:
        response = client.post(
            "/",
            data=body,
            content_type="application/json",
            HTTP_HOST="testserver",
            HTTP_AUTHORIZATION=authorization,
            HTTP_X_TC_ACTION=action,
            HTTP_X_TC_VERSION="2020-10-02",
            HTTP_X_TC_TIMESTAMP=timestamp,
        )
        return response.json()["Response"]

    # Swapped before the first use: the signature covers the action, so it fails.
    assert post("DeleteCustomBlackList")["Error"]["Code"] == "AuthFailure.SignatureFailure"
    first = post("ListCustomBlacklist")
    assert first.get("Data") == [], first
    assert post("ListCustomBlacklist")["Error"]["Code"] == "AuthFailure.SignatureFailure"
