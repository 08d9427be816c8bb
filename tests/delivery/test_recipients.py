"""Whom a bounce blames: only the report's own recipient fields, never its own addresses, a
postmaster, a mail daemon or a mailing list. Small synthetic messages, one rule each."""

from __future__ import annotations

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


def dsn(final_recipient: str) -> bytes:
    return f"""From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>
To: news@mail.acme.example
Subject: Returned mail: User unknown
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

The following address had permanent fatal errors.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: {final_recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b--
""".encode()


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
