"""The official SES SDK, signed with an account's TC3 key, talking to the console.

Two transports, the same SDK and the same Django stack behind them:
- `live_ses`/`make_live_ses`: plain HTTP to the real server (`live_server`). Its tests need
  committed data (transactional), so they are few: each action's round trip, the
  authentication failures, tenancy, and SendEmail to a blocked address.
- `ses`/`make_ses`: the SDK's HTTP session handed to Django's test client in-process, so the
  many behaviour tests run inside one rolled-back transaction each.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import tencentcloud.common.abstract_client as abstract_client
import time_machine
from requests.structures import CaseInsensitiveDict
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ses.v20201002 import models
from tencentcloud.ses.v20201002.ses_client import SesClient

from tencent.models import Tc3Key

# Blocks from bounces last 180 days: tests that make them run on a fixed day (the clock
# ticks on, for the SDK's timestamps and the server alike).
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
# An expiry date in the future whenever the tests run (the API refuses one in the past).
EXPIRES = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()


@pytest.fixture
def frozen_day():
    with time_machine.travel(NOW, tick=True):
        yield NOW


class _SteppingClock:
    """The SDK's clock, a second further on at every signed call."""

    def __init__(self):
        self.calls = 0

    def time(self) -> float:
        self.calls += 1
        return time.time() + self.calls


@pytest.fixture
def one_call_per_second(monkeypatch):
    """Each SDK call signed in a second of its own, as from a client whose calls are a second
    apart. The SDK signs the body but not the action, to the second: two calls with the same
    body and key in one second carry the same signature, and the second is refused as a
    replay (tests/tencent/test_replay.py). Tests that repeat a call at once need this."""
    monkeypatch.setattr(abstract_client, "time", _SteppingClock())


@pytest.fixture
def tc3_key(account) -> tuple[str, str]:
    key, secret_key = Tc3Key.issue(account, name="test")
    return key.secret_id, secret_key


@pytest.fixture
def other_tc3_key(other_account) -> tuple[str, str]:
    key, secret_key = Tc3Key.issue(other_account, name="test")
    return key.secret_id, secret_key


def sdk_client(endpoint: str, secret_id: str, secret_key: str) -> SesClient:
    profile = ClientProfile(
        signMethod="TC3-HMAC-SHA256",
        httpProfile=HttpProfile(endpoint=endpoint, protocol="http", reqMethod="POST"),
    )
    return SesClient(credential.Credential(secret_id, secret_key), "ap-guangzhou", profile)


@pytest.fixture
def make_live_ses(live_server, monkeypatch):
    """`make_live_ses(secret_id, secret_key)`: an SesClient on plain HTTP to the live server."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    endpoint = live_server.url.removeprefix("http://")
    return lambda secret_id, secret_key: sdk_client(endpoint, secret_id, secret_key)


@pytest.fixture
def live_ses(make_live_ses, tc3_key) -> SesClient:
    return make_live_ses(*tc3_key)


@pytest.fixture
def live_other_ses(make_live_ses, other_tc3_key) -> SesClient:
    return make_live_ses(*other_tc3_key)


class DjangoClientAdapter(requests.adapters.BaseAdapter):
    """Hands the SDK's HTTP requests, exactly as built and signed, to Django's test client."""

    def __init__(self, client):
        super().__init__()
        self.client = client

    def send(self, request, **kwargs) -> requests.Response:
        meta = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in request.headers.items()
            if name.lower() not in ("content-type", "content-length")
        }
        answer = self.client.generic(
            request.method,
            urlsplit(request.url).path or "/",
            data=request.body or b"",
            content_type=request.headers.get("Content-Type", ""),
            **meta,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.content
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def make_ses(db, client):
    """`make_ses(secret_id, secret_key)`: an SesClient served in-process by the test client."""

    def make(secret_id: str, secret_key: str) -> SesClient:
        ses = sdk_client("testserver", secret_id, secret_key)
        ses.request.conn._session.mount("http://", DjangoClientAdapter(client))
        return ses

    return make


@pytest.fixture
def ses(make_ses, tc3_key) -> SesClient:
    return make_ses(*tc3_key)


@pytest.fixture
def other_ses(make_ses, other_tc3_key) -> SesClient:
    return make_ses(*other_tc3_key)


def call(client: SesClient, action: str, **params: Any) -> dict[str, Any]:
    """Call `action` through the SDK's own request and response models; the response as a dict."""
    request = getattr(models, f"{action}Request")()
    request._deserialize(params)
    response = getattr(client, action)(request)
    return json.loads(response.to_json_string())
