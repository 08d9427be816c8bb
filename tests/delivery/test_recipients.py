"""Whom a bounce blames: only the report's own recipient fields, never its own addresses, a
postmaster, a mail daemon or a mailing list. Small synthetic messages, one rule each."""

from __future__ import annotations

import pytest

from delivery.recipients import (
    is_group_service_address,
    is_role_or_list,
    list_addresses,
    named_in_fields,
)
from delivery.reports import parse_report


def message(headers: str, body: str) -> bytes:
    return (headers.strip() + "\n\n" + body.strip() + "\n").encode()


BOUNCE_HEADERS = """
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: news@mail.acme.example
Subject: Undelivered Mail Returned to Sender
"""


def test_the_failed_address_is_taken_not_the_postmaster_mentioned_in_the_text():
    raw = message(
        BOUNCE_HEADERS,
        """
For further assistance, please send mail to postmaster@mx.example.net

<bob@example.org>: host mx.example.org said: 550 5.1.1 User unknown
(in reply to RCPT TO command)
""",
    )

    (outcome,) = parse_report(raw).failed

    assert outcome.recipient == "bob@example.org"
    assert outcome.bounce_class == "invalid_address"


def test_a_postmaster_alone_is_never_blamed():
    raw = message(
        BOUNCE_HEADERS,
        """
Your message could not be delivered.
postmaster@example.org: 550 5.1.1 User unknown (in reply to RCPT TO command)
""",
    )

    assert [o.recipient for o in parse_report(raw).failed] == [None]


def test_the_bounce_own_from_and_to_are_never_the_recipient():
    raw = message(
        BOUNCE_HEADERS,
        """
Your message could not be delivered. This is a permanent error.
Contact news@mail.acme.example or MAILER-DAEMON@mx.example.net for help.
550 5.1.1 User unknown (in reply to RCPT TO command)
""",
    )

    assert [o.recipient for o in parse_report(raw).failed] == [None]


def test_a_mailing_list_address_from_the_returned_headers_is_never_blamed():
    raw = message(
        BOUNCE_HEADERS,
        """
This is a permanent error. The following address(es) failed:
550 5.1.1 User unknown (in reply to RCPT TO command)

------ This is a copy of the message's headers. ------
From: news@mail.acme.example
To: cats@lists.example.org
Subject: Weekly news
Message-ID: <abc@mail.acme.example>
Date: Mon, 30 Nov 2026 10:00:00 +0000
List-Id: Cats <cats.lists.example.org>
List-Post: <mailto:cats@lists.example.org>
""",
    )

    report = parse_report(raw)

    assert [o.recipient for o in report.failed] == [None]
    assert "cats@lists.example.org" in list_addresses(report.original_headers)


def test_list_plumbing_and_role_names_are_recognised():
    for address in (
        "owner-cats@lists.example.org",
        "cats-request@lists.example.org",
        "cats-bounces@lists.example.org",
        "postmaster@example.org",
        "MAILER-DAEMON@example.org",
    ):
        assert is_role_or_list(address.lower()), address
    assert not is_role_or_list("bob@example.org")
    assert not is_role_or_list("postmaster-fan@example.org")


def test_x_failed_recipients_names_the_recipient_of_a_dsn_without_one():
    raw = message(
        """
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: news@mail.acme.example
Subject: Mail delivery failed
X-Failed-Recipients: carol@example.org
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"
""",
        """
--b
Content-Type: text/plain

A message that you sent could not be delivered.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: x-unknown; |/usr/bin/procmail
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b--
""",
    )

    (outcome,) = parse_report(raw).failed

    assert outcome.recipient == "carol@example.org"
    assert named_in_fields(raw) == {"carol@example.org"}


def test_a_dsn_status_5_1_1_is_the_strongest_evidence():
    raw = message(
        """
From: MAILER-DAEMON@mx.example.net
To: news@mail.acme.example
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"
""",
        """
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; dave@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 The email account that you tried to reach does not exist

--b--
""",
    )

    (outcome,) = parse_report(raw).failed

    assert (outcome.recipient, outcome.bounce_class, outcome.evidence) == (
        "dave@example.org",
        "invalid_address",
        "dsn_5_1_x",
    )


def test_text_glued_to_an_address_is_not_part_of_its_domain():
    # Greetings written without a space after the address ("…@example.jp您好") must not turn
    # the bounce's own addressee into a new, made-up recipient.
    headers = """
From: Mail Delivery Subsystem <mailer-daemon@mx.example.net>
To: news@mail.acme.example
Subject: Delivery Status Notification (Failure)
X-Failed-Recipients: team@groups.example.org
Content-Type: text/plain; charset="UTF-8"
"""
    raw = message(headers, "news@mail.acme.example您好\uff0c\n\n您的郵件無法送達。")

    assert [o.recipient for o in parse_report(raw).failed] == ["team@groups.example.org"]


def dsn_fields(fields: str, diagnostic: str | None = "550 5.1.1 User unknown") -> bytes:
    """A DSN with one per-recipient block: `fields`, then the diagnostic (if any)."""
    diagnostic_line = f"Diagnostic-Code: smtp; {diagnostic}\n" if diagnostic else ""
    return f"""From: MAILER-DAEMON@mx.example.net
To: news@mail.acme.example
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Delivery to the following recipients failed.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

{fields.strip()}
{diagnostic_line}
--b--
""".encode()


def dsn(final_recipient: str) -> bytes:
    return dsn_fields(f"Final-Recipient: {final_recipient}\nAction: failed\nStatus: 5.1.1")


def test_an_internationalised_local_part_in_the_report_field_is_read():
    # RFC 6533 writes it as \\x{...}; older MTAs as an RFC 2047 encoded word.
    for field in (
        "utf-8; \\x{1F408}cat@example.org",
        "rfc822; =?utf-8?B?8J+QiGNhdA==?=@example.org",
    ):
        (outcome,) = parse_report(dsn(field)).failed
        assert outcome.recipient == "\U0001f408cat@example.org"
        assert outcome.bounce_class == "invalid_address"


def test_an_escape_that_names_no_character_is_kept_as_written():
    for field in ("utf-8; \\x{D800}cat@example.org", "utf-8; \\x{FFFFFF}cat@example.org"):
        (outcome,) = parse_report(dsn(field)).failed
        assert outcome.bounce_class == "invalid_address"
        outcome.recipient.encode("utf-8")  # no lone surrogate or out-of-range character
        assert outcome.recipient.startswith("\\x{")


def test_group_service_addresses_are_groups_not_mailboxes():
    assert is_group_service_address("cats-club@googlegroups.com")
    assert is_group_service_address("Cats-Club@GoogleGroups.com")
    assert not is_group_service_address("cats-club@example.com")
    assert not is_group_service_address("googlegroups.com@example.com")
    assert not is_group_service_address(None)


# --- Forwards, lists and the shapes real bounces take (a check on the flufl.bounce corpus of
# Mailman bounces found each of these; the messages below are written for one rule each) ---


def test_the_original_recipient_is_the_address_we_sent_to_and_a_forward_proves_nothing():
    raw = dsn_fields(
        """
Original-Recipient: rfc822;bob@example.org
Final-Recipient: rfc822;bob.old@mail.example.net
Action: failed
Status: 5.1.1
"""
    )

    (outcome,) = parse_report(raw).failed

    # RFC 3464 §2.3.1: Original-Recipient is the address as the sender gave it.
    assert (outcome.recipient, outcome.final_recipient) == (
        "bob@example.org",
        "bob.old@mail.example.net",
    )
    # The mailbox that does not exist is the forward's target: bob@ exists as an alias.
    assert outcome.bounce_class == "other"
    assert "forwards to" in outcome.reason


@pytest.mark.parametrize(
    ("actual", "final_recipient", "bounce_class"),
    [
        # sendmail names where the alias expanded to in X-Actual-Recipient.
        ("rfc822; bob.old@mail.example.net", "bob.old@mail.example.net", "other"),
        ("RFC822; bob@example.org", None, "invalid_address"),  # no alias: the same address
        ("X-Unix; |/home/bob/mail/catch.pl", None, "invalid_address"),  # a program, no address
    ],
)
def test_sendmail_s_actual_recipient_is_where_an_alias_led(actual, final_recipient, bounce_class):
    raw = dsn_fields(
        f"""
Final-Recipient: RFC822; bob@example.org
X-Actual-Recipient: {actual}
Action: failed
Status: 5.1.1
"""
    )

    (outcome,) = parse_report(raw).failed

    assert (outcome.recipient, outcome.final_recipient, outcome.bounce_class) == (
        "bob@example.org",
        final_recipient,
        bounce_class,
    )


def test_a_full_forward_target_still_says_the_mail_did_not_arrive():
    raw = dsn_fields(
        """
Original-Recipient: rfc822;bob@example.org
Final-Recipient: rfc822;bob.old@mail.example.net
Action: failed
Status: 5.2.2
""",
        "552 5.2.2 Mailbox full",
    )

    (outcome,) = parse_report(raw).failed

    assert (outcome.recipient, outcome.bounce_class) == ("bob@example.org", "mailbox_full")


def test_an_original_recipient_equal_to_the_final_one_is_no_forward():
    raw = dsn_fields(
        """
Original-Recipient: rfc822;Bob@Example.org
Final-Recipient: rfc822;bob@example.org
Action: failed
Status: 5.1.1
"""
    )

    (outcome,) = parse_report(raw).failed

    assert (outcome.recipient, outcome.final_recipient) == ("bob@example.org", None)
    assert outcome.bounce_class == "invalid_address"


def test_an_expanded_address_is_blamed_on_the_address_it_was_expanded_from():
    postfix = """
<bob.old@mail.example.net> (expanded from <bob@example.org>): host mail.example.net
    said: 550 5.1.1 User unknown (in reply to RCPT TO command)
"""
    sendmail = """
   ----- The following addresses had permanent fatal errors -----
bob.old@mail.example.net
    (expanded from: bob@example.org)

   ----- Transcript of session follows -----
550 5.1.1 bob.old@mail.example.net... User unknown
"""
    for body in (postfix, sendmail):
        (outcome,) = parse_report(message(BOUNCE_HEADERS, body)).failed
        assert (outcome.recipient, outcome.final_recipient) == (
            "bob@example.org",
            "bob.old@mail.example.net",
        )
        assert outcome.bounce_class == "other"


def test_a_list_is_never_blamed_when_the_bounce_went_to_its_bounce_address():
    # Mailman sends as cats-bounces@; the returned headers show the list as To and name no
    # List-Post: the list itself is cats@, never the failed recipient.
    raw = message(
        """
From: postmaster@example.org
To: cats-bounces@lists.example.net
Subject: Undeliverable: Weekly news
""",
        """
Your message
  To:      cats@lists.example.net
  Subject: Weekly news
did not reach the following recipient(s):
c=US;a= ;p=EXAMPLE;o=Nexus;dda:SMTP=bob@example.org; on Fri, 4 Oct 2002
    The recipient name is not recognized
""",
    )

    (outcome,) = parse_report(raw).failed

    # The X.400 form "dda:SMTP=<address>" carries the Internet address after its type.
    assert outcome.recipient == "bob@example.org"


def test_a_list_named_owner_is_never_blamed_either():
    """`owner-bounces@` is the bounce address of a list named "owner" (or the owner of one
    named "bounces"): neither list is the failed recipient. Hypothesis found this one."""
    raw = message(
        """
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: owner-bounces@lists.example.net
Subject: Undelivered Mail Returned to Sender
""",
        """
I'm sorry to have to inform you that your message could not be delivered.

550 5.1.1 User unknown (the account of bob@example.org)
This message was sent to the owner@lists.example.net list.
""",
    )

    (outcome,) = parse_report(raw).failed

    assert outcome.recipient == "bob@example.org"


def test_an_address_the_mail_came_from_is_never_the_recipient():
    raw = message(
        """
From: MAILER-DAEMON@mail.example.net
To: news-bounces@lists.acme.example
Subject: Mail Delivery Problem
""",
        """
Your mail to the following recipients could not be delivered because they are not
accepting mail from news@lists.acme.example:
    bob
""",
    )

    assert [o.recipient for o in parse_report(raw).failed] == [None]


def test_among_several_addresses_in_the_prose_none_is_guessed():
    raw = message(
        """
From: postmaster@example.org
To: news@mail.acme.example
Subject: FAILED MAIL to "bob"
""",
        """
The standard form of address here is lastnameNumber@example.org. The address to which
your message was addressed, bob@example.org, did not match. Try robert7@example.org.
""",
    )

    assert [o.recipient for o in parse_report(raw).failed] == [None]


def test_every_labelled_recipient_line_is_read():
    raw = message(
        """
From: MAILER-DAEMON@mail.example.net
To: news@mail.acme.example
Subject: Undeliverable mail
""",
        """
Unknown user: ann@example.org

RCPT TO generated following response:
553 5.3.0 <ann@example.org>... Addressee unknown

Unknown user: bob@example.org

RCPT TO generated following response:
553 5.3.0 <bob@example.org>... Addressee unknown
""",
    )

    assert sorted(o.recipient for o in parse_report(raw).failed) == [
        "ann@example.org",
        "bob@example.org",
    ]


def test_a_sender_labelled_line_is_not_a_recipient_line():
    raw = message(
        BOUNCE_HEADERS,
        """
Envelope sender: news@lists.acme.example
Unknown user: bob@example.org
550 5.1.1 User unknown
""",
    )

    assert [o.recipient for o in parse_report(raw).failed] == ["bob@example.org"]


def test_a_noun_for_the_action_and_a_reply_for_the_status_are_read():
    raw = dsn_fields(
        """
Final-Recipient: rfc822;bob@example.org
Action: failure
Status: 553 Exceeded maximum inbound message size
""",
        diagnostic=None,
    )

    (outcome,) = parse_report(raw).failed

    assert (outcome.recipient, outcome.action, outcome.smtp_code) == (
        "bob@example.org",
        "failed",
        553,
    )
    assert outcome.bounce_class == "other"  # the message was too big, not the address bad


def test_a_microsoft_non_delivery_report_is_a_bounce():
    raw = message(
        """
From: <admin@example.org>
To: <news-bounces@lists.acme.example>
Subject: Non-Delivery: Your message to News awaits moderator approval
""",
        """
--- Non-Delivery Report ---
The email below could not be delivered to the following user:

"bob@example.org" <bob@example.org>
""",
    )

    report = parse_report(raw)

    assert report.kind == "bounce"
    assert [o.recipient for o in report.failed] == ["bob@example.org"]


def test_a_name_lookup_that_may_work_later_never_proves_a_domain_dead():
    raw = message(
        BOUNCE_HEADERS,
        """
<bob@example.org>: Name service error for domain example.org: Host not found, try again
""",
    )

    (outcome,) = parse_report(raw).failed

    assert outcome.recipient == "bob@example.org"
    assert outcome.bounce_class == "other"


def test_the_returned_message_s_subject_is_not_the_reason_it_failed():
    # Exchange's NDR quotes the original's To/Subject/Sent; a subject about viruses is the
    # sender's words, not the server's.
    raw = message(
        BOUNCE_HEADERS,
        """
Your message
  To:      News
  Subject: Virus warning: check your spam folder
  Sent:    Fri, 18 Oct 2002 09:25:07 -0600
did not reach the following recipient(s):
bob@example.org on Fri, 18 Oct 2002 09:13:24 -0600
    The recipient name is not recognized
    MSEXCH:IMS:EXAMPLE:NEXUS 0 (000C05A6) Unknown Recipient
""",
    )

    (outcome,) = parse_report(raw).failed

    assert (outcome.recipient, outcome.bounce_class) == ("bob@example.org", "invalid_address")
    assert "Virus" not in outcome.diagnostic
