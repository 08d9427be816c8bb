"""SSRF refusals: only http(s), only public addresses after DNS resolution, no redirects."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from delivery.ingest import ingest_events
from notifications import outbox
from notifications.models import Attempt
from notifications.urlsafety import (
    BAD_IPV6,
    URL_PATTERN,
    UnsafeURL,
    parse_url,
    resolve,
    validate_url,
)
from tests.events import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/x", "invalid_scheme"),
        ("file:///etc/passwd", "invalid_scheme"),
        ("javascript:alert(1)", "invalid_scheme"),
        ("http://", "invalid_url"),
        ("http://user:pw@example.com/", "invalid_url"),
        ("http://example.com:99999/", "invalid_url"),
        ("http://example.com:080/", "invalid_url"),
        ("http://example.com:0/", "invalid_url"),
        ("http://exa_mple.com/", "invalid_url"),
        ("http://-example.com/", "invalid_url"),
        ("http://example.com/a b", "invalid_url"),
        ("http://[::::]/", "invalid_url"),
        ("http://127.0.0.1:8080/", "forbidden_address"),
        ("http://10.1.2.3/", "forbidden_address"),
        ("http://192.168.0.10/", "forbidden_address"),
        ("http://172.16.5.5/", "forbidden_address"),
        ("http://169.254.1.1/", "forbidden_address"),
        ("http://100.64.0.1/", "forbidden_address"),
        ("http://0.0.0.0/", "forbidden_address"),
        ("http://[::1]/", "forbidden_address"),
        ("http://[fe80::1]/", "forbidden_address"),
        ("http://[fd00::1]/", "forbidden_address"),
        ("http://[::ffff:127.0.0.1]/", "forbidden_address"),
        ("http://localhost:8000/", "forbidden_address"),  # after DNS resolution
    ],
)
def test_it_refuses(strict, url, code):
    with pytest.raises(UnsafeURL) as exc:
        validate_url(url)
    assert exc.value.code == code


def test_it_accepts_public_addresses(strict):
    assert validate_url("https://93.184.215.14/hook") == "https://93.184.215.14/hook"
    assert resolve("http://[2606:4700::1111]:8080/x?y=1").path == "/x?y=1"


def test_metadata_addresses_are_refused_even_when_private_networks_are_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    assert validate_url("http://127.0.0.1:8080/")
    for url in (
        "http://169.254.169.254/latest/",
        "http://100.100.100.200/",
        "http://[fd00:ec2::254]/",
    ):
        with pytest.raises(UnsafeURL):
            validate_url(url)


def test_delivery_checks_the_address_again_and_never_connects(account, receiver, settings):
    endpoint, _ = outbox.create_endpoint(account, receiver.url)  # allowed when created
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    ingest_events(account, [make_event("request", "m1"), make_event("delivered", "m1")])
    outbox.deliver_due(endpoint.pk)
    attempt = Attempt.objects.get()
    assert not attempt.ok and attempt.error.startswith("refused:")
    assert receiver.received == []


def test_the_api_refuses_a_private_url_with_a_stable_code(strict, api_client):
    response = api_client.post("/api/v1/webhooks/", {"url": "http://10.0.0.1/"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "forbidden_address"


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://Example.com/hook",
        "https://b\u00fccher.example/",
        "https://xn--bcher-kva.example:8443/a?b=c#d",
        "  https://example.com/padded  ",
        "http://93.184.215.14",
    ],
)
def test_it_accepts_the_documented_forms(url):
    assert parse_url(url).hostname


_URL_TEXT = st.one_of(
    st.from_regex(URL_PATTERN, fullmatch=True),
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}{rest}",
        st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
        st.text(max_size=20),
        st.text(max_size=20),
    ),
)


@given(_URL_TEXT)
def test_the_schema_pattern_and_the_service_agree(url):
    """What the API schema documents for `url` is what the service accepts: a text the
    pattern matches parses (bar a malformed IPv6 literal), and one it refuses is refused."""
    documented = re.match(URL_PATTERN, url) is not None
    try:
        parse_url(url)
        accepted = True
    except UnsafeURL as exc:
        accepted = False
        if documented:
            assert exc.message == BAD_IPV6
            return
    assert accepted == documented
