"""A sent message's headers and body on its detail page, sandboxed and tenant-scoped."""

from __future__ import annotations

import pytest
from django.urls import reverse

from delivery.models import Message
from delivery.sending import SendRequest, add_sender_identity, send_email

pytestmark = pytest.mark.django_db

HOSTILE = (
    '<p>Hello <b>friend</b></p><script>parent.document.title="owned"</script>'
    '<img src=x onerror="alert(1)"><form action="https://evil.example/"><input name=p></form>'
    '<iframe src="https://evil.example/"></iframe><a href="https://shop.example/sale">Sale</a>'
)


@pytest.fixture
def sent(account):
    add_sender_identity(account, "mail.acme.example", verified=True)
    email = send_email(
        account,
        SendRequest(
            from_address="News <news@mail.acme.example>",
            to=["reader@example.com"],
            subject="Größe </title><script>alert(2)</script>",
            html=HOSTILE,
            text="Plain <b>text</b> & more",
            headers={"X-Campaign": "autumn"},
        ),
    )
    return Message.objects.get(message_id=email.recipient_rows[0].message_id)


def test_the_detail_page_shows_headers_text_and_a_sandboxed_frame(alice_client, sent):
    r = alice_client.get(reverse("delivery:message_detail", args=[sent.message_id]))
    html = r.content.decode()
    assert r.status_code == 200
    assert "X-Campaign" in html and "autumn" in html
    assert "List-Unsubscribe" in html  # as sent: the headers delivery adds
    # Text as escaped <pre>; the hostile HTML never enters the console page.
    assert "Plain &lt;b&gt;text&lt;/b&gt; &amp; more" in html
    assert "<script>alert" not in html and "parent.document.title" not in html
    assert "onerror" not in html
    body_url = reverse("delivery:message_body", args=[sent.message_id])
    assert f'sandbox src="{body_url}"' in html
    assert "allow-scripts" not in html and "allow-same-origin" not in html


def test_the_body_url_answers_with_a_strict_policy(alice_client, sent):
    r = alice_client.get(reverse("delivery:message_body", args=[sent.message_id]))
    assert r.status_code == 200
    assert r["Content-Type"] == "text/html; charset=utf-8"
    assert r["Content-Disposition"] == "inline"
    assert r["X-Content-Type-Options"] == "nosniff"
    csp = r["Content-Security-Policy"]
    for directive in ("default-src 'none'", "sandbox", "form-action 'none'", "img-src data:"):
        assert directive in csp
    assert "script-src" not in csp  # falls back to default-src 'none'
    assert r["X-Frame-Options"] == "SAMEORIGIN"
    assert b"<b>friend</b>" in r.content  # the body, for the frame to show
    # Without the tracking delivery adds: viewing or clicking here counts for nobody.
    assert b'href="https://shop.example/sale"' in r.content
    assert b"/t/c/" not in r.content and b"/t/o/" not in r.content


def test_the_headers_and_text_are_as_delivery_built_them(alice_client, sent):
    from delivery.models import OutboundRecipient
    from delivery.sending import build_message

    built = build_message(OutboundRecipient.objects.get(message_id=sent.message_id))
    html = alice_client.get(reverse("delivery:message_detail", args=[sent.message_id])).content
    assert built.extra_headers["Message-ID"].encode() in html.replace(b"&lt;", b"<").replace(
        b"&gt;", b">"
    )
    assert b"Plain &lt;b&gt;text&lt;/b&gt; &amp; more" in html


def test_another_account_sees_neither_page_nor_body(client, bob, sent):
    client.force_login(bob)
    assert client.get(reverse("delivery:message_detail", args=[sent.message_id])).status_code == 404
    r = client.get(reverse("delivery:message_body", args=[sent.message_id]))
    assert r.status_code == 404 and b"friend" not in r.content


def test_mail_not_sent_through_the_console_says_so(alice_client, account):
    from delivery.ingest import ingest_events
    from tests.events import make_event

    ingest_events(account, [make_event("request", "ext-1", to="x@example.com")])
    r = alice_client.get(reverse("delivery:message_detail", args=["ext-1"]))
    assert b"for mail sent through the console only" in r.content
    assert alice_client.get(reverse("delivery:message_body", args=["ext-1"])).status_code == 404


def test_delivery_did_track_the_links_the_frame_shows_untracked(sent):
    from delivery.models import OutboundRecipient
    from delivery.sending import build_message

    built = build_message(OutboundRecipient.objects.get(message_id=sent.message_id))
    html = next(content for content, mimetype in built.alternatives if mimetype == "text/html")
    assert "/t/c/" in html and "/t/o/" in html
