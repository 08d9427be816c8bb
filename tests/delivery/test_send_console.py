"""The console's "send a test email" page, the identity admin and the demo's SMTP sink."""

from __future__ import annotations

import smtplib
import threading
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from delivery.models import OutboundRecipient, SenderIdentity
from delivery.sending import add_sender_identity
from tests.delivery.smtp_server import free_port

pytestmark = pytest.mark.django_db

URL = reverse("delivery:send_test")


def test_without_a_verified_sender_the_page_says_what_to_do(alice_client):
    page = alice_client.get(URL)
    assert page.status_code == 200
    assert b"no verified sender domain" in page.content


def test_it_queues_a_test_email_from_a_verified_domain(alice_client, account):
    add_sender_identity(account, "mail.acme.example", verified=True)
    page = alice_client.get(URL)
    assert b'value="noreply@mail.acme.example"' in page.content
    response = alice_client.post(
        URL,
        {
            "from_address": "noreply@mail.acme.example",
            "to": "alice@gmail.com",
            "subject": "Test",
            "html": "<p>Hi</p>",
        },
        follow=True,
    )
    assert b"Queued a test email to alice@gmail.com" in response.content
    row = OutboundRecipient.objects.get()
    assert (row.account, row.state, row.email.reference) == (account, "queued", "console-test")
    assert b"alice@gmail.com" in response.content  # listed under recent emails


def test_a_blocked_recipient_is_explained_in_words(alice_client, account):
    from blocklist import changes, custom

    add_sender_identity(account, "mail.acme.example", verified=True)
    custom.add_custom_blocks(account, ["held@example.com"], actor=changes.SYSTEM)
    response = alice_client.post(
        URL,
        {
            "from_address": "noreply@mail.acme.example",
            "to": "held@example.com",
            "subject": "Test",
            "html": "<p>Hi</p>",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Not sent to held@example.com: it is on your custom blocklist." in text
    assert "custom_blocked" not in text
    assert OutboundRecipient.objects.get().state == "rejected"


def test_it_only_offers_the_accounts_own_senders(alice_client, account, other_account):
    add_sender_identity(account, "mail.acme.example", verified=True)
    add_sender_identity(other_account, "mail.globex.example", verified=True)
    response = alice_client.post(
        URL,
        {
            "from_address": "noreply@mail.globex.example",
            "to": "a@gmail.com",
            "subject": "T",
            "html": "x",
        },
    )
    assert response.status_code == 200
    assert b"not one of the available choices" in response.content
    assert not OutboundRecipient.objects.exists()


def test_a_user_without_an_account_gets_the_no_account_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="password"))
    assert client.get(URL).status_code == 403


def test_staff_verify_identities_in_the_admin(staff_client, account):
    pending = add_sender_identity(account, "news.acme.example")
    done = add_sender_identity(account, "mail.acme.example", verified=True)
    changelist = reverse("admin:delivery_senderidentity_changelist")
    assert b"news.acme.example" in staff_client.get(changelist).content
    response = staff_client.post(
        changelist,
        {"action": "verify", "_selected_action": [pending.pk, done.pk]},
        follow=True,
    )
    assert b"Verified 1 identity(ies)." in response.content
    assert SenderIdentity.objects.filter(verified_at__isnull=False).count() == 2


def test_kept_reports_are_listed_in_the_admin(staff_client):
    from delivery.intake import intake

    report = intake(b"Subject: <script>x</script>\n\nhello")
    assert staff_client.get(reverse("admin:delivery_inboundreport_changelist")).status_code == 200
    page = staff_client.get(reverse("admin:delivery_inboundreport_change", args=[report.pk]))
    assert b"&lt;script&gt;" in page.content and b"<script>x" not in page.content


def test_setup_demo_verifies_the_demo_sender_domains(db):
    call_command("setup_demo", days=0.01, per_day=5, verbosity=0)
    verified = set(
        SenderIdentity.objects.filter(account__name="acme", verified_at__isnull=False).values_list(
            "value", flat=True
        )
    )
    assert verified == {"mail.acme.example", "news.acme.example"}


def test_the_demo_sink_accepts_mail_and_keeps_it(tmp_path):
    port = free_port()
    thread = threading.Thread(
        target=call_command,
        args=["smtp_sink"],
        kwargs={"port": port, "folder": str(tmp_path)},
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 10
    while True:
        try:
            smtp = smtplib.SMTP("127.0.0.1", port, timeout=2)
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    with smtp:
        smtp.sendmail("a@mail.acme.example", ["b@gmail.com"], b"Subject: hi\r\n\r\nbody\r\n")
    (kept,) = tmp_path.glob("*.eml")
    assert b"Subject: hi" in kept.read_bytes()


def test_a_member_turns_tracking_off_for_the_account(alice_client, account):
    from delivery.sending import settings_for

    assert settings_for(account).track_opens is True
    response = alice_client.post(
        reverse("delivery:tracking_settings"), {"track_clicks": "on"}, follow=True
    )
    assert b"Open tracking is off, click tracking is on." in response.content
    options = settings_for(account)
    assert (options.track_opens, options.track_clicks) == (False, True)
    assert b'name="track_opens">' in response.content  # shown unchecked


def test_an_identity_added_in_the_admin_is_stored_normalised(staff_client, account):
    response = staff_client.post(
        reverse("admin:delivery_senderidentity_add"),
        {"account": account.pk, "kind": "address", "value": " Mail.ACME.Example "},
    )
    assert response.status_code == 302
    identity = SenderIdentity.objects.get()
    assert (identity.kind, identity.value) == ("domain", "mail.acme.example")
    bad = staff_client.post(
        reverse("admin:delivery_senderidentity_add"),
        {"account": account.pk, "kind": "domain", "value": "not a domain"},
    )
    assert bad.status_code == 200 and SenderIdentity.objects.count() == 1
