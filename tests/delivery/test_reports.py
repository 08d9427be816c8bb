from __future__ import annotations

import random
from pathlib import Path

import pytest

from delivery.reports import parse_report
from tests.delivery.bounce_reports import dsn_report, qmail_report, sendmail_report

SAMPLES = Path("/work/shared/cases/bounces")


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def outcomes(report) -> list[tuple]:
    return [(r.recipient, r.bounce_class, r.hard) for r in report.failed]


def test_it_reads_a_dsn_with_recipients_of_different_classes():
    report = parse_report(sample("lhost-postfix-13.eml"))

    assert report.kind == "bounce"
    classes = {r.recipient: r for r in report.failed}
    assert len(classes) == 2
    # The other one says "user unknown" under 5.2.1, which says the mailbox exists (RFC 3463
    # X.2.1): conflicting evidence, so no invalid address.
    assert sorted(r.bounce_class for r in classes.values()) == ["mailbox_full", "other"]
    full = next(r for r in classes.values() if r.bounce_class == "mailbox_full")
    assert full.status == "5.2.2"
    assert full.smtp_code == 550
    assert full.permanent
    assert not full.hard
    assert report.original_message_id == "<20150213024748.CEEDB20C16@2jo.example.jp>"


def test_it_reads_an_exim_bounce_without_a_dsn_part():
    report = parse_report(sample("lhost-exim-02.eml"))

    assert report.kind == "bounce"
    assert outcomes(report) == [
        ("kijitora@example.jp", "invalid_address", True),
        # "User Unknown" under 5.2.1 (the mailbox exists): conflicting, so no block.
        ("sabatora@example.jp", "other", False),
    ]
    assert report.failed[0].evidence == "text_5_1_x"
    assert report.failed[1].reason == "status 5.2.1 says the mailbox exists"
    assert report.failed[0].smtp_code == 550
    assert report.failed[0].status == "5.1.1"
    # The original's headers come inline, after the explanation.
    assert report.original_message_id == "<E1X58pB-0004bW-2s@marutamachi.example.org>"
    assert report.original_header("Subject") == "test from Exim 1"


def test_it_finds_the_original_however_it_is_attached():
    # A blank line before the attached headers.
    attached = parse_report(sample("lhost-x3-01.eml"))
    assert attached.original_message_id == "<fffffffffffffffffffffffffffffff@xample.org>"
    # The original as a part with no MIME headers of its own.
    bare = parse_report(sample("lhost-x1-01.eml"))
    assert bare.original_header("To") == "kijitora@example.co.jp"
    # Headers quoted inline without a space after the colon.
    inline = parse_report(sample("lhost-zoho-04.eml"))
    assert inline.original_header("Subject") == "Nyaaaan"


def test_it_reads_a_gmail_bounce():
    report = parse_report(sample("lhost-gmail-18.eml"))

    assert outcomes(report) == [("kijitora@example.or.jp", "invalid_address", True)]
    assert report.original_header("To") == "kijitora@example.or.jp"


def test_a_delay_notice_is_a_temporary_failure():
    report = parse_report(sample("lhost-gmail-06.eml"))

    assert report.kind == "bounce"
    [outcome] = report.failed
    assert outcome.bounce_class == "mailbox_full"
    assert not outcome.permanent


def test_it_reads_japanese_bounces():
    report = parse_report(sample("lhost-kddi-01.eml"))

    assert report.kind == "bounce"
    assert report.subject == "メールエラー通知"
    assert outcomes(report) == [("kijitora@x0000000000000.dion.ne.jp", "mailbox_full", False)]


def test_it_reads_a_multipart_report_whose_boundary_is_missing():
    report = parse_report(sample("lhost-messagingserver-03.eml"))

    assert [r.recipient for r in report.failed] == ["sabineko@example.org", "mikeneko@example.org"]


def test_it_reads_amazon_ses_notifications():
    bounce = parse_report(sample("lhost-amazonses-09.eml"))
    assert outcomes(bounce) == [("bounce@simulator.amazonses.com", "invalid_address", True)]
    assert bounce.original_header("Subject") == "nyaan"

    complaint = parse_report(sample("lhost-amazonses-11.eml"))
    assert complaint.kind == "complaint"
    assert complaint.recipients[0].recipient == "complaint@simulator.amazonses.com"

    delivery = parse_report(sample("lhost-amazonses-12.eml"))
    assert delivery.kind == "not_a_bounce"
    assert delivery.failed == []


def test_it_reads_an_arf_feedback_report():
    report = parse_report(sample("arf-01.eml"))

    assert report.kind == "complaint"
    assert report.feedback_type == "abuse"
    # No Original-Rcpt-To: the To of the embedded message is the complained-about recipient.
    assert [r.recipient for r in report.recipients] == ["redacted@example.net"]
    assert report.recipients[0].bounce_class == "complaint"
    assert report.failed == []


def test_it_takes_the_complained_about_recipient_from_original_rcpt_to():
    report = parse_report(sample("arf-02.eml"))

    assert report.kind == "complaint"
    assert [r.recipient for r in report.recipients] == [
        "this-local-part-does-not-exist-on-yahoo@yahoo.com"
    ]


def test_it_reads_every_complained_about_recipient():
    report = parse_report(sample("arf-16.eml"))

    assert report.kind == "complaint"
    assert len(report.recipients) == 7


def test_auto_replies_and_ordinary_mail_are_not_bounces():
    for name in ("rfc3834-01.eml", "rfc3834-02.eml", "rfc3834-03.eml", "is-not-bounce-01.eml"):
        report = parse_report(sample(name))
        assert report.kind == "not_a_bounce", name
        assert report.failed == []


def test_it_finds_a_custom_header_of_the_original_in_rfc822_headers():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\n"
        b"To: news@mail.example.com\r\n"
        b"Subject: Delivery Status Notification (Failure)\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; Alice@Example.COM\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <alice@example.com>: user unknown\r\n"
        b"\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"From: news@mail.example.com\r\nTo: alice@example.com\r\n"
        b"Message-ID: <abc@mail.example.com>\r\nX-SES-Message-ID: msg-4711\r\n"
        b"\r\n--b--\r\n"
    )
    report = parse_report(raw)

    assert outcomes(report) == [("alice@example.com", "invalid_address", True)]
    assert report.failed[0].diagnostic == "550 5.1.1 <alice@example.com>: user unknown"
    assert report.original_message_id == "<abc@mail.example.com>"
    assert report.original_header("X-SES-Message-ID") == "msg-4711"


def test_a_person_replying_about_a_bounce_is_not_a_bounce():
    raw = (
        b"From: Carol <carol@example.org>\nTo: news@mail.example.com\n"
        b"Subject: Re: Undeliverable: November news\n\n"
        b"Why did my message to dave@example.org fail? It could not be delivered.\n"
    )

    assert parse_report(raw).kind == "not_a_bounce"


def test_a_bounce_forwarded_by_a_person_is_read():
    report = parse_report(sample("lhost-sendmail-14.eml"))

    assert report.kind == "bounce"
    assert [r.bounce_class for r in report.failed] == ["invalid_address"]


def test_a_delivered_notice_is_not_a_bounce():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\n"
        b"Subject: Delivery Status Notification (Success)\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n'
        b"\n--b\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example.net\n\n"
        b"Final-Recipient: rfc822; alice@example.com\nAction: delivered\nStatus: 2.0.0\n"
        b"\n--b--\n"
    )
    report = parse_report(raw)

    assert report.kind == "not_a_bounce"
    assert report.recipients[0].action == "delivered"
    assert report.failed == []


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Subject: hi\n\nhello",
        b"Content-Type: multipart/report\n\n--",
    ],
)
def test_malformed_input_is_not_a_bounce_and_never_raises(raw):
    report = parse_report(raw)

    assert report.kind == "not_a_bounce"
    assert report.failed == []


@pytest.mark.parametrize("path", sorted((SAMPLES / "crlf").glob("*.eml")), ids=lambda p: p.name)
def test_crlf_and_lf_copies_give_identical_reports(path):
    crlf = parse_report(path.read_bytes())
    lf = parse_report((SAMPLES / path.name).read_bytes())

    assert (crlf.kind, crlf.recipients, crlf.feedback_type, crlf.original_message_id) == (
        lf.kind,
        lf.recipients,
        lf.feedback_type,
        lf.original_message_id,
    )


def test_damaged_samples_are_read_without_falling_back_on_the_safety_net():
    # parse_report swallows any exception; the reading itself should not need it.
    from delivery.reports import _parse

    rng = random.Random(7)
    for name in (
        "lhost-exim-02.eml",
        "lhost-messagingserver-04.eml",
        "arf-16.eml",
        "rfc3464-06.eml",
    ):
        data = sample(name)
        for _ in range(30):
            damaged = bytearray(data[: rng.randrange(len(data) + 1)])
            for _ in range(rng.choice((1, 8, 40))):
                if damaged:
                    damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            _parse(bytes(damaged))


def test_it_reads_raw_eight_bit_headers():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\nSubject: Undeliverable\n"
        b"Auto-Submitted: auto-r\xe9plique\n\n"
        b"<bob@example.com>: 550 5.1.1 user unknown\n"
    )

    assert outcomes(parse_report(raw)) == [("bob@example.com", "invalid_address", True)]


GROUP_NOTICE = """\
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: sender@example.com
Subject: Delivery Status Notification (Failure)
Auto-Submitted: auto-replied
X-Failed-Recipients: {recipient}
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 8bit

Ciao sender@example.com,

il gruppo che hai cercato di contattare ({recipient}) forse non esiste, oppure
non puoi pubblicarvi messaggi.
{reply}
Grazie,
Google Gruppi
"""


def test_a_google_groups_notice_is_a_posting_refusal_in_any_language():
    raw = GROUP_NOTICE.format(recipient="cats-club@googlegroups.com", reply="").encode()
    report = parse_report(raw)

    assert outcomes(report) == [("cats-club@googlegroups.com", "blocked", False)]
    assert report.failed[0].rule == "group-notice"
    assert report.failed[0].evidence == ""


def test_a_group_notice_needs_a_group_address_and_no_server_reply():
    # A person's address in the same shape: the usual rules decide, not the group rule.
    person = GROUP_NOTICE.format(recipient="kijitora@example.org", reply="").encode()
    assert parse_report(person).failed[0].rule != "group-notice"
    # A server's own reply about the group address is read like any other reply.
    reply = "550 5.1.1 The email account that you tried to reach does not exist."
    with_reply = GROUP_NOTICE.format(recipient="cats-club@googlegroups.com", reply=reply)
    outcome = parse_report(with_reply.encode()).failed[0]
    assert outcome.rule != "group-notice"
    assert outcome.bounce_class == "invalid_address"


def _exim_bounce(recipient: str, reply: str) -> bytes:
    return f"""From: Mail Delivery System <Mailer-Daemon@mta.example.net>
To: news@acme.example
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: {recipient}

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {recipient}
    SMTP error from remote mail server after RCPT TO:<{recipient}>:
    host mx.example.net [192.0.2.7]: {reply}
""".encode()


def test_mailbox_unavailable_at_outlook_com_is_an_unknown_user_and_elsewhere_proves_nothing():
    reply = "550 Requested action not taken:\n    mailbox unavailable"
    at_outlook = parse_report(_exim_bounce("gone@hotmail.com", reply)).failed
    elsewhere = parse_report(_exim_bounce("gone@example.org", reply)).failed
    assert [(r.recipient, r.bounce_class, r.evidence) for r in at_outlook] == [
        ("gone@hotmail.com", "invalid_address", "wording")
    ]
    assert [(r.recipient, r.bounce_class) for r in elsewhere] == [("gone@example.org", "other")]


def _jmrp_complaint(recipient_header: str, sender: str = "staff@hotmail.com") -> bytes:
    # The shape of a Junk Mail Reporting Program complaint before Microsoft moved to ARF.
    return f"""From: {sender}
Subject: complaint about message from 192.0.2.10
To: fbl@acme.example
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: message/rfc822
Content-Disposition: inline

{recipient_header}X-Reporter-IP: 198.51.100.4
From: News <news@acme.example>
To: "Carol" <carol@hotmail.com>
Subject: Our autumn offers
Message-ID: <m-42@acme.example>

Hello
--b1--
""".encode()


def test_it_reads_a_microsoft_complaint_in_its_pre_arf_format():
    report = parse_report(_jmrp_complaint("X-HmXmrOriginalRecipient: carol.alias@hotmail.com\n"))
    assert report.kind == "complaint"
    assert report.feedback_type == "abuse"
    # The mailbox it was delivered to, which is the address we sent to, not the To header.
    assert [r.recipient for r in report.recipients] == ["carol.alias@hotmail.com"]
    assert report.original_message_id == "<m-42@acme.example>"


def test_a_microsoft_complaint_whose_wrapper_was_lost_is_still_a_complaint():
    inner = _jmrp_complaint("X-HmXmrOriginalRecipient: carol@hotmail.com\n").split(b"\n\n", 2)[2]
    raw = b"Return-Path: staff@hotmail.com\n" + inner.split(b"\n--b1--")[0]
    report = parse_report(raw)
    assert (report.kind, [r.recipient for r in report.recipients]) == (
        "complaint",
        ["carol@hotmail.com"],
    )


def test_mail_forwarded_from_an_outlook_com_mailbox_is_no_complaint():
    # Outlook.com stamps every delivered message; only Microsoft's own report is a complaint.
    forwarded = _jmrp_complaint(
        "X-HmXmrOriginalRecipient: carol@hotmail.com\n", sender="Carol <carol@hotmail.com>"
    )
    assert parse_report(forwarded).kind == "not_a_bounce"


def _postfix_plain_bounce(reply_lines: str) -> bytes:
    # Postfix's own bounce text with no DSN part: a long reply wraps onto indented lines.
    return f"""From: MAILER-DAEMON@mail.acme.example (Mail Delivery System)
To: news@mail.acme.example
Subject: Undelivered Mail Returned to Sender

This is the mail system at host mail.acme.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<bob@example.org>: host mx.example.org[192.0.2.7] said: {reply_lines}
""".encode()


@pytest.mark.parametrize(
    ("reply_lines", "diagnostic", "bounce_class"),
    [
        (
            "550 no\n    such user here (in reply to RCPT TO command)",
            "550 no such user here (in reply to RCPT TO command)",
            "invalid_address",
        ),
        (
            "550\n    Mailbox is full (in reply to RCPT TO command)",
            "550 Mailbox is full (in reply to RCPT TO command)",
            "mailbox_full",
        ),
    ],
)
def test_a_reply_wrapped_over_several_lines_is_read_whole(reply_lines, diagnostic, bounce_class):
    (failed,) = parse_report(_postfix_plain_bounce(reply_lines)).failed
    assert (failed.recipient, failed.diagnostic, failed.bounce_class) == (
        "bob@example.org",
        diagnostic,
        bounce_class,
    )


def test_sendmails_first_line_of_a_reply_is_completed_from_its_transcript():
    # sendmail's DSN keeps only the first line of a multi-line reply ("552-5.7.0 This message
    # was blocked because its content presents a potential"); the transcript has them all.
    report = parse_report(sample("lhost-sendmail-31.eml"))
    first = "552-5.7.0 This message was blocked because its content presents a potential"
    assert [r.diagnostic for r in report.failed] == [
        f"{first} 552-5.7.0 security issue. Please visit 552-5.7.0"
        " https://support.google.com/mail/answer/6590 to review our message 552 5.7.0 content"
        " and attachment content guidelines. p4si4011367igr.94 - gsmtp"
    ] * 2
    # Read whole, it is Gmail's refusal of the content (5.7.0 alone is a policy block).
    assert {r.bounce_class for r in report.failed} == {"spam_rejected"}


def test_a_first_line_the_transcript_does_not_continue_is_left_as_it_is():
    # A reply whose continuation is missing (a report cut short) keeps the line it has.
    raw = sample("lhost-sendmail-59.eml").replace(b"<<< 550-5.7.1 authentication", b"<<< x")
    (failed,) = parse_report(raw).failed
    assert failed.diagnostic == (
        "550-5.7.1 This message does not have authentication information or fails to pass"
    )


def test_an_html_explanation_is_read_with_its_entities_and_line_breaks():
    # Exchange Online writes its NDR in HTML, the server's reply inside &#39;…&#39; with the
    # address in &lt;…&gt;; with no text part and no DSN, that is all there is to read.
    raw = b"""From: postmaster@mail.acme.example
To: news@mail.acme.example
Subject: Undeliverable: Hello
MIME-Version: 1.0
Content-Type: text/html; charset="us-ascii"

<html><body><p>Your message to bob@example.org couldn&#39;t be delivered.</p>
<p>Diagnostic information for administrators:</p><p>Generating server: mail.acme.example<br>
bob@example.org<br>Remote Server returned &#39;550 Mailbox doesn&#39;t exist&#39;<br>
RCPT TO:&lt;bob@example.org&gt;</p></body></html>
"""
    (failed,) = parse_report(raw).failed
    assert (failed.recipient, failed.bounce_class) == ("bob@example.org", "invalid_address")
    assert "550 Mailbox doesn't exist" in failed.diagnostic
    assert "&#39;" not in failed.diagnostic


def test_another_recipients_reply_is_never_part_of_this_ones():
    # The transcript comes after the list: read from each address's first mention on, the
    # last one listed took in every reply of the session, "bad destination mailbox" of the
    # first included, and was blocked everywhere for a header that was too long.
    replies = {
        "ann@example.org": "550 BAD DESTINATION MAILBOX ADDRESS",
        "bob@example.org": "552 The size of a header name exceeds the limit",
    }
    classes = {
        r.recipient: r.bounce_class
        for r in parse_report(sendmail_report({a: [r] for a, r in replies.items()})).failed
    }
    # Ann's own RCPT TO, in the transcript, shows the stage: an unknown user.
    assert classes == {"ann@example.org": "invalid_address", "bob@example.org": "other"}


def test_an_address_inside_a_longer_one_is_not_mentioned_there():
    # "bob@example.org" is the end of "jimbob@example.org", not a mention of it.
    replies = {
        "bob@example.org": "550 Mailbox is full",
        "jimbob@example.org": "550 BAD DESTINATION MAILBOX ADDRESS",
    }
    report = parse_report(sendmail_report({a: [r] for a, r in replies.items()}))
    classes = {r.recipient: r.bounce_class for r in report.failed}
    assert classes == {"bob@example.org": "mailbox_full", "jimbob@example.org": "invalid_address"}


def test_an_antivirus_signature_under_a_bounce_is_no_reason():
    # MailScanner signs what its host sends, bounces included: "scanned for viruses" in the
    # prose part is neither a content refusal nor a conflict with the unknown user.
    reply = "550 5.1.1 <gone@example.net>... User unknown"
    signed = _exim_bounce("gone@example.net", reply) + (
        b"\n-- \nThis message has been scanned for viruses and\n"
        b"dangerous content by MailScanner, and is\nbelieved to be clean.\n"
    )
    [outcome] = parse_report(signed).failed
    assert (outcome.bounce_class, outcome.evidence, outcome.reason) == (
        "invalid_address",
        "text_5_1_x",
        "",
    )


def test_the_servers_words_are_found_without_a_reply_code():
    # Amazon SES's plain-text failure notice quotes the reply from its enhanced status on.
    ses = b"""From: MAILER-DAEMON@amazonses.com
To: bounces@acme.example
Subject: Email Delivery Failure

This is a delivery failure notification message indicating that
an email you addressed to email address :
-- gone@example.edu

could not be delivered. The problem appears to be :
-- Recipient email address is possibly incorrect

Additional information follows :
-- 5.1.1 <gone@example.edu>: Recipient address rejected: The e-mail address
   you entered couldn't be found.
"""
    [outcome] = parse_report(ses).failed
    assert outcome.diagnostic == (
        "5.1.1 <gone@example.edu>: Recipient address rejected: The e-mail address"
        " you entered couldn't be found."
    )
    assert (outcome.bounce_class, outcome.evidence) == ("invalid_address", "text_5_1_x")
    # qmail-send puts the reason on the lines below the recipient.
    qmail = qmail_report("<gone@example.net>:\nSorry, no mailbox here by that name. (#5.1.1)")
    [outcome] = parse_report(qmail).failed
    assert outcome.recipient == "gone@example.net"
    assert outcome.diagnostic == "Sorry, no mailbox here by that name. (#5.1.1)"
    assert outcome.bounce_class == "invalid_address"


def test_a_version_number_is_not_taken_for_the_servers_words():
    # No reply code anywhere: "Exim 4.94.2" is no enhanced status (RFC 3463 subjects are 0-7).
    bounce = b"""From: Mail Delivery System <Mailer-Daemon@mta.example.net>
To: news@acme.example
Subject: Mail delivery failed: returning message to sender

This message was created automatically by mail delivery software (Exim 4.94.2 on
mta.example.net).

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  gone@example.net
    retry timeout exceeded
"""
    [outcome] = parse_report(bounce).failed
    assert outcome.recipient == "gone@example.net"
    assert not outcome.diagnostic.startswith("4.94.2")
    assert "retry timeout exceeded" in outcome.diagnostic


def test_a_telephone_number_is_not_taken_for_a_reply_code():
    # A hosting provider's template (flufl.bounce's qmail_07, and a 2013 bounce of the same
    # template): the help-desk number came out as the server's words.
    bounce = b"""From: MAILER-DAEMON@p3smtp.example.net
To: news@acme.example
Subject: failure notice

Your mail message to the following address(es) could not be delivered. This
is a permanent error. Please verify the addresses and try again. If you are
still having difficulty sending mail to these addresses, please contact
Customer Support at 480-624-2500.

<full@example.com>:
child status 100...The e-mail message could not be delivered because the user's mailfolder is full.
"""
    [outcome] = parse_report(bounce).failed
    assert outcome.diagnostic.startswith("child status 100...The e-mail message")
    assert (outcome.smtp_code, outcome.bounce_class) == (None, "mailbox_full")
    # A deferral that gives a number to call is not made permanent by it.
    deferral = bounce.replace(b"480-624-2500", b"555-1234").replace(
        b"This\nis a permanent error.", b"We will retry\nlater."
    )
    deferral = deferral.replace(b"child status 100...", b"451 4.3.0 ")
    [outcome] = parse_report(deferral).failed
    assert (outcome.smtp_code, outcome.action) == (451, "delayed")


def test_a_5xx_reply_is_a_failure_whatever_the_explanation_says_of_delay():
    # 21cn.com's notice asks the sender to reach the recipient "so as not to delay": the
    # reply is a 550, and the message was refused for good.
    bounce = b"""From: Postmaster@corp.example.cn
To: news@acme.example
Subject: Undelivered Mail

Sorry, we were unable to deliver your message to the address, please contact the
recipient by other way, so as not to delay.

Unable to send: < gone@example.com.hk >
host 127.0.0.1[127.0.0.1] said: 550 the recipient refuses to accept this letter (in reply
to end of DATA command)
"""
    [outcome] = parse_report(bounce).failed
    assert outcome.recipient == "gone@example.com.hk"
    assert (outcome.action, outcome.smtp_code, outcome.permanent) == ("failed", 550, True)
    # The same words with a 4xx reply: still on its way.
    [outcome] = parse_report(bounce.replace(b"said: 550", b"said: 450")).failed
    assert outcome.action == "delayed"


def test_a_reply_on_several_unindented_lines_is_the_diagnostic_whole():
    # qmail quotes the remote reply as it came, one line under another (RFC 5321 §4.2.1).
    bounce = qmail_report(
        "<bob@gmail.com>:\n192.0.2.9 failed after I sent the message.\n"
        "Remote host said: 550-5.7.26 Unauthenticated email from acme.example is not accepted"
        " due to domain's\n550-5.7.26 DMARC policy. Please contact the administrator of"
        " acme.example domain if\n550 5.7.26 this was a legitimate mail."
    )
    [outcome] = parse_report(bounce).failed
    assert outcome.diagnostic.endswith("550 5.7.26 this was a legitimate mail.")
    assert outcome.diagnostic.startswith("550-5.7.26 Unauthenticated email")
    # A line that only looks continued ("550-192.0.2.1 blocked", an address after the
    # dash) is part of the reply too.
    exim = bounce.replace(b"550-5.7.26 Unauthenticated", b"550-192.0.2.1 blocked; unauthenticated")
    [outcome] = parse_report(exim).failed
    assert outcome.diagnostic.startswith("550-192.0.2.1 blocked")


def test_a_programs_daemon_address_does_not_make_its_mail_a_bounce():
    # A bug tracker's notification ("bugzilla-daemon@…", SpamAssassin's test corpus).
    notice = b"""From: bugzilla-daemon@bugs.example.com
To: dev@acme.example
Subject: [Bug 132] new install fills quarantine retention
Auto-Submitted: auto-generated

testing
"""
    assert parse_report(notice).kind == "not_a_bounce"
    # MDaemon's own bounce comes from "MDaemon@" (flufl.bounce's simple_27).
    mdaemon = b"""From: MDaemon@webmail.example.net.py
To: news@acme.example
Subject: Warning: gone@example.net.py - User unknown!

gone@example.net.py - no such user here.
"""
    [outcome] = parse_report(mdaemon).failed
    assert outcome.recipient == "gone@example.net.py"


def test_every_address_of_a_delay_warning_is_delayed():
    # Exim's warning gives a reason for the first address and none for the second.
    warning = b"""From: Mail Delivery System <Mailer-Daemon@mx.example.ru>
To: news@acme.example
Subject: Warning: message 1KNmHQ-000Md3-Kj delayed 24 hours

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mx.example.ru.

The addresses to which the message has not yet been delivered are:

  full@example.ru
    Delay reason: SMTP error from remote mail server after RCPT TO:<full@example.ru>:
    host imap1.example.ru [192.0.2.60]: 452 4.2.2 Over quota
  quiet@example.ru

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered. Eventually the mail delivery software will give up,
and when that happens, the message will be returned to you.
"""
    outcomes = {o.recipient: o.action for o in parse_report(warning).failed}
    assert outcomes == {"full@example.ru": "delayed", "quiet@example.ru": "delayed"}


def test_a_header_with_more_encoded_words_than_any_real_one_is_still_decoded():
    # Past a hundred "=?" the words are decoded one by one (the email package's own decoder
    # is quadratic in their number); each well-formed word still reads as its text.
    subject = b" ".join([b"=?utf-8?q?caf=C3=A9?="] * 150 + [b"=?broken"])
    report = parse_report(b"Subject: " + subject + b"\n\nhello\n")

    assert report.subject.count("café") == 150
    assert report.subject.endswith("=?broken")


def test_a_dsn_of_many_recipients_is_read_whole():
    blocks = "\n\n".join(
        f"Final-Recipient: rfc822; user{n}@example.org\nAction: failed\nStatus: 5.1.1"
        for n in range(2000)
    )
    report = parse_report(dsn_report(blocks))

    assert len(report.failed) == 2000
    assert report.failed[-1].recipient == "user1999@example.org"


def test_a_message_of_more_than_ten_thousand_parts_is_not_read():
    # The email package makes a part per blank line of a delivery-status part: 2 MB of them
    # took 27 s to parse. A report about one recipient never has that many.
    raw = dsn_report("Final-Recipient: rfc822; bob@example.org\nStatus: 5.1.1" + "\n" * 20_000)
    report = parse_report(raw)

    assert (report.kind, report.failed) == ("not_a_bounce", [])
    assert report.unreadable == "more than 10,000 MIME parts"


def test_a_diagnostic_is_read_up_to_ten_thousand_characters():
    reply = "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown "
    blocks = f"Final-Recipient: rfc822; bob@example.org\nDiagnostic-Code: smtp; {reply * 700}"
    [outcome] = parse_report(dsn_report(blocks)).failed

    assert outcome.bounce_class == "invalid_address"
    assert len(reply * 700) > 40_000
    assert 9_900 <= len(outcome.diagnostic) <= 10_000


def _one_failure(recipient: str, diagnostic: str) -> bytes:
    return dsn_report(
        f"Final-Recipient: rfc822; {recipient}\nAction: failed\nStatus: 5.1.1\n"
        f"Diagnostic-Code: smtp; {diagnostic}\n"
    )


def test_a_reply_that_refuses_another_address_is_a_forwards_failure():
    # The DSN names only the address we sent to; the server's reply names where it forwards.
    forwarded = _one_failure(
        "alumni.joe@univ.example",
        "550-5.1.1 <joe.graduated.2019@gmail.com>: The email account that you tried to "
        "reach does not exist.",
    )
    [outcome] = parse_report(forwarded).failed
    assert (outcome.recipient, outcome.bounce_class, outcome.hard) == (
        "alumni.joe@univ.example",
        "other",
        False,
    )
    assert outcome.reason == (
        "the reply names joe.graduated.2019@gmail.com, not alumni.joe@univ.example: the "
        "failed address is another, where it forwards to"
    )


@pytest.mark.parametrize(
    "diagnostic",
    [
        "550 5.1.1 <Gone@Example.NET>: Recipient address rejected: User unknown",
        "550 5.1.1 <gone@example.net>... User unknown",
        "550 5.1.1 RCPT TO:<gone@example.net> User unknown",
        "550 5.1.1 User unknown",  # names no address: the DSN's recipient it is
        # The sender in a quoted MAIL FROM is not the refused address.
        "MAIL FROM:<news@acme.example> RCPT TO:<gone@example.net> 550 5.1.1 User unknown",
    ],
)
def test_a_reply_that_refuses_the_address_sent_to_stays_invalid(diagnostic):
    [outcome] = parse_report(_one_failure("gone@example.net", diagnostic)).failed
    assert (outcome.recipient, outcome.bounce_class, outcome.reason) == (
        "gone@example.net",
        "invalid_address",
        "",
    )


def test_an_ses_recipient_with_a_display_name_is_its_address():
    notification = b"""From: no-reply@sns.amazonaws.com
To: bounces@acme.example
Subject: AWS Notification Message
Content-Type: text/plain

{"notificationType": "Bounce", "bounce": {"bounceType": "Permanent",
 "bouncedRecipients": [{"emailAddress": "\\"Kim Lee\\" <KIM.Lee@Dest.example>",
  "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"},
  {"emailAddress": 42, "status": "5.1.1"}]},
 "mail": {"messageId": "0100-abc"}}
"""
    report = parse_report(notification)
    assert [(o.recipient, o.bounce_class) for o in report.failed] == [
        ("kim.lee@dest.example", "invalid_address"),
        (None, "invalid_address"),  # not an address: nobody is blamed, nothing blocked
    ]


def test_a_gateways_summary_in_a_dsn_gives_way_to_the_remote_reply():
    # Cisco Secure Email's DSN (as RIPE NCC's whois tests hold one, 2024): Status 5.0.0, and a
    # diagnostic whose own 5.1.0 summary quotes Exchange Online's Directory-Based Edge Blocking.
    raw = dsn_report(
        "Final-Recipient: rfc822; nobody@contoso.example\nAction: failed\n"
        "Status: 5.0.0 (permanent failure)\nRemote-MTA: dns; [192.0.2.1]\n"
        "Diagnostic-Code: smtp; 5.1.0 - Unknown address error 550-'5.4.1 Recipient address "
        "rejected: Access denied. AS(3333) [xxx.protection.outlook.com]' (delivery attempts: 0)\n"
    )
    (outcome,) = parse_report(raw).failed
    assert outcome.recipient == "nobody@contoso.example"
    assert outcome.bounce_class == "invalid_address"
    assert outcome.evidence == "wording"
    # The console shows the server's reply, not the gateway's summary of it.
    assert outcome.diagnostic.startswith("550 5.4.1 Recipient address rejected: Access denied.")
    assert "Unknown address error" not in outcome.diagnostic


def test_a_forwards_target_wrapped_onto_the_next_line_is_no_second_recipient():
    # Postfix wraps a long reply: the alias's target starts an indented line. It is the
    # address the server refused, not a recipient of ours; ours forwards to it and exists.
    lines = (
        "550 5.1.1\n    <bob.home@example.net>: Recipient address rejected: User unknown in\n"
        "    virtual alias table (in reply to RCPT TO command)"
    )
    (failed,) = parse_report(_postfix_plain_bounce(lines)).failed
    assert failed.recipient == "bob@example.org"
    assert failed.bounce_class == "other", failed
    assert "bob.home@example.net" in failed.reason
    assert "Recipient address rejected" in failed.diagnostic


def test_a_notice_that_only_foresees_a_permanent_failure_is_a_delay():
    # Gmail's delay notice: "You'll be notified if the delivery fails permanently."
    raw = b"""From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: news@mail.acme.example
Subject: Delivery Status Notification (Delay)

There was a temporary problem delivering your message to bob@example.org. Gmail will retry
for 45 more hours. You'll be notified if the delivery fails permanently.

The response from the remote server was:
421 4.7.0 Try again later, closing connection.
"""
    report = parse_report(raw)
    assert [(o.recipient, o.action) for o in report.recipients] == [("bob@example.org", "delayed")]


def test_advice_offering_causes_in_another_sentence_leaves_the_reply_its_meaning():
    # Exchange Online's NDR for an unknown recipient, its HTML only: the advice "The address
    # may be misspelled or may not exist" is no reply that offers several causes.
    raw = b"""From: Microsoft Outlook <postmaster@contoso.example.org>
To: news@mail.acme.example
Subject: Undeliverable: Spring sale
Content-Type: text/html; charset="us-ascii"

<html><body><p><b>Your message to bob@example.org couldn't be delivered.</b></p>
<p>bob wasn't found at example.org.</p>
<p><b>Unknown To address</b></p>
<p>How to Fix It<br>The address may be misspelled or may not exist. Try one or more of the
following: send the message again. If the problem continues, contact your email admin at
<a href="mailto:it-help@example.org">it-help@example.org</a>.</p>
<p>More Info for Email Admins<br>Status code: 550 5.1.10<br>This error occurred because the
sender sent a message to an email address hosted by Office 365 but the address is incorrect
or doesn't exist at the destination domain.</p>
<p>Original Message Details<br>Sender Address: news@mail.acme.example<br>Recipient Address:
bob@example.org<br>Subject: Spring sale</p>
<p>Error Details<br>Reported error: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not
found by SMTP address lookup</p></body></html>
"""
    (failed,) = parse_report(raw).failed
    assert (failed.recipient, failed.bounce_class) == ("bob@example.org", "invalid_address")
