"""Reports of any MIME shape are read without an exception (Hypothesis).

`parse_report` turns any exception into "not a bounce", so a bug that raises on one shape of
report would silently drop every bounce of that shape. These properties call the reader
underneath (`_parse`) on generated messages: nested multiparts of every report type, bodies
of DSN and feedback fields that are empty, repeated, folded or malformed, broken transfer
encodings and charsets. Found this way: a DSN whose `Action:` field came twice, empty, raised
and was lost.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from delivery.reports import BOUNCE, COMPLAINT, NOT_A_BOUNCE, _parse, parse_report
from tests.delivery.bounce_reports import TRANSFER_ENCODERS, dsn_report

CONTENT_TYPES = [
    "multipart/report; report-type=delivery-status",
    "multipart/report; report-type=feedback-report",
    "multipart/report",
    "multipart/mixed",
    "multipart/alternative",
    "message/delivery-status",
    "message/global-delivery-status",
    "message/rfc822",
    "message/global",
    "message/feedback-report",
    "text/rfc822-headers",
    "message/global-headers",
    "text/plain",
    "text/plain; charset=x-unknown",
    "text/plain; charset=iso-2022-jp",
    "text/html",
    "application/json",
]
TRANSFER_ENCODINGS = ["", "base64", "quoted-printable", "8bit", "x-uuencode"]
LINES = [
    "",
    " folded",
    "Reporting-MTA: dns; mx.example.net",
    "Final-Recipient: rfc822; bob@example.org",
    "Final-Recipient:",
    "Original-Recipient: rfc822;",
    "Action: failed",
    "Action:",
    "Status: 5.1.1",
    "Status: 9.9.9.9",
    "Status: 553 Exceeded maximum inbound message size",
    "Diagnostic-Code: smtp; 550 5.1.1 user unknown",
    "Diagnostic-Code:",
    "Feedback-Type: abuse",
    "Original-Rcpt-To:",
    "Original-Rcpt-To: bob@example.org",
    "X-Failed-Recipients: ,,,",
    "From: MAILER-DAEMON@mx.example.net",
    "To: news@acme.example",
    "Subject: =?utf-8?b?!!?=",
    "Message-ID: <x@example.net>",
    "Received: from mx.example.net",
    "<bob@example.org>:",
    "550 5.1.1 <bob@example.org>: Recipient address rejected",
    "=?",
    "=ZZ",
    "\x00",
    '{"notificationType": "Bounce"',
    '{"bounce": {"bouncedRecipients": [{}]}}',
    "\\x{D800}",
    "--",
    "begin 644 x",
]
TOP_LINES = LINES[16:23]


@st.composite
def parts(draw: st.DrawFn, depth: int = 0) -> str:
    kinds = CONTENT_TYPES if depth < 3 else CONTENT_TYPES[12:]
    content_type = draw(st.sampled_from(kinds))
    boundary = f"b{depth}"
    head = f"Content-Type: {content_type}"
    if content_type.startswith("multipart") and draw(st.booleans()):
        head += f'; boundary="{boundary}"'
    encoding = draw(st.sampled_from(TRANSFER_ENCODINGS))
    if encoding:
        head += f"\nContent-Transfer-Encoding: {encoding}"
    if content_type.startswith("multipart"):
        children = draw(st.lists(parts(depth + 1), max_size=3))
        body = "".join(f"--{boundary}\n{child}\n" for child in children)
        if draw(st.booleans()):
            body += f"--{boundary}--\n"
    else:
        body = "\n".join(draw(st.lists(st.sampled_from(LINES), max_size=12)))
        if encoding in TRANSFER_ENCODERS and draw(st.booleans()):
            # Encoded as it says (a message/* part too: RFC 6533), or left raw as it does not.
            body = TRANSFER_ENCODERS[encoding](body.encode("utf-8", "surrogateescape")).decode(
                "ascii"
            )
    return f"{head}\n\n{body}"


@settings(max_examples=300, deadline=None)
@given(top=st.lists(st.sampled_from(TOP_LINES), max_size=4), body=parts())
def test_no_shape_of_report_raises(top, body):
    raw = "\n".join([*top, "MIME-Version: 1.0", body]).encode("utf-8", "surrogateescape")

    report = _parse(raw)  # raises on a bug: parse_report would hide it

    assert report.kind in (BOUNCE, COMPLAINT, NOT_A_BOUNCE)


@settings(max_examples=100, deadline=None)
@given(repeated=st.lists(st.sampled_from(["Action:", "Action: ", "Status:"]), max_size=3))
def test_a_dsn_with_empty_repeated_fields_is_still_a_bounce(repeated):
    fields = "\n".join(["Final-Recipient: rfc822; bob@example.org", *repeated, "Status: 5.1.1"])
    raw = dsn_report(fields)

    report = parse_report(raw)

    assert report.kind == BOUNCE
    assert [(o.recipient, o.action) for o in report.failed] == [("bob@example.org", "failed")]
