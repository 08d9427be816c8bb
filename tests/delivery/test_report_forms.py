"""The same report in the other forms MTAs give it is read the same.

Every public sample, changed as below, must give the outcomes and the returned message id it
gives as it is:
- its message/* parts sent base64 or quoted-printable: RFC 6533 lets message/global-delivery-
  status, message/global and message/global-headers be encoded so through 7-bit relays, and
  some MTAs encode a message/delivery-status or a returned message/rfc822 so too;
- its explanation as HTML (Exchange Online and most providers write one), with the returned
  original's headers quoted in it;
- its text parts base64-encoded in their canonical form, with CRLF line breaks (RFC 2045 §6.8);
- forwarded by a person as an attachment (message/rfc822, as mail clients' "Forward as
  attachment" sends it), or inline, under the header block Gmail or Outlook writes above it;
- a mail gateway's tag before its subject ("[EXTERNAL]", "***SPAM***").
"""

from __future__ import annotations

import base64
import email
import email.message
import html
import re
from pathlib import Path

import pytest

from delivery.reports import NOT_A_BOUNCE, parse_report
from tests.delivery.bounce_reports import TRANSFER_ENCODERS, forwarded_as_attachment

SAMPLES = Path("/work/shared/cases/bounces")
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
        encoded = TRANSFER_ENCODERS[encoding](body + b"\n").rstrip(b"\n")
        header = f"\nContent-Transfer-Encoding: {encoding}\n\n".encode()
        pieces[i] = headers + header + encoded + closing + rest
        changed = True
    return (boundary + b"\n").join(pieces) if changed else None


def _read(raw: bytes) -> tuple[list[tuple], str | None]:
    report = parse_report(raw)
    outcomes = sorted(
        (o.recipient or "", str(o.bounce_class), str(o.evidence), o.diagnostic)
        for o in report.recipients
    )
    return outcomes, report.original_message_id


def _kind_and_read(raw: bytes) -> tuple[str, tuple[list[tuple], str | None]]:
    return parse_report(raw).kind, _read(raw)


def _read_differently(change, read=_read, pattern: str = "*.eml") -> tuple[int, list[str]]:
    """How many public samples `change` applies to, and which of them `read` tells apart from
    the sample as it was. `change(raw)` gives (the sample as it was, as changed) or None."""
    checked, changed = 0, []
    for path in sorted(SAMPLES.glob(pattern)):
        pair = change(path.read_bytes())
        if pair is None:
            continue
        checked += 1
        before, after = pair
        if read(after) != read(before):
            changed.append(path.name)
    return checked, changed


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
def test_every_sample_reads_the_same_with_its_message_parts_encoded(encoding):
    def change(raw: bytes) -> tuple[bytes, bytes] | None:
        encoded = encoded_message_parts(raw, encoding)
        return None if encoded is None else (raw, encoded)

    checked, changed = _read_differently(change, pattern="**/*.eml")

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


def _explanation_parts(raw: bytes) -> tuple[email.message.Message, list[email.message.Message]]:
    """The sample parsed, and the text/plain parts of its outer multipart."""
    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"))
    if message.get_content_maintype() != "multipart" or not message.is_multipart():
        return message, []
    return message, [p for p in message.get_payload() if p.get_content_type() == "text/plain"]


def _set_text(part: email.message.Message, ctype: str, data: bytes, encoding: str) -> None:
    del part["Content-Transfer-Encoding"]
    part.set_type(ctype)
    part.set_param("charset", "utf-8")
    part.set_payload(data)
    part["Content-Transfer-Encoding"] = encoding


_MARKUP = {
    # Each line ends with a break tag, as most HTML mail writes it.
    "br": lambda text: (
        "<html><body>"
        + "<br>\n".join(html.escape(line) for line in text.split("\n"))
        + "</body></html>"
    ),
    # Paragraphs, on one source line, under a style sheet whose rules are no words.
    "p": lambda text: (
        "<html><head><style>p { margin: 0 } .x { color: red }</style></head><body>"
        + "".join(
            "<p>" + "<br>".join(html.escape(line) for line in paragraph.split("\n")) + "</p>"
            for paragraph in re.split(r"\n[ \t]*\n", text)
        )
        + "</body></html>"
    ),
    "pre": lambda text: f"<html><body><pre>{html.escape(text)}</pre></body></html>",
    # Each break tag on a source line of its own, as some HTML writers lay it out.
    "br-own-line": lambda text: (
        "<html><body>\n"
        + "\n<br>\n".join(html.escape(line) for line in text.split("\n"))
        + "\n</body></html>"
    ),
}


def _as_html(raw: bytes, markup: str) -> bytes | None:
    message, parts = _explanation_parts(raw)
    for part in parts:
        try:
            text = part.get_payload(decode=True).decode(part.get_content_charset() or "latin-1")
        except (LookupError, UnicodeDecodeError):
            return None  # not in its declared charset: the reader guesses, the change cannot
        _set_text(part, "text/html", _MARKUP[markup](text).encode(), "8bit")
    return message.as_bytes() if parts else None


def _canonical_base64(raw: bytes) -> bytes | None:
    message, parts = _explanation_parts(raw)
    for part in parts:
        data = part.get_payload(decode=True).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        _set_text(part, "text/plain", base64.encodebytes(data), "base64")
    return message.as_bytes() if parts else None


# The banner a receiving organisation's gateway puts above mail from outside (Exchange Online
# transport rules and most secure email gateways): words of links, attachments and senders.
BANNER = (
    b"CAUTION: This email originated from outside of the organization. Do not click links or "
    b"open attachments unless you recognize the sender and know the content is safe.\n\n"
)


def _with_banner(raw: bytes) -> bytes | None:
    message, parts = _explanation_parts(raw)
    for part in parts[:1]:
        charset = part.get_content_charset() or "us-ascii"
        data = BANNER + part.get_payload(decode=True).replace(b"\r\n", b"\n")
        _set_text(part, "text/plain", data, "8bit")
        part.set_param("charset", charset)
    return message.as_bytes() if parts else None


def _as_is(raw: bytes) -> bytes:
    """The sample re-serialised the way the changed ones are, so that alone is no change."""
    return email.message_from_bytes(raw.replace(b"\r\n", b"\n")).as_bytes()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda raw: _as_html(raw, "br"), id="html-br"),
        pytest.param(lambda raw: _as_html(raw, "p"), id="html-p"),
        pytest.param(lambda raw: _as_html(raw, "pre"), id="html-pre"),
        pytest.param(lambda raw: _as_html(raw, "br-own-line"), id="html-br-own-line"),
        pytest.param(_canonical_base64, id="base64-crlf"),
    ],
)
def test_every_sample_reads_the_same_with_its_explanation_in_another_form(change):
    checked, changed = _read_differently(
        lambda raw: None if (form := change(raw)) is None else (_as_is(raw), form)
    )

    assert checked > 150
    assert changed == []


def test_an_html_bounce_s_style_sheet_is_no_words_and_its_quoted_headers_are_the_original():
    """Exchange Online's NDR is HTML: a style sheet (whose class names may be any words) and
    the original's headers quoted in the page."""
    raw = (
        b"From: Microsoft Outlook <postmaster@outlook.example>\n"
        b"To: news@mail.acme.example\n"
        b"Subject: Undeliverable: Hello\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/html; charset=utf-8\n\n"
        b"<html><head><style>.rejected-spam { color: red } .blocked { margin: 0 }</style>"
        b"</head><body>\n<header>Delivery has failed</header>\n"
        b"<p>Your message to &lt;bob@example.org&gt; couldn't be delivered.</p>\n"
        b"<p>Remote server returned '550 5.1.1 &lt;bob@example.org&gt;: User unknown'</p>\n"
        b"<p>Original message headers:</p>\n<pre>Received: from mail.acme.example\n"
        b"Message-ID: &lt;m1@mail.acme.example&gt;\nFrom: news@mail.acme.example\n"
        b"To: bob@example.org\nSubject: Hello\n</pre></body></html>\n"
    )

    report = parse_report(raw)

    (outcome,) = report.failed
    assert (outcome.recipient, outcome.bounce_class) == ("bob@example.org", "invalid_address")
    assert report.original_message_id == "<m1@mail.acme.example>"


def test_every_sample_reads_the_same_forwarded_as_an_attachment():
    """The attached report keeps its own headers, so it is read as if it had come on its own:
    plain-text bounces and feedback reports too, not only DSNs. Its returned original is its
    own: the forwarded report is not the message it returns (a message id of None stays None)."""
    reports, changed = 0, []
    for path in sorted(SAMPLES.glob("*.eml")):
        raw = path.read_bytes()
        as_is, forwarded = _as_is(raw), forwarded_as_attachment(raw)
        kind = parse_report(as_is).kind
        expected, got = (kind, _read(as_is)), (parse_report(forwarded).kind, _read(forwarded))
        if kind == NOT_A_BOUNCE:
            # Ordinary mail, an auto-reply or a delivery notice: that it stays no report counts.
            expected, got = expected[0], got[0]
        reports += kind != NOT_A_BOUNCE
        if got != expected:
            changed.append(path.name)

    assert reports > 300
    assert changed == []


def test_a_person_s_message_forwarding_an_ordinary_message_is_no_report():
    ordinary = (
        b"From: Bob <bob@example.org>\nTo: alice@customer.example\n"
        b"Subject: Lunch\nMessage-ID: <lunch-1@example.org>\n\nNoon at the usual place?\n"
    )
    report = parse_report(forwarded_as_attachment(ordinary, "See below.\n"))

    assert report.kind == NOT_A_BOUNCE
    assert report.recipients == []


# The header block a mail client writes above a message it forwards inline.
_INLINE_FORWARD = {
    "gmail": "---------- Forwarded message ---------\nFrom: {From}\nDate: {Date}\n"
    "Subject: {Subject}\nTo: {To}\n\n\n",
    "outlook": "________________________________\nFrom: {From}\nSent: {Date}\nTo: {To}\n"
    "Subject: {Subject}\n\n",
    # Outlook's HTML: the block's labels in bold, every line ending in a break.
    "outlook-html": "<hr>\n<b>From:</b> {From}<br>\n<b>Sent:</b> {Date}<br>\n<b>To:</b> {To}<br>\n"
    "<b>Subject:</b> {Subject}<br>\n<br>\n",
}


def _message(headers: dict[str, str], text: str, subtype: str = "plain") -> bytes:
    message = email.message.EmailMessage()
    for name, value in headers.items():
        message[name] = value
    message.set_content(text, subtype=subtype)
    return message.as_bytes()


def _forwarded_inline(raw: bytes, style: str) -> tuple[bytes, bytes] | None:
    """A one-part bounce as its client shows it (only From, Date, Subject and To of its
    headers), and that forwarded inline in `style`; None when it cannot be rewritten so."""
    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"))
    if message.is_multipart():
        return None
    try:
        text = message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return None
    shown = {
        name: " ".join(str(message.get(name, "")).split()).encode("ascii", "replace").decode()
        for name in ("From", "Date", "Subject", "To")
    }
    note = "Why did this one come back?\n\n"
    person = {"From": "Alice <alice@customer.example>", "To": "bounces@console.example"}
    person["Subject"] = "Fwd: bounce"
    if style.endswith("-html"):
        block = _INLINE_FORWARD[style].format(**{k: html.escape(v) for k, v in shown.items()})
        lines = "<br>\n".join(html.escape(line) for line in text.split("\n"))
        page = f"<html><body>{html.escape(note)}<br>\n{block}{lines}</body></html>"
        return _message(shown, text), _message(person, page, "html")
    note += _INLINE_FORWARD[style].format(**shown)
    return _message(shown, text), _message(person, note + text)


@pytest.mark.parametrize("style", sorted(_INLINE_FORWARD))
def test_a_bounce_quoting_a_reply_reads_the_same_forwarded_inline(style):
    """The header block above the forwarded text starts the bounce: its From names a mail
    system, or its Subject may be a bounce's ("failure notice" from "<>")."""

    def change(raw: bytes) -> tuple[bytes, bytes] | None:
        pair = _forwarded_inline(raw, style)
        if pair is None:
            return None
        report = parse_report(pair[0])
        if report.kind != "bounce" or not any(o.status or o.smtp_code for o in report.failed):
            return None  # inline, only a bounce that quotes a server's reply is read
        return pair

    # A forward shows no returned original: the outcomes count, not the message id.
    checked, changed = _read_differently(
        change, lambda raw: (parse_report(raw).kind, _read(raw)[0])
    )

    assert checked > 90
    assert changed == []


GATEWAY_TAGS = ["[EXTERNAL] ", "***SPAM*** ", "[SUSPECTED SPAM] ", "{Spam?} [EXT] "]


def _tagged(raw: bytes, tag: str) -> bytes | None:
    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"))
    subject = message.get("Subject")
    if not isinstance(subject, str) or not subject.isascii():
        return None  # a raw 8-bit subject: the email package cannot write it back as it was
    message.replace_header("Subject", tag + subject)
    return message.as_bytes()


@pytest.mark.parametrize("tag", GATEWAY_TAGS)
def test_every_sample_reads_the_same_with_a_gateway_tag_before_its_subject(tag):
    checked, changed = _read_differently(
        lambda raw: None if (tagged := _tagged(raw, tag)) is None else (_as_is(raw), tagged),
        _kind_and_read,
    )

    assert checked > 300
    assert changed == []


def _tagged_message(tag: str, sender: str, subject: str, body: str) -> bytes:
    return f"From: {sender}\nTo: news@acme.example\nSubject: {tag}{subject}\n\n{body}".encode()


@pytest.mark.parametrize("tag", ["", *GATEWAY_TAGS])
def test_a_subject_s_first_words_are_read_after_a_gateway_s_tag(tag):
    """What only a subject's first words tell: Microsoft's "Non-Delivery:" (here from an
    ordinary address, as old Exchange servers sent it), an auto-reply's "Automatic reply:", a
    person's "Fwd:"."""
    non_delivery = _tagged_message(
        tag,
        "<admin@example.com>",
        "Non-Delivery: Hello",
        "--- Non-Delivery Report ---\nThe email below could not be delivered to the following"
        ' user:\n\n"Bob" <bob@example.org>\n',
    )
    auto_reply = _tagged_message(
        tag,
        "Bob <bob@example.org>",
        "Automatic reply: Your order failed to ship",
        "I am out of the office. Your message was not delivered to my team; write to\n"
        "carol@example.org instead.\n",
    )
    by_person = _tagged_message(
        tag,
        "Alice <alice@customer.example>",
        "Fwd: Undeliverable: Hello",
        "Why was this one not delivered? It was for\ndave@example.org\n",
    )

    outcomes = [
        [(o.recipient, o.action) for o in parse_report(raw).recipients]
        for raw in (non_delivery, auto_reply, by_person)
    ]
    assert outcomes == [[("bob@example.org", "failed")], [], []]


def test_every_sample_is_judged_the_same_under_a_gateway_s_banner():
    """The banner's words of links, attachments and senders are no reason. Where a bounce
    quotes no reply, its explanation is shown as the reply, banner included: the class,
    evidence, recipient and returned message id stay."""

    def judged(raw: bytes) -> tuple[list[tuple], str | None]:
        outcomes, message_id = _read(raw)
        return [outcome[:3] for outcome in outcomes], message_id  # not the shown reply

    checked, changed = _read_differently(
        lambda raw: None if (bannered := _with_banner(raw)) is None else (_as_is(raw), bannered),
        judged,
    )

    assert checked > 150
    assert changed == []
