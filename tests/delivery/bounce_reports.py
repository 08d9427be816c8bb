"""Returned mail in the layouts MTAs give it, for tests that put replies inside reports."""

from __future__ import annotations

import base64
import email
import email.message
import quopri

from delivery.bounces import find_enhanced_status

# A body encoded as its Content-Transfer-Encoding says.
TRANSFER_ENCODERS = {"base64": base64.encodebytes, "quoted-printable": quopri.encodestring}


def sendmail_report(replies: dict[str, list[str]]) -> bytes:
    """sendmail's DSN: every failed address with the first line of its reply, then the whole
    session transcript, then the DSN fields (which, like the reason, keep only that first line).
    `replies` maps each address to the lines of the reply its RCPT TO got."""
    listed = "\n".join(f"<{a}>\n    (reason: {lines[0]})" for a, lines in replies.items())
    session = "\n".join(
        f">>> RCPT To:<{a}>\n" + "\n".join(f"<<< {line}" for line in lines)
        for a, lines in replies.items()
    )
    fields = "\n".join(
        f"Final-Recipient: RFC822; {a}\nAction: failed\n"
        f"Status: {find_enhanced_status(lines[0]) or '5.0.0'}\nDiagnostic-Code: SMTP; {lines[0]}\n"
        for a, lines in replies.items()
    )
    return f"""From: Mail Delivery Subsystem <MAILER-DAEMON@mail.acme.example>
To: <news@mail.acme.example>
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b

   ----- The following addresses had permanent fatal errors -----
{listed}

   ----- Transcript of session follows -----
... while talking to mx.example.org.:
{session}

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.acme.example

{fields}
--b--
""".encode()


def qmail_report(failures: str) -> bytes:
    """qmail-send's bounce: its greeting, then `failures` (each "<address>:" and the lines
    of its reason) as qmail writes them, then the marker above the returned copy."""
    return f"""From: MAILER-DAEMON@mx.example.net
To: news@acme.example
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

{failures}

--- Below this line is a copy of the message.
""".encode()


def dsn_report(blocks: str) -> bytes:
    """A bare RFC 3464 report: a line of text, then a delivery-status part whose per-recipient
    `blocks` follow its Reporting-MTA block."""
    return (
        "From: MAILER-DAEMON@mx.example.net\nTo: news@acme.example\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nfailed\n"
        f"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n{blocks}\n"
        "--B--\n"
    ).encode()


def forwarded_as_attachment(raw: bytes, note: str = "Why did this one come back?\n") -> bytes:
    """`raw` attached to a person's message, as a mail client's "Forward as attachment" sends
    it."""
    outer = email.message.Message()
    outer["From"] = "Alice <alice@customer.example>"
    outer["To"] = "bounces@console.example"
    outer["Subject"] = "Fwd: returned mail"
    outer["MIME-Version"] = "1.0"
    outer.set_type("multipart/mixed")
    text = email.message.Message()
    text.set_payload(note)
    attached = email.message.Message()
    attached.set_type("message/rfc822")
    attached.set_payload([email.message_from_bytes(raw.replace(b"\r\n", b"\n"))])
    outer.attach(text)
    outer.attach(attached)
    return outer.as_bytes()
