"""Taking in returned mail blames only the recipient of the sent message it refers to."""

from __future__ import annotations

import pytest

from blocklist.models import Block
from delivery.intake import intake
from delivery.models import DeliveryEvent, InboundReport
from delivery.sending import SendRequest, add_sender_identity, send_email

pytestmark = pytest.mark.django_db


def _sent(account, to: str):
    add_sender_identity(account, "mail.acme.example", verified=True)
    req = SendRequest(from_address="news@mail.acme.example", to=[to], subject="Hi", text="x")
    return send_email(account, req).recipient_rows[0]


def dsn(final_recipient: str, status: str, diagnostic: str, ses_id: str | None) -> bytes:
    returned = (
        "From: news@mail.acme.example\n"
        f"To: {final_recipient}\n"
        "Subject: Hi\n"
        "Message-ID: <unknown-to-us@mail.acme.example>\n"
        + (f"X-SES-Message-ID: {ses_id}\n" if ses_id else "")
    )
    return (
        "From: MAILER-DAEMON@mx.example.net\n"
        "To: news@mail.acme.example\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n'
        "\n--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
        "\n--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        f"Final-Recipient: rfc822; {final_recipient}\n"
        "Action: failed\n"
        f"Status: {status}\n"
        f"Diagnostic-Code: smtp; {diagnostic}\n"
        "\n--b\nContent-Type: text/rfc822-headers\n\n" + returned + "\n--b--\n"
    ).encode()


def test_a_matched_dsn_5_1_1_blocks_our_recipient_with_the_strongest_evidence(account):
    row = _sent(account, "bob@example.org")

    report = intake(dsn("bob@example.org", "5.1.1", "550 5.1.1 User unknown", row.message_id))

    assert report.status == InboundReport.Status.MATCHED
    event = DeliveryEvent.objects.get(type="bounced")
    assert (event.bounce_class, event.bounce_evidence) == ("invalid_address", "dsn_5_1_x")
    block = Block.objects.invalid().get()
    assert (block.address, block.bounce_evidence) == ("bob@example.org", "dsn_5_1_x")


def test_a_report_that_matches_no_sent_mail_is_kept_unmatched_and_blocks_nothing(account):
    _sent(account, "bob@example.org")

    report = intake(dsn("bob@example.org", "5.1.1", "550 5.1.1 User unknown", None))

    assert report.status == InboundReport.Status.UNMATCHED
    assert not DeliveryEvent.objects.filter(type="bounced").exists()
    assert not Block.objects.exists()


def test_a_report_about_another_address_never_invalidates_ours(account):
    # We sent to bob@, who forwards to an address that no longer exists.
    row = _sent(account, "bob@example.org")

    intake(dsn("bob.old@forward.example", "5.1.1", "550 5.1.1 User unknown", row.message_id))

    event = DeliveryEvent.objects.get(type="bounced")
    assert event.bounce_class == "other"
    assert not Block.objects.exists()
    # Staff can read why it is no invalid address.
    assert InboundReport.objects.get().note == (
        "Classified other: the report names bob.old@forward.example, not the address sent to."
    )


def test_a_policy_refusal_under_5_1_1_is_not_an_invalid_address(account):
    row = _sent(account, "bob@example.org")

    intake(
        dsn(
            "bob@example.org",
            "5.1.1",
            "550 5.1.1 Message rejected as spam by Content Filtering",
            row.message_id,
        )
    )

    assert DeliveryEvent.objects.get(type="bounced").bounce_class == "spam_rejected"
    assert not Block.objects.exists()


def test_a_report_naming_our_address_as_original_recipient_is_about_ours(account):
    # We sent to bob@, whose mail is forwarded; the report gives both addresses (RFC 3464).
    row = _sent(account, "bob@example.org")
    raw = dsn("carol@example.org", "5.1.1", "550 5.1.1 User unknown", row.message_id).replace(
        b"Final-Recipient: rfc822; carol@example.org\n",
        b"Final-Recipient: rfc822; carol@example.org\n"
        b"Action: delayed\n"
        b"Status: 4.4.7\n"
        b"\n"
        b"Original-Recipient: rfc822; bob@example.org\n"
        b"Final-Recipient: rfc822; bob.old@forward.example\n",
    )

    intake(raw)

    # The second block is ours (by its Original-Recipient): carol@ was only delayed.
    event = DeliveryEvent.objects.get(type="bounced")
    assert event.message.recipient == "bob@example.org"
    assert event.bounce_class == "other"  # the forward's mailbox is gone, not bob@
    assert not Block.objects.exists()
    assert "where bob@example.org forwards to" in InboundReport.objects.get().note


def test_a_matched_report_keeps_why_the_weaker_class_was_given(account):
    row = _sent(account, "bob@example.org")

    intake(
        dsn(
            "bob@example.org",
            "5.2.1",
            "550 5.2.1 <bob@example.org>... User Unknown (in reply to RCPT TO command)",
            row.message_id,
        )
    )

    assert DeliveryEvent.objects.get(type="bounced").bounce_class == "other"
    assert InboundReport.objects.get().note == (
        "Classified other: status 5.2.1 says the mailbox exists."
    )


def test_a_plain_invalid_address_needs_no_note(account):
    row = _sent(account, "bob@example.org")

    intake(dsn("bob@example.org", "5.1.1", "550 5.1.1 User unknown", row.message_id))

    assert InboundReport.objects.get().note == ""


def test_an_internationalised_recipient_is_matched_and_blocked_as_it_was_sent(account):
    # RFC 6531/6533: the report writes the domain as U-labels; we stored it as A-labels. Its
    # local part is one of the rules' words, which says nothing about the failure.
    row = _sent(account, "spam@例子.中国")
    assert row.address == "spam@xn--fsqu00a.xn--fiqs8s"

    report = intake(
        dsn("spam@例子.中国", "5.1.1", "550 5.1.1 <spam@例子.中国>: User unknown", row.message_id)
    )

    assert report.status == InboundReport.Status.MATCHED
    event = DeliveryEvent.objects.get(type="bounced")
    assert (event.bounce_class, event.bounce_evidence) == ("invalid_address", "dsn_5_1_x")
    assert Block.objects.invalid().get().address == "spam@xn--fsqu00a.xn--fiqs8s"
