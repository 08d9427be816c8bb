"""Query counts of signed calls, pinned (signed here with the same algorithm the SDK uses)."""

from __future__ import annotations

import json
import time

import pytest

from delivery.ingest import ingest_events
from tencent import signature
from tests.events import make_event

pytestmark = pytest.mark.django_db


def _signed_post(client, tc3_key, action: str, params: dict, seconds_ago: int = 0):
    secret_id, secret_key = tc3_key
    body = json.dumps(params).encode()
    timestamp = str(int(time.time()) - seconds_ago)
    date = time.strftime("%Y-%m-%d", time.gmtime(int(timestamp)))
    canonical = signature.canonical_request(
        method="POST",
        uri="/",
        query="",
        headers={"content-type": "application/json", "host": "testserver"},
        signed_headers=("content-type", "host"),
        payload=body,
    )
    sig = signature.sign(
        secret_key, timestamp=timestamp, date=date, service="ses", canonical_request=canonical
    )
    return client.post(
        "/",
        data=body,
        content_type="application/json",
        HTTP_HOST="testserver",
        HTTP_X_TC_ACTION=action,
        HTTP_X_TC_VERSION="2020-10-02",
        HTTP_X_TC_TIMESTAMP=timestamp,
        HTTP_AUTHORIZATION=(
            f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/ses/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={sig}"
        ),
    )


def test_send_status_takes_two_queries_once_the_key_was_used(
    client, account, tc3_key, django_assert_num_queries
):
    ingest_events(account, [make_event("request", f"m-{i}") for i in range(20)])
    params = {"RequestDate": "2026-11-28", "Offset": 0, "Limit": 100}
    # Records last use; signed a second earlier, so the next call is not its replay.
    _signed_post(client, tc3_key, "GetSendEmailStatus", params, seconds_ago=1)
    # 1. the TC3 key with its account; 2. the messages with their reject reason and
    # SendEmail id (subqueries).
    with django_assert_num_queries(2):
        response = _signed_post(client, tc3_key, "GetSendEmailStatus", params)
    assert len(response.json()["Response"]["EmailStatusList"]) == 20
