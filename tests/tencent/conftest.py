"""The official SES SDK pointed at the live test server, signed with an account's TC3 key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ses.v20201002 import models
from tencentcloud.ses.v20201002.ses_client import SesClient

from sesconsole.models import Tc3Key

# Blocks from bounces last 180 days: tests that make them run on a fixed day (the clock
# ticks on, for the SDK's timestamps and the server alike).
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen_day():
    with time_machine.travel(NOW, tick=True):
        yield NOW


@pytest.fixture
def tc3_key(account) -> tuple[str, str]:
    key, secret_key = Tc3Key.issue(account, name="test")
    return key.secret_id, secret_key


@pytest.fixture
def other_tc3_key(other_account) -> tuple[str, str]:
    key, secret_key = Tc3Key.issue(other_account, name="test")
    return key.secret_id, secret_key


@pytest.fixture
def make_ses(live_server, monkeypatch):
    """`make_ses(secret_id, secret_key)`: an SesClient talking plain HTTP to the live server."""
    for name in (
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    endpoint = live_server.url.removeprefix("http://")

    def make(secret_id: str, secret_key: str) -> SesClient:
        profile = ClientProfile(
            signMethod="TC3-HMAC-SHA256",
            httpProfile=HttpProfile(endpoint=endpoint, protocol="http", reqMethod="POST"),
        )
        return SesClient(credential.Credential(secret_id, secret_key), "ap-guangzhou", profile)

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
