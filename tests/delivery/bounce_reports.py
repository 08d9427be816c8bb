"""Returned mail in the layouts MTAs give it, for tests that put replies inside reports."""

from __future__ import annotations

from delivery.bounces import find_enhanced_status


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
