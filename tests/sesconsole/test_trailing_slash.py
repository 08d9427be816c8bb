"""A URL without its trailing slash: the redirect to the slashed URL keeps the method and body.

Django's own answer is a 301, after which HTTP clients resend a POST as a GET without its
body: a batch of events posted to `/api/v1/events` was never ingested.
"""

from __future__ import annotations

import json

import pytest
import requests

from blocklist import changes, custom
from blocklist.models import Block
from delivery.models import DeliveryEvent, Message
from tests.events import make_event

pytestmark = pytest.mark.django_db


def batch() -> list[dict]:
    return [
        make_event("request", "m1", subject="November news"),
        make_event("delivered", "m1", timestamp="2026-11-28T10:00:02Z"),
    ]


def post_json(client, path: str, body, **kwargs):
    return client.post(path, json.dumps(body), content_type="application/json", **kwargs)


def test_an_unslashed_api_post_is_a_308_to_the_slashed_url(api_client):
    response = post_json(api_client, "/api/v1/events", batch())
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/events/"
    assert response.json() == {
        "code": "trailing_slash",
        "message": (
            "The URL is /api/v1/events/, with a trailing slash. This 308 redirects "
            "there with the same method and body; send requests there directly."
        ),
        "details": {"location": "/api/v1/events/"},
    }
    assert not Message.objects.exists()


def test_following_the_redirect_ingests_the_batch(api_client, account):
    response = post_json(api_client, "/api/v1/events", batch(), follow=True)
    assert response.redirect_chain == [("/api/v1/events/", 308)]
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "errors": []}
    assert DeliveryEvent.objects.filter(account=account).count() == 2
    assert Message.objects.get(account=account, message_id="m1").subject == "November news"


def test_the_query_string_is_kept(api_client):
    response = post_json(api_client, "/api/v1/events?source=pipeline", batch())
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/events/?source=pipeline"


def test_every_method_but_get_and_head_keeps_its_method(api_client, account):
    custom.add_custom_blocks(account, ["a@example.com"], actor=changes.SYSTEM)
    block = Block.objects.get()
    check = post_json(api_client, "/api/v1/blocklist/check", {"addresses": ["a@example.com"]})
    assert (check.status_code, check["Location"]) == (308, "/api/v1/blocklist/check/")
    patch = api_client.patch(
        f"/api/v1/blocklist/custom/{block.pk}",
        json.dumps({"expires_on": None}),
        content_type="application/json",
    )
    assert (patch.status_code, patch["Location"]) == (308, f"/api/v1/blocklist/custom/{block.pk}/")
    delete = api_client.delete(f"/api/v1/blocklist/custom/{block.pk}", follow=True)
    assert delete.redirect_chain == [(f"/api/v1/blocklist/custom/{block.pk}/", 308)]
    assert delete.status_code == 204
    assert api_client.get("/api/v1/blocklist/custom/").json()["results"] == []


def test_with_debug_on_an_unslashed_post_is_redirected_too(api_client, settings):
    """Django raises a RuntimeError (a 500) for it when DEBUG is on."""
    settings.DEBUG = True
    response = post_json(api_client, "/api/v1/events", batch())
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/events/"


def test_a_console_form_post_is_a_308_without_a_json_body(client, alice):
    client.force_login(alice)
    response = client.post("/logout", {})
    assert response.status_code == 308
    assert response["Location"] == "/logout/"
    assert response.content == b""


@pytest.mark.parametrize("method", ["get", "head"])
def test_a_get_or_head_keeps_its_301(client, method):
    response = getattr(client, method)("/login?next=/stats/")
    assert response.status_code == 301
    assert response["Location"] == "/login/?next=/stats/"


def test_a_path_that_is_not_found_with_a_slash_either_stays_a_404(api_client):
    response = post_json(api_client, "/api/v1/no-such-thing", batch())
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db(transaction=True)
def test_a_real_http_client_posting_without_the_slash_gets_its_events_ingested(
    live_server, api_key, account, monkeypatch
):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    response = requests.post(
        f"{live_server.url}/api/v1/events",
        json=batch(),
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30,
    )
    [redirect] = response.history
    assert redirect.status_code == 308
    assert redirect.headers["Location"] == "/api/v1/events/"
    assert response.request.method == "POST"
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "errors": []}
    assert DeliveryEvent.objects.filter(account=account).count() == 2
