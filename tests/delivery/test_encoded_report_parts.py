"""A report's message/* parts sent base64 or quoted-printable are read as what they carry.

RFC 6533 lets message/global-delivery-status, message/global and message/global-headers be
encoded so on their way through 7-bit relays, and some MTAs encode a message/delivery-status or
a returned message/rfc822 so too. Every public sample, with those parts encoded, must give the
outcomes and the returned message id it gives as it is.
"""

from __future__ import annotations

import base64
import quopri
import re
from pathlib import Path

import pytest

from delivery.reports import parse_report

SAMPLES = Path("/work/shared/cases/bounces")
_ENCODE = {
    "base64": base64.encodebytes,
    "quoted-printable": lambda data: quopri.encodestring(data),
}
_BOUNDARY = re.compile(
    rb'^Content-Type:\s*multipart/[^\n]*?(?:\n[ \t][^\n]*)*?boundary="?([^";\n]+)', re.I | re.M
)
_MESSAGE_PART = re.compile(rb"^Content-Type:\s*message/(delivery-status|rfc822)\b", re.I | re.M)


def encoded_message_parts(raw: bytes, encoding: str) -> bytes | None:
    """`raw` with the body of each message/delivery-status and message/rfc822 part of its outer
    multipart encoded as `encoding`, or None when it has no such part sent unencoded."""
    raw = raw.replace(b"\r\n", b"\n")
    found = _BOUNDARY.search(raw)
    if found is None:
        return None
    boundary = b"\n--" + found.group(1).strip()
    pieces = raw.split(boundary + b"\n")
    changed = False
    for i, piece in enumerate(pieces[1:], start=1):
        headers, blank, body = piece.partition(b"\n\n")
        if not blank or not _MESSAGE_PART.search(headers):
            continue
        if re.search(rb"^Content-Transfer-Encoding:", headers, re.I | re.M):
            continue
        # The last part's body runs to the closing boundary; what follows stays as it is.
        body, closing, rest = body.partition(boundary + b"--")
        encoded = _ENCODE[encoding](body + b"\n").rstrip(b"\n")
        header = f"\nContent-Transfer-Encoding: {encoding}\n\n".encode()
        pieces[i] = headers + header + encoded + closing + rest
        if not closing:
            pieces[i] = headers + header + encoded
        changed = True
    return (boundary + b"\n").join(pieces) if changed else None


def _read(raw: bytes) -> tuple[list[tuple], str | None]:
    report = parse_report(raw)
    outcomes = sorted(
        (o.recipient or "", str(o.bounce_class), str(o.evidence), o.diagnostic)
        for o in report.recipients
    )
    return outcomes, report.original_message_id


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
def test_every_sample_reads_the_same_with_its_message_parts_encoded(encoding):
    checked, changed = 0, []
    for path in sorted(SAMPLES.rglob("*.eml")):
        raw = path.read_bytes()
        encoded = encoded_message_parts(raw, encoding)
        if encoded is None:
            continue
        checked += 1
        if _read(encoded) != _read(raw):
            changed.append(path.name)

    assert checked > 150
    assert changed == []


def test_a_global_dsn_sent_base64_names_its_utf8_recipient():
    """RFC 6533 §6.2: message/global-delivery-status may be base64 through a 7-bit relay."""
    fields = (
        "Reporting-MTA: dns; mx.example.net\n\n"
        "Original-Recipient: utf-8; 用户@example.org\n"
        "Final-Recipient: utf-8; 用户@example.org\n"
        "Action: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 没有这个用户\n"
    ).encode()
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\n"
        b"To: news@mail.acme.example\n"
        b"Subject: Undelivered Mail Returned to Sender\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=global-delivery-status; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nDelivery failed.\n\n"
        b"--b\nContent-Type: message/global-delivery-status\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(fields) + b"--b--\n"
    )

    (outcome,) = parse_report(raw).failed

    assert outcome.recipient == "用户@example.org"
    assert (outcome.bounce_class, outcome.status) == ("invalid_address", "5.1.1")
