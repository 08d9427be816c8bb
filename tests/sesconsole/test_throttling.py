"""API abuse limits: wrong keys per address, request rates per key, 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.events import make_event

pytestmark = pytest.mark.django_db

EVENTS = reverse("api:events")
STATS = "/api/v1/stats/?start=2026-11-27&end=2026-11-28"


def set_rate(settings, scope: str, rate: str) -> None:
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], scope: rate}
    settings.REST_FRAMEWORK = rest


def client_for(key: str, address: str = "203.0.113.7") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 3600


# --- wrong keys ---------------------------------------------------------------------------


def test_a_hundred_wrong_keys_then_429_even_for_the_right_key(api_key):
    for n in range(100):
        response = client_for(f"sk_wrong_{n}").get(STATS)
        assert response.status_code == 401, n
    assert_throttled(client_for("sk_wrong_again").get(STATS))
    # No answer tells a right guess from a wrong one any more.
    assert_throttled(client_for(api_key).get(STATS))
    # Another address is not affected.
    assert client_for(api_key, address="198.51.100.9").get(STATS).status_code == 200


def test_the_wrong_key_limit_is_settable(settings, api_key):
    set_rate(settings, "auth_failure", "3/hour")
    for _ in range(3):
        assert client_for("sk_wrong").post(EVENTS, [], format="json").status_code == 401
    assert_throttled(client_for(api_key).post(EVENTS, [make_event()], format="json"))


def test_right_keys_do_not_count_as_failures(settings, api_key):
    set_rate(settings, "auth_failure", "3/hour")
    for _ in range(5):
        assert client_for(api_key).get(STATS).status_code == 200
    assert client_for("sk_wrong").get(STATS).status_code == 401


def test_behind_a_trusted_proxy_the_forwarded_address_counts(settings, api_key):
    set_rate(settings, "auth_failure", "2/hour")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.1"
    for _ in range(2):
        client = client_for("sk_wrong", address=proxy)
        assert client.get(STATS, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 401
    attacker = client_for(api_key, address=proxy)
    assert_throttled(attacker.get(STATS, HTTP_X_FORWARDED_FOR="203.0.113.7"))
    other = client_for(api_key, address=proxy)
    assert other.get(STATS, HTTP_X_FORWARDED_FOR="192.0.2.50").status_code == 200


# --- request rates per key ----------------------------------------------------------------


def test_ingest_is_limited_per_key(settings, api_key, other_api_key):
    set_rate(settings, "ingest", "3/min")
    client = client_for(api_key)
    for n in range(3):
        assert client.post(EVENTS, [make_event()], format="json").status_code == 200, n
    response = client.post(EVENTS, [make_event()], format="json")
    assert_throttled(response)
    assert int(response["Retry-After"]) <= 60
    # Another key, from the same address, has its own count.
    assert client_for(other_api_key).post(EVENTS, [make_event()], format="json").status_code == 200


def test_send_is_limited_per_key(settings, api_key):
    set_rate(settings, "send", "1/min")
    client = client_for(api_key)
    client.post("/api/v1/emails/", {}, format="json")  # counted, whatever the answer
    assert_throttled(client.post("/api/v1/emails/", {}, format="json"))


def test_stats_and_csv_exports_have_scopes_of_their_own(settings, api_key):
    set_rate(settings, "stats", "2/min")
    set_rate(settings, "export", "1/min")
    client = client_for(api_key)
    assert client.get(STATS).status_code == 200
    assert client.get(STATS).status_code == 200
    assert_throttled(client.get(STATS))
    # CSV answers count as exports, on every list that has one.
    assert client.get(STATS + "&format=csv").status_code == 200
    assert_throttled(client.get(STATS + "&format=csv"))
    assert_throttled(client.get("/api/v1/messages/export/?start=2026-11-27&end=2026-11-28"))
    # Plain JSON lists without a scope are not limited by these rates.
    assert client.get("/api/v1/messages/?start=2026-11-27&end=2026-11-28").status_code == 200


def test_the_default_ingest_rate_carries_20k_events_a_second(settings):
    from sesconsole.throttling import parse_rate

    count, seconds = parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["ingest"])
    # 1,000-event batches at 20,000 events/s: 20 requests a second, sustained.
    assert count / seconds >= 20 * 2
