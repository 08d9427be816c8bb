"""Tracking endpoints: signed tokens, opens, click redirects, one-click unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client

from delivery import tracking
from delivery.models import DeliveryEvent, Message
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


@pytest.fixture
def message(account):
    return MessageFactory(
        account=account,
        message_id="msg-1",
        status=Message.Status.DELIVERED,
        status_at=NOW - timedelta(hours=1),
    )


def _path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def test_an_open_is_recorded_and_answered_with_a_pixel(client, message):
    response = client.get(
        _path(tracking.open_url(message.account_id, "msg-1")),
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert "no-cache" in response["Cache-Control"]
    event = DeliveryEvent.objects.get(type="opened")
    assert (event.user_agent, event.ip, event.is_machine) == (BROWSER, "203.0.113.9", False)


def test_opens_count_in_total_and_once_as_unique(client, message):
    url = _path(tracking.open_url(message.account_id, "msg-1"))
    client.get(url, HTTP_USER_AGENT=BROWSER)
    client.get(url, HTTP_USER_AGENT=BROWSER)
    message.refresh_from_db()
    assert message.open_count == 2
    assert message.opened  # unique: the message counts once among opened messages


def test_a_click_is_recorded_and_redirects_to_the_original_url(client, message):
    target = "https://acme.example/offer?a=1&b=2"
    response = client.get(_path(tracking.click_url(message.account_id, "msg-1", target)))
    assert response.status_code == 302
    assert response["Location"] == target
    event = DeliveryEvent.objects.get(type="clicked")
    assert event.url == target
    message.refresh_from_db()
    assert message.click_count == 1


def _tamper(token: str) -> str:
    payload, signature = token.rsplit(":", 1)
    return f"{payload}:{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}"


@pytest.mark.parametrize("kind", ["open", "click", "unsubscribe"])
def test_a_tampered_token_records_nothing(client, message, kind):
    make = {
        "open": lambda: tracking.open_url(message.account_id, "msg-1"),
        "click": lambda: tracking.click_url(message.account_id, "msg-1", "https://a.example/"),
        "unsubscribe": lambda: tracking.unsubscribe_url(message.account_id, "msg-1"),
    }[kind]
    prefix, token = _path(make()).rsplit("/", 1)
    suffix = ".gif" if token.endswith(".gif") else ""
    token = token.removesuffix(".gif")
    response = client.post(f"{prefix}/{_tamper(token)}{suffix}") if kind == "unsubscribe" else None
    response = response or client.get(f"{prefix}/{_tamper(token)}{suffix}")
    assert response.status_code == 404
    assert not DeliveryEvent.objects.exists()


def test_a_click_token_cannot_be_pointed_at_another_url(client, message):
    """The URL is inside the signed payload: swapping it breaks the signature."""
    token = tracking.make_token(tracking.CLICK, message.account_id, "msg-1", "https://a.example/")
    evil = signing.Signer(key="guess", salt="delivery.tracking", algorithm="sha256").sign_object(
        ["c", message.account_id, "msg-1", "https://evil.example/"], compress=True
    )
    forged = f"{evil.rsplit(':', 1)[0]}:{token.rsplit(':', 1)[1]}"
    response = client.get(f"/t/c/{forged}")
    assert response.status_code == 404
    assert not DeliveryEvent.objects.exists()


def test_a_token_for_another_account_finds_nothing(client, message, other_account):
    """A genuine token naming another account never reaches this account's message."""
    url = tracking.open_url(other_account.pk, "msg-1")
    assert client.get(_path(url)).status_code == 404
    assert not DeliveryEvent.objects.exists()
    # And the other account's own message with that id is the one a valid token reaches.
    theirs = MessageFactory(account=other_account, message_id="msg-1")
    assert client.get(_path(url)).status_code == 200
    assert DeliveryEvent.objects.get().message == theirs


def test_an_open_token_is_no_click_token(client, message):
    token = tracking.make_token(tracking.OPEN, message.account_id, "msg-1")
    assert client.get(f"/t/c/{token}").status_code == 404


def test_a_click_token_only_redirects_to_http_urls(client, message):
    token = tracking.make_token(tracking.CLICK, message.account_id, "msg-1", "javascript:alert(1)")
    assert client.get(f"/t/c/{token}").status_code == 404


def test_one_click_unsubscribe_by_post_needs_no_session_or_csrf(message):
    client = Client(enforce_csrf_checks=True)
    url = _path(tracking.unsubscribe_url(message.account_id, "msg-1"))
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert response.content == b"Unsubscribed.\n"
    client.post(url, {"List-Unsubscribe": "One-Click"})  # a repeat is the same unsubscription
    assert DeliveryEvent.objects.filter(type="unsubscribed").count() == 1
    message.refresh_from_db()
    assert message.unsubscribed


def test_the_visible_link_asks_before_unsubscribing(client, message):
    url = _path(tracking.unsubscribe_url(message.account_id, "msg-1"))
    page = client.get(url)
    assert page.status_code == 200
    assert b'<button type="submit"' in page.content
    assert not DeliveryEvent.objects.exists()  # a link scanner's GET unsubscribes no one
    done = client.post(url)
    assert b"will get no more mail" in done.content
    assert DeliveryEvent.objects.filter(type="unsubscribed").count() == 1


# --- machine opens and scanner clicks -----------------------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("user_agent", "ip", "machine"),
    [
        (BROWSER, "203.0.113.9", False),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", None, False),
        (
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
            "66.249.84.1",
            False,
        ),
        ("Mozilla/5.0", "17.58.100.1", True),  # Apple Mail Privacy Protection
        (BROWSER, "17.58.100.1", True),  # Apple's network
        ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", None, True),
        ("", None, True),
    ],
)
def test_machine_opens_are_flagged_by_agent_and_network(client, message, user_agent, ip, machine):
    client.get(
        _path(tracking.open_url(message.account_id, "msg-1")),
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=ip or "198.51.100.7",
    )
    assert DeliveryEvent.objects.get(type="opened").is_machine is machine


def test_a_click_seconds_after_delivery_is_a_scanner_and_later_a_human(client, account):
    MessageFactory(account=account, message_id="msg-2", status="delivered", status_at=NOW)
    url = _path(tracking.click_url(account.pk, "msg-2", "https://acme.example/"))
    with time_machine.travel(NOW + timedelta(seconds=3), tick=False):
        client.get(url, HTTP_USER_AGENT=BROWSER)
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        client.get(url, HTTP_USER_AGENT=BROWSER)
    flags = list(
        DeliveryEvent.objects.filter(type="clicked")
        .order_by("timestamp")
        .values_list("is_machine", flat=True)
    )
    assert flags == [True, False]


@time_machine.travel(NOW, tick=False)
def test_scanner_agents_and_head_requests_are_machine_clicks(client, message):
    url = _path(tracking.click_url(message.account_id, "msg-1", "https://acme.example/"))
    client.get(url, HTTP_USER_AGENT="Mozilla/5.0 (compatible; Barracuda Sentinel)")
    client.head(url, HTTP_USER_AGENT=BROWSER)
    client.get(url, HTTP_USER_AGENT=BROWSER)
    flags = list(DeliveryEvent.objects.order_by("pk").values_list("is_machine", flat=True))
    assert flags == [True, True, False]


# --- rewriting ---------------------------------------------------------------------------


def test_rewriting_tracks_web_links_only_and_adds_pixel_and_unsubscribe():
    html = (
        '<html><body><a href="https://a.example/x?y=1&amp;z=2">A</a>'
        "<a href='mailto:me@a.example'>M</a><a href=\"#top\">T</a></body></html>"
    )
    out = tracking.rewrite_html(
        html, 1, "msg-1", track_opens=True, track_clicks=True, unsubscribe="https://u.example/"
    )
    assert "https://a.example/x" not in out
    assert "mailto:me@a.example" in out and 'href="#top"' in out
    token = out.split("/t/c/")[1].split('"')[0]
    assert tracking.read_token(token, tracking.CLICK).url == "https://a.example/x?y=1&z=2"
    assert out.index("/t/o/") < out.index("</body>")
    assert '<a href="https://u.example/">Unsubscribe</a>' in out


def test_rewriting_with_tracking_off_keeps_links_and_adds_no_pixel():
    html = '<p><a href="https://a.example/">A</a></p>'
    out = tracking.rewrite_html(
        html, 1, "msg-1", track_opens=False, track_clicks=False, unsubscribe="https://u.example/"
    )
    assert 'href="https://a.example/"' in out
    assert "/t/o/" not in out and "/t/c/" not in out
    assert "Unsubscribe</a>" in out  # unsubscribing is never turned off


def test_an_account_can_turn_open_and_click_tracking_off(account):
    from delivery.models import SendingSettings
    from delivery.sending import SendRequest, add_sender_identity, build_message, send_email

    add_sender_identity(account, "mail.acme.example", verified=True)
    SendingSettings.objects.create(account=account, track_opens=False, track_clicks=False)
    req = SendRequest(
        from_address="news@mail.acme.example",
        to=["alice@gmail.com"],
        subject="Hi",
        html='<p><a href="https://a.example/">A</a></p>',
    )
    row = send_email(account, req).recipient_rows[0]
    mail = build_message(row)
    assert mail.content_subtype == "html"
    assert 'href="https://a.example/"' in mail.body
    assert "/t/o/" not in mail.body and "/t/u/" in mail.body


# --- the `machine` flag in the ingestion wire format ---------------------------------------


def test_ingestion_accepts_a_machine_flag_on_opens_and_clicks(api_client, message):
    from tests.events import make_event

    events = [
        make_event("opened", "msg-1", machine=True),
        make_event("clicked", "msg-1", url="https://a.example/"),
        make_event("opened", "msg-1", machine="yes"),
        make_event("delivered", "msg-1", machine=True),
    ]
    data = api_client.post("/api/v1/events/", events, format="json").json()
    assert data["accepted"] == 2
    assert [(e["index"], e["code"]) for e in data["errors"]] == [
        (2, "invalid_field"),
        (3, "invalid_field"),
    ]
    flags = dict(DeliveryEvent.objects.values_list("type", "is_machine"))
    assert flags == {"opened": True, "clicked": False}


def test_after_a_one_click_unsubscribe_the_next_send_is_rejected(account, api_client):
    from delivery.sending import add_sender_identity

    add_sender_identity(account, "mail.acme.example", verified=True)
    body = {
        "from": "news@mail.acme.example",
        "to": ["alice@gmail.com"],
        "subject": "Hi",
        "text": "x",
    }
    first = api_client.post("/api/v1/emails/", body, format="json").json()
    message_id = first["recipients"][0]["message_id"]
    url = _path(tracking.unsubscribe_url(account.pk, message_id))
    assert Client().post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
    second = api_client.post("/api/v1/emails/", body, format="json").json()
    assert second["recipients"][0]["status"] == "rejected"
    assert second["recipients"][0]["reason"] == "unsubscribed"


def test_very_long_links_are_left_untracked():
    long_url = "https://a.example/?q=" + "x" * 2100
    out = tracking.rewrite_html(
        f'<a href="{long_url}">A</a>', 1, "m", track_opens=False, track_clicks=True, unsubscribe="u"
    )
    assert long_url in out and "/t/c/" not in out


def test_the_message_remembers_its_first_human_open_and_click(client, message):
    url = _path(tracking.open_url(message.account_id, "msg-1"))
    client.get(url, HTTP_USER_AGENT="Mozilla/5.0")  # a privacy proxy's prefetch
    message.refresh_from_db()
    assert message.first_opened_at is not None and message.first_human_opened_at is None
    client.get(url, HTTP_USER_AGENT=BROWSER)
    click = _path(tracking.click_url(message.account_id, "msg-1", "https://a.example/"))
    client.get(click, HTTP_USER_AGENT=BROWSER)
    message.refresh_from_db()
    assert message.first_human_opened_at is not None
    assert message.first_human_clicked_at == message.first_clicked_at
