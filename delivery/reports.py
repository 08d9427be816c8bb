"""Reading returned mail: bounces (DSNs and MTA-specific formats), feedback reports, auto-replies.

`parse_report(raw)` takes any raw RFC 5322 message and says what it is, which recipients failed
and why, and which original message it is about. It never raises on bad input: a message that
cannot be read is a Report of kind "not_a_bounce" with no recipients.
"""

from __future__ import annotations

import contextlib
import email
import email.header
import email.message
import email.parser
import email.utils
import functools
import html
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .addresses import (
    ADDRESS_CHARS,
    ADDRESS_IN_TEXT,
    ADDRESS_IN_WORDING_PATTERN,
    ADDRESS_OR_LOCAL_HOST,
    ADDRESS_PATTERN,
    InvalidAddress,
    domain_of,
    normalize_address,
)
from .bounces import Verdict, find_enhanced_status, is_hard, judge, relayed_reply
from .bounces import switched_off as _switched_off
from .models import BounceClass
from .recipients import is_group_service_address, is_role_or_list, untrusted

logger = logging.getLogger(__name__)

BOUNCE = "bounce"
COMPLAINT = "complaint"
NOT_A_BOUNCE = "not_a_bounce"

# Bounds on the text read per report and per recipient, so a huge message stays cheap.
MAX_EXPLANATION = 100_000
MAX_CONTEXT = 3_000
# A recipient's diagnostic: the server's reply, whose lines are at most 512 octets (RFC 5321
# §4.5.3.1.5). The longest in the public set and seven outside corpora is 1,000 characters;
# a hostile 100 KB one took the wording rules 0.7 s.
MAX_DIAGNOSTIC = 10_000

# Actions (RFC 3464) that mean the message did not reach the recipient (yet).
FAILED_ACTIONS = ("failed", "delayed")


@dataclass
class RecipientOutcome:
    """What happened to one recipient, as the report tells it."""

    recipient: str | None
    action: str = "failed"
    # The address that finally failed when it is not `recipient`: `recipient` forwarded or
    # expanded to it (RFC 3464 Original-Recipient vs Final-Recipient; "expanded from").
    final_recipient: str | None = None
    bounce_class: str = "other"
    hard: bool = False
    status: str = ""
    smtp_code: int | None = None
    diagnostic: str = ""
    # For invalid addresses: how strong the evidence is (delivery.bounces.EVIDENCE).
    evidence: str = ""
    # The rule that decided the class, and why a weaker class was given, if one was.
    rule: str = ""
    reason: str = ""

    @property
    def failed(self) -> bool:
        return self.action in FAILED_ACTIONS

    @property
    def permanent(self) -> bool:
        """A 5xx failure (retrying will not help), as opposed to a 4xx one: bounced vs deferred."""
        first = self.status[:1] or (str(self.smtp_code)[:1] if self.smtp_code else "")
        if first in ("4", "5"):
            return first == "5"
        return self.action == "failed"


@dataclass
class Report:
    """One returned message: a bounce, a complaint, or not a bounce at all."""

    kind: str
    recipients: list[RecipientOutcome] = field(default_factory=list)
    feedback_type: str = ""
    original_message_id: str | None = None
    original_headers: email.message.Message | None = None
    subject: str = ""
    # Why the message could not be read at all (the error), when it could not.
    unreadable: str = ""

    @property
    def failed(self) -> list[RecipientOutcome]:
        """Recipients the message did not reach: the ones a bounce is about."""
        if self.kind != BOUNCE:
            return []
        return [r for r in self.recipients if r.failed]

    def original_header(self, name: str) -> str | None:
        """One header of the returned original message, e.g. X-SES-Message-ID."""
        if self.original_headers is None or self.original_headers.get(name) is None:
            return None
        return _header_text(self.original_headers.get(name)).strip() or None


def parse_report(raw: bytes) -> Report:
    """Read one raw message. Malformed input gives a not_a_bounce Report, never an exception."""
    try:
        return _parse(raw)
    except TooManyParts as exc:
        logger.warning("A returned message was not read: %s", exc)
        return Report(kind=NOT_A_BOUNCE, unreadable=str(exc))
    except Exception as exc:  # mail from the outside world must never fail the caller
        logger.exception("A returned message could not be read")
        return Report(kind=NOT_A_BOUNCE, unreadable=f"{type(exc).__name__}: {exc}"[:200])


# --- Decoding --------------------------------------------------------------------------------

_ADDRESS = ADDRESS_IN_TEXT
_HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:")
_ORIGINAL_HEADER_NAMES = re.compile(
    r"^(Return-Path|Received|From|To|Subject|Message-I[dD]|Date|MIME-Version|Reply-To|Sender"
    r"|DKIM-Signature|X-[A-Za-z0-9-]+|Content-Type|Cc|Delivered-To|Authentication-Results"
    r"|ARC-[A-Za-z-]+|In-Reply-To|References|Errors-To):",
    re.I,
)


# A 998-character header line holds about a dozen 75-character encoded words (RFC 2047 §2).
_MAX_ENCODED_WORDS = 100


def _header_text(value: object) -> str:
    """A header's text: encoded-words decoded, raw 8-bit or ISO-2022-JP bytes guessed."""
    if value is None:
        return ""
    if isinstance(value, str) and value.count("=?") > _MAX_ENCODED_WORDS:
        # decode_header's pattern reads from each "=?" to the end of its line: quadratic in
        # their number, so a hostile header of 60 KB took seconds. No real header has this
        # many; decode its well-formed words one by one instead.
        return _ENCODED_WORD.sub(_decoded_word, value)
    try:
        chunks = email.header.decode_header(value)
    except Exception:  # undecodable encoded-words: keep them as they are
        return str(value)
    text = ""
    for data, charset in chunks:
        if isinstance(data, bytes):
            data = _decode_bytes(data, None if charset == "unknown-8bit" else charset)
        text += data
    if "\x1b" in text:
        with contextlib.suppress(ValueError, LookupError):
            text = text.encode("ascii", "surrogateescape").decode("iso-2022-jp")
    return text


def _decode_bytes(data: bytes, charset: str | None) -> str:
    if b"\x1b$" in data or b"\x1b(" in data:
        charset = "iso-2022-jp"
    for candidate in (charset, "utf-8", "shift_jis", "euc-jp"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, ValueError):  # unknown or malformed charset names, bad bytes
            continue
    return data.decode("latin-1")


def _part_text(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        inner = part.get_payload()
        if isinstance(inner, list):
            return "\n\n".join(_flatten(m) for m in inner if isinstance(m, email.message.Message))
        return str(inner or "")
    # A base64 or quoted-printable body keeps the CRLF line breaks it was encoded with (RFC
    # 2045 §6.8 encodes text in its canonical CRLF form); everything here reads "\n".
    text = _decode_bytes(payload, part.get_content_charset())
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _flatten(message: email.message.Message) -> str:
    headers = "\n".join(f"{k}: {_header_text(v)}" for k, v in message.items())
    if message.is_multipart():
        body = "\n".join(_part_text(p) for p in message.walk() if not p.is_multipart())
    else:
        body = _part_text(message)
    return f"{headers}\n\n{body}" if body.strip() else headers


_X400_SMTP = re.compile(r"^smtp=", re.I)


def _normalize(address: str | None) -> str | None:
    if not address:
        return None
    address = address.strip().strip("<>;,.\"'")
    # An X.400 domain-defined attribute "dda:SMTP=user@example.com" (Exchange's NDRs) carries
    # the Internet address after its type: the type is not part of the local part.
    address = _X400_SMTP.sub("", address)
    try:
        return normalize_address(address)
    except InvalidAddress:
        return None


# --- Structure -------------------------------------------------------------------------------


# A report has a few MIME parts; the email package makes one more per block of fields in a
# delivery-status part, so per blank line there. Past this many the message is no report
# (we send one recipient per mail), and reading on only costs time: 2 MB of blank lines in a
# delivery-status part took 27 s.
MAX_PARTS = 10_000


class TooManyParts(ValueError):
    pass


_ENCODINGS_OF_A_MESSAGE_PART = ("base64", "quoted-printable")


def _is_encoded_message(part: email.message.Message, ctype: str) -> bool:
    return ctype.startswith("message/") and (
        str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        in _ENCODINGS_OF_A_MESSAGE_PART
    )


class _Part(email.message.Message):
    """A part as the email package makes it, but a message/* part sent base64 or
    quoted-printable keeps its body as text while the message is parsed (the parser would read
    the encoded body as fields or headers), to be decoded and read after (_message_from_bytes).
    """

    parsing = True

    def get_content_type(self) -> str:
        ctype = super().get_content_type()
        if self.parsing and _is_encoded_message(self, ctype):
            return "text/plain"
        return ctype


def _parsed(raw: bytes) -> email.message.Message:
    """The email package's parse, stopped past MAX_PARTS parts."""
    made = 0

    def part(*args, **kwargs) -> email.message.Message:
        nonlocal made
        made += 1
        if made > MAX_PARTS:
            raise TooManyParts(f"more than {MAX_PARTS:,} MIME parts")
        return _Part(*args, **kwargs)

    message = email.message_from_bytes(raw, _class=part)
    for each in message.walk():
        each.parsing = False
    return message


# At most this many encoded message/* parts are decoded in one message (each is parsed again).
_MAX_ENCODED_MESSAGE_PARTS = 20


def _message_from_bytes(raw: bytes) -> email.message.Message:
    """The message, with its message/* parts sent base64 or quoted-printable read as what they
    carry.

    RFC 6533 lets message/global-delivery-status, message/global and message/global-headers
    take either encoding through 7-bit relays, and some MTAs encode a message/delivery-status
    or a returned message/rfc822 so too (RFC 3464 §2.1 and RFC 2046 §5.2.1 want them unencoded).
    Before, the DSN's fields in such a part were never read. An encoded part inside a decoded
    one stays as it is: no MTA nests them, and each level would parse the message again.
    """
    message = _parsed(raw)
    encoded = [p for p in message.walk() if _is_encoded_message(p, p.get_content_type())]
    for part in encoded[:_MAX_ENCODED_MESSAGE_PARTS]:
        body = part.get_payload(decode=True) or b""
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        # The part's own type over the decoded body, read as the email package reads it.
        container = _parsed(f"Content-Type: {part.get_content_type()}\n\n".encode() + body)
        del part["Content-Transfer-Encoding"]
        part.set_payload(container.get_payload())
    return message


# How deep a forwarded report is looked for: a bounce attached by a person may itself quote the
# bounce it passes on (a relay's notice around a Postfix bounce). Each level parses its parts
# once more, so the work stays linear in the message.
_MAX_FORWARDING_DEPTH = 2
# A person forwards one report, or a few; past these, attached messages are not read again.
_MAX_FORWARDED_MESSAGES = 10


def _parse(raw: bytes, depth: int = 0) -> Report:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    message = _message_from_bytes(raw)
    for part in message.walk():
        if part.get_content_maintype() == "multipart" and not part.is_multipart():
            # A multipart whose boundary is missing or never appears: read it as plain text.
            del part["Content-Type"]
            part["Content-Type"] = "text/plain"
    subject = _header_text(message.get("Subject")).strip()
    parts = list(_walk(message))

    original = _original_headers(message, parts)
    report = (
        _feedback_report(message, parts)
        or _json_notification(message, parts)
        or _delivery_status(message, parts)
        or _auto_reply(message, strong_only=True)
        or _plain_bounce(message, parts, original)
        or _auto_reply(message, strong_only=False)
        or Report(kind=NOT_A_BOUNCE)
    )
    if depth < _MAX_FORWARDING_DEPTH and report.kind != COMPLAINT and not _has_server_reply(report):
        # Perhaps a bounce forwarded inline by a person or a relay: read the bounce inside.
        inner = _forwarded_bounce(parts, report.kind != NOT_A_BOUNCE, depth + 1)
        if inner is not None:
            # Read whole on its own: its subject and returned original are its own, never
            # the message that carried it (that one is the forwarded report itself).
            return inner
    report.subject = subject
    if report.original_headers is None:
        report.original_headers = original
    if report.original_message_id is None and report.original_headers is not None:
        report.original_message_id = report.original_header("Message-ID")
    return report


def _walk(message: email.message.Message) -> Iterator[email.message.Message]:
    """The parts of a message, without looking inside the messages it carries (a returned
    original may itself be a bounce, and its parts are not this report's)."""
    yield message
    if message.is_multipart():
        payload = message.get_payload()
        if message.get_content_type() in _DELIVERY_STATUS_TYPES:
            # The email package reads a delivery-status part as one message per block of
            # fields; the fields are read from the part's whole text (_delivery_status), so
            # its blocks are walked only for the prose some MTAs put there. A hostile part
            # has up to MAX_PARTS blocks, and every walk went through them all.
            payload = payload[:_MAX_STATUS_BLOCKS]
        for part in payload:
            if part.get_content_type() in ("message/rfc822", "message/global"):
                yield part
            else:
                yield from _walk(part)


def _has_server_reply(report: Report) -> bool:
    return any(r.status or r.smtp_code for r in report.failed)


_FORWARDED_BOUNCE = re.compile(
    r"^(?:> ?)?(?:From:?\s.*(?:mailer-daemon|postmaster)|Content-Type:\s*multipart/report)",
    re.I | re.M,
)
_FORWARDED_SUBJECT = re.compile(r"^(?:> ?)?Subject:[ \t]*(.*)$", re.I | re.M)


def _forwarded_header_line(text: str) -> re.Match[str] | None:
    """A line of the header block a person's client writes above a bounce it forwards inline:
    its From names a mail system, or else its Subject may be a bounce's ("failure notice"
    from "<>", "Delivery Failure" from a "System Administrator", a list manager's "Loop
    Alert"). The first one: a postmaster's address further down is the returned original's.
    Only a bounce that quotes a server's reply is taken from there (`_forwarded_bounce`)."""
    by_sender = _FORWARDED_BOUNCE.search(text)
    found = [by_sender] if by_sender else []
    for match in _FORWARDED_SUBJECT.finditer(text):
        if _BOUNCE_SUBJECT.search(match.group(1)) or _MAYBE_BOUNCE_SUBJECT.search(match.group(1)):
            found.append(match)
            break
    return min(found, key=lambda m: m.start(), default=None)


def _forwarded_bounce(
    parts: list[email.message.Message], outer_is_report: bool, depth: int
) -> Report | None:
    """A report forwarded inside this message. Inline, or attached to a bounce of its own
    (whose returned original may be any message), it must quote a server's reply. Attached
    to a message that is no report ("Forward as attachment"), it is read as it stands: it
    keeps its own headers, so it is judged as if it had come on its own."""
    attached = 0
    for part in parts:
        if part.get_content_type() in ("message/rfc822", "message/global"):
            attached += 1
            inner = part.get_payload()
            if attached <= _MAX_FORWARDED_MESSAGES and isinstance(inner, list) and inner:
                try:
                    report = _parse(inner[0].as_bytes(), depth)
                except Exception:  # an attachment we cannot re-serialise: not a bounce then
                    continue
                if report.kind == BOUNCE and _has_server_reply(report):
                    return report
                if not outer_is_report and (
                    report.kind == COMPLAINT or (report.kind == BOUNCE and report.failed)
                ):
                    return report
            continue
        if part.get_content_type() not in ("text/plain", "text/html"):
            continue
        text = _readable_text(part)  # Outlook forwards in HTML
        match = _forwarded_header_line(text)
        if match is None:
            continue
        # Back up to the first line of the header block the match is in.
        lines = text[: match.start()].split("\n")[:-1]
        start = match.start()
        while lines and re.match(r"^(> ?)?([A-Za-z][A-Za-z0-9-]*:|[ \t]+\S)", lines[-1]):
            start -= len(lines.pop()) + 1
        inner = text[start:]
        if re.match(r"\s*>", inner):
            inner = re.sub(r"^> ?", "", inner, flags=re.M)
        report = _parse(inner.lstrip().encode("utf-8", "surrogateescape"), depth)
        if report.kind == BOUNCE and _has_server_reply(report):
            return report
    return None


def _original_headers(
    message: email.message.Message, parts: list[email.message.Message]
) -> email.message.Message | None:
    """The returned original's headers: a message/rfc822 or text/rfc822-headers part, or inline."""
    for part in parts[1:]:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and len(inner[0]):
                return inner[0]
            if isinstance(inner, list) and inner:
                # A blank line before the headers: they were read as the body.
                inner = inner[0].get_payload()
            if isinstance(inner, str) and inner.strip():
                headers = email.parser.Parser().parsestr(inner.lstrip(), headersonly=True)
                if len(headers):
                    return headers
        if ctype in ("text/rfc822-headers", "message/global-headers"):
            text = _part_text(part)
            headers = email.parser.Parser().parsestr(text.lstrip(), headersonly=True)
            if len(headers):
                return headers
        names = {name.lower() for name in part}
        if len(names & _KEY_HEADERS - {"mime-version"}) >= 3:
            # The original attached with no MIME headers of its own: its headers are the part's
            # (a MIME part's own headers are never From, To, Received, Message-ID...).
            return part
    for part in parts:
        if part.get_content_maintype() != "text":
            continue
        _, inline = _split_original(_readable_text(part))
        if inline is not None:
            return inline
    return None


_ORIGINAL_MARKERS = re.compile(
    r"^[ \t>]*+[-=*_]*+[ \t]*+(?:"
    r"(?:this is a )?copy of (?:the|your) (?:original )?message.*"
    r"|below this line is a copy of the message.*"
    r"|(?:the )?original message(?: follows| headers?(?: follows?)?| is attached)?[.:]?"
    r"|(?:returned|unsent|undelivered|original) (?:message|mail)(?: follows| headers follow)?[.:]?"
    r"|message headers follow.*|headers of (?:the|your) (?:original )?message.*"
    r"|(?:the )?original message header.*|message header follows.*"
    r"|begin forwarded message:?"
    r")[ \t]*+[-=*_]*+[ \t]*+$",
    re.I | re.M,
)
_KEY_HEADERS = {
    "from",
    "to",
    "subject",
    "message-id",
    "date",
    "received",
    "return-path",
    "mime-version",
}


def _split_original(text: str) -> tuple[str, email.message.Message | None]:
    """Split a bounce's text into its explanation and the returned original's headers."""
    # The explanation read is at most MAX_EXPLANATION long; the original's headers follow it.
    # Past that a text part is a returned body (or an attack), not worth a regex per line.
    text = text[: 2 * MAX_EXPLANATION]
    lines = text.split("\n")
    start = None
    i = 0
    while i < len(lines) - 1:
        if not _ORIGINAL_HEADER_NAMES.match(lines[i]):
            i += 1
            continue
        # A header block: header lines and their continuations up to a blank line, naming at
        # least three of the headers every message has.
        names = set()
        end = i
        while end < len(lines):
            line = lines[end]
            if _HEADER_LINE.match(line):
                names.add(line.split(":", 1)[0].lower())
            elif not (line[:1] in (" ", "\t") and line.strip()):
                break
            end += 1
        if len(names & _KEY_HEADERS) >= 3:
            start = i
            break
        i = max(end, i + 1)  # any later start in this block names fewer headers
    if start is None:
        marker = _ORIGINAL_MARKERS.search(text)
        return (text[: marker.start()] if marker else text), None
    explanation = "\n".join(lines[:start])
    markers = list(_ORIGINAL_MARKERS.finditer(explanation))
    if markers:
        marker = markers[-1]
        explanation = explanation[: marker.start()]
    header_text = "\n".join(lines[start:])
    headers = email.parser.Parser().parsestr(header_text, headersonly=True)
    return explanation, headers


# --- Feedback reports (RFC 5965) -------------------------------------------------------------


def _fields(text: str) -> list[dict[str, str]]:
    """Blocks of `Name: value` fields (RFC 3464 / 5965), folded lines joined, names lower-case."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = None
    for line in text.split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
            continue
        if line[:1] in (" ", "\t") and last is not None:
            current[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", name.strip()):
            last = name.strip().lower()
            if last in current:  # a repeated field: keep both
                current[last] += "\n" + value.strip()
            else:
                current[last] = value.strip()
        else:
            last = None
    if current:
        blocks.append(current)
    return blocks


# A report field's address: the local part may be UTF-8 and the domain's labels U-labels
# (RFC 6531, RFC 6533's utf-8 address type); normalising gives the domain as A-labels.
_FIELD_LOCAL = r"[^\s\x00-\x1f\x7f<>@;,\"'()\[\]]"
# Starting only where no local-part character comes before (see ADDRESS_IN_TEXT).
_FIELD_ADDRESS = re.compile(rf"(?<!{_FIELD_LOCAL}){_FIELD_LOCAL}+@[\w-]++(?:\.[\w-]++)++")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _decoded_word(match: re.Match[str]) -> str:
    """One RFC 2047 encoded word, decoded in place (no space added around it)."""
    try:
        ((data, charset),) = email.header.decode_header(match.group(0))
        return data.decode(charset or "ascii") if isinstance(data, bytes) else data
    except (ValueError, LookupError, UnicodeDecodeError):
        return match.group(0)


def _unicode_escape(match: re.Match[str]) -> str:
    """An RFC 6533 `\\x{HEX}` escape as its character, if it names a Unicode scalar value."""
    point = int(match.group(1), 16)
    if point > 0x10FFFF or 0xD800 <= point <= 0xDFFF or point < 0x20:
        return match.group(0)
    return chr(point)


def _address_from_field(value: str) -> str | None:
    # "rfc822; user@example.com" or "<user@example.com>". A UTF-8 local part comes as
    # "utf-8; \x{1F408}@example.org" (RFC 6533 §3), or from MTAs that predate it as an RFC 2047
    # encoded word ("=?utf-8?B?...?=@example.org"): read it whole, not just its ASCII tail.
    value = value.split(";", 1)[1] if ";" in value else value
    value = re.sub(r"\\x\{([0-9A-Fa-f]{1,6})\}", _unicode_escape, value)
    value = _ENCODED_WORD.sub(_decoded_word, value)
    match = _FIELD_ADDRESS.search(value)
    return _normalize(match.group(0)) if match else None


def _feedback_report(
    message: email.message.Message, parts: list[email.message.Message]
) -> Report | None:
    feedback = [p for p in parts if p.get_content_type() == "message/feedback-report"]
    if feedback:
        text = _part_text(feedback[0])
    elif message.get_content_type() == "multipart/report" and (
        message.get_param("report-type") or ""
    ).lower() in ("feedback-report",):
        text = "\n".join(_part_text(p) for p in parts if p.get_content_maintype() == "text")
    elif _header_text(message.get("X-Apple-Unsubscribe")).strip().lower() == "true":
        # Apple Mail's "unsubscribe" button mails the List-Unsubscribe address: an opt-out.
        recipient = _normalize(_first_address(message.get("From")))
        return Report(
            kind=COMPLAINT,
            feedback_type="opt-out",
            recipients=[_complaint(recipient, "opt-out")],
        )
    else:
        return _microsoft_complaint(parts)
    fields: dict[str, str] = {}
    for block in _fields(text):
        fields.update({k: v for k, v in block.items() if k not in fields})
    feedback_type = (fields.get("feedback-type") or "abuse").split()[0].lower()
    original = _original_headers(message, parts)
    recipients: list[str | None] = []
    for value in (fields.get("original-rcpt-to") or "").split("\n"):
        address = _address_from_field(value)
        if address and address not in recipients:
            recipients.append(address)
    if not recipients and fields.get("removal-recipient"):
        recipients.append(_address_from_field(fields["removal-recipient"]))
    if not recipients and original is not None:
        for value in original.get_all("To") or []:
            for _, address in email.utils.getaddresses([_header_text(value)]):
                address = _normalize(address)
                if address and address not in recipients:
                    recipients.append(address)
    if not recipients:
        recipients.append(None)
    return Report(
        kind=COMPLAINT,
        feedback_type=feedback_type,
        recipients=[_complaint(r, feedback_type) for r in recipients],
        original_headers=original,
    )


_MICROSOFT_FBL_SENDER = "staff@hotmail.com"


def _microsoft_complaint(parts: list[email.message.Message]) -> Report | None:
    """A complaint in the format Microsoft's Junk Mail Reporting Program used before ARF
    (still sent to some senders): "complaint about message from <ip>" with the reported
    message attached as message/rfc822, which Outlook.com stamped with the mailbox it was
    delivered to (X-HmXmrOriginalRecipient)."""
    top = parts[0]
    if _MICROSOFT_FBL_SENDER not in f"{top.get('Return-Path', '')} {top.get('From', '')}".lower():
        return None  # a person forwarding mail they got at Outlook.com is no complaint
    if any(p.get_content_type() in _DELIVERY_STATUS_TYPES for p in parts):
        return None
    payloads = [p.get_payload() for p in parts[1:] if p.get_content_type() == "message/rfc822"]
    attached = [inner[0] for inner in payloads if isinstance(inner, list) and inner]
    # The reported message may also come as it is, its wrapper gone (a forward or a fetch).
    for original in [*attached, top]:
        if original.get("X-HmXmrOriginalRecipient") is None:
            continue
        recipient = _normalize(_first_address(original.get("X-HmXmrOriginalRecipient")))
        if recipient is None:
            recipient = _normalize(_first_address(original.get("To")))
        return Report(
            kind=COMPLAINT,
            feedback_type="abuse",
            recipients=[_complaint(recipient, "abuse")],
            original_headers=original,
        )
    return None


def _complaint(recipient: str | None, feedback_type: str) -> RecipientOutcome:
    return RecipientOutcome(
        recipient=recipient, action="complained", bounce_class=COMPLAINT, diagnostic=feedback_type
    )


def _first_address(value: object) -> str | None:
    match = _ADDRESS.search(_header_text(value))
    return match.group(0) if match else None


# --- JSON notifications (Amazon SES and alike) -----------------------------------------------


def _json_notification(
    message: email.message.Message, parts: list[email.message.Message]
) -> Report | None:
    for part in parts:
        if part.get_content_maintype() != "text":
            continue
        text = _part_text(part)
        start = text.find("{")
        if start < 0 or ("notificationType" not in text and '"eventType"' not in text):
            continue
        try:
            data, _ = json.JSONDecoder().raw_decode(text[start:])
        except ValueError:
            data = _lenient_json(text[start:])
        if not isinstance(data, dict):
            continue
        if isinstance(data.get("Message"), str):  # wrapped in an SNS envelope
            try:
                data = json.loads(data["Message"])
            except ValueError:
                continue
        return _ses_report(data)
    return None


def _lenient_json(text: str) -> object:
    # Notifications pasted into mail get wrapped lines; join them and try again.
    joined = re.sub(r"!?\n[ \t]?", "", text)
    try:
        return json.JSONDecoder().raw_decode(joined)[0]
    except ValueError:
        return None


def _ses_address(value: object) -> str | None:
    """A recipient of an SES notification: an address, or one with a display name
    (`"Kim Lee" <kim@example.org>`, as `destination` and some `emailAddress` values carry
    it), which `email.utils.parseaddr` takes apart as a header's address would be."""
    if not isinstance(value, str):
        return None
    return _normalize(value) or _normalize(email.utils.parseaddr(value)[1])


def _ses_report(data: dict) -> Report:
    kind = str(data.get("notificationType") or data.get("eventType") or "").lower()
    mail = data.get("mail") if isinstance(data.get("mail"), dict) else {}
    headers = email.message.Message()
    for item in mail.get("headers") or []:
        if isinstance(item, dict) and "name" in item:
            headers[str(item["name"])] = str(item.get("value", ""))
    message_id = None
    common = mail.get("commonHeaders") if isinstance(mail.get("commonHeaders"), dict) else {}
    message_id = headers.get("Message-ID") or common.get("messageId")
    report = Report(
        kind=NOT_A_BOUNCE,
        original_headers=headers if len(headers) else None,
        original_message_id=message_id,
    )
    if kind == "bounce":
        bounce = data.get("bounce") or {}
        permanent = str(bounce.get("bounceType", "")).lower() == "permanent"
        report.kind = BOUNCE
        for item in bounce.get("bouncedRecipients") or []:
            diagnostic = str(item.get("diagnosticCode") or "")
            status = str(item.get("status") or "")
            code = _smtp_code(diagnostic)
            recipient = _ses_address(item.get("emailAddress"))
            verdict = judge(
                code,
                _enhanced(status),
                [diagnostic],
                structured=True,
                failed=permanent,
                recipient_domain=domain_of(recipient or ""),
            )
            report.recipients.append(
                RecipientOutcome(
                    recipient=recipient,
                    action=str(item.get("action") or ("failed" if permanent else "delayed")),
                    bounce_class=verdict.bounce_class,
                    hard=is_hard(verdict.bounce_class),
                    status=status,
                    smtp_code=code,
                    diagnostic=diagnostic,
                    evidence=verdict.evidence,
                    rule=verdict.rule,
                    reason=verdict.reason,
                )
            )
    elif kind == "complaint":
        complaint = data.get("complaint") or {}
        report.kind = COMPLAINT
        report.feedback_type = str(complaint.get("complaintFeedbackType") or "abuse")
        for item in complaint.get("complainedRecipients") or [{}]:
            report.recipients.append(
                _complaint(_ses_address(item.get("emailAddress")), report.feedback_type)
            )
    elif kind == "delivery":
        for address in (data.get("delivery") or {}).get("recipients") or []:
            report.recipients.append(
                RecipientOutcome(
                    recipient=_ses_address(address), action="delivered", bounce_class=NOT_A_BOUNCE
                )
            )
    return report


# --- Delivery status notifications (RFC 3464) ------------------------------------------------

# Not a telephone number ("call 480-624-2500", "555-1234"): a reply's code is never followed by
# "-" and more digits (a continued line goes on "550-5.1.1" or "550-Mailbox").
_SMTP_CODE = re.compile(r"(?<![\d.])([245][0-5]\d)(?=[ \-]|$)(?!-\d{3}-|-\d{4}(?!\d))", re.M)
_DSN_FIELD_START = re.compile(r"^(Final-Recipient|Original-Recipient)\s*:", re.I | re.M)


def _smtp_code(text: str) -> int | None:
    match = _SMTP_CODE.search(text or "")
    return int(match.group(1)) if match else None


def _enhanced(text: str) -> str:
    return find_enhanced_status(text)


_ACTIONS = ("failed", "delayed", "delivered", "relayed", "expanded")
_DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
# Per-recipient blocks walked in a delivery-status part (see _walk).
_MAX_STATUS_BLOCKS = 100


def _delivery_status(
    message: email.message.Message, parts: list[email.message.Message]
) -> Report | None:
    status_parts = [p for p in parts if p.get_content_type() in _DELIVERY_STATUS_TYPES]
    blocks: list[dict[str, str]] = []
    for part in status_parts:
        blocks += _fields(_part_text(part))
    if not status_parts:
        # Some MTAs put the DSN fields in a text part.
        for part in parts:
            if part.get_content_maintype() != "text":
                continue
            text = _split_original(_readable_text(part))[0]
            match = _DSN_FIELD_START.search(text)
            if match:
                paragraph = text.rfind("\n\n", 0, match.start()) + 1
                blocks += _fields(text[paragraph:])
    per_recipient = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    if not per_recipient:
        return None
    human = _human_text(message, parts)
    outcomes = []
    for block in per_recipient:
        # Original-Recipient is the address as the sender gave it (RFC 3464 §2.3.1): ours.
        # Final-Recipient may be where an alias or a forward led (§2.3.2).
        final = _address_from_field(block.get("final-recipient") or "")
        recipient = _address_from_field(block.get("original-recipient") or "") or final
        # sendmail names the address an alias of Final-Recipient expanded to, the one that
        # failed, in X-Actual-Recipient (a program's is "X-Unix; |…": no address).
        actual = block.get("x-actual-recipient") or ""
        if re.match(r"\s*(rfc822|utf-8)\s*;", actual, re.I):
            final = _address_from_field(actual) or final
        diagnostic = _clean(block.get("diagnostic-code", ""))
        diagnostic = re.sub(r"^(smtp|x-[\w-]+|x-unix)\s*;\s*", "", diagnostic, flags=re.I)
        status = _enhanced(block.get("status", ""))
        if not status and not diagnostic and _smtp_code(block.get("status", "")):
            # "Status: 553 Exceeded maximum inbound message size": a reply where the status
            # belongs. Read it as the diagnostic it is.
            diagnostic = _clean(block["status"])
        # The first word; a field repeated empty ("Action:" twice) has none.
        action = next(iter((block.get("action") or "").lower().split()), "")
        if action not in _ACTIONS:
            # Missing, or a word of the MTA's own ("failure", "error", "delay") where RFC 3464
            # §2.3.3 has five: the status (or the reply) says which it means.
            first = status[:1] or str(_smtp_code(diagnostic) or "")[:1]
            action = {"2": "delivered", "4": "delayed", "5": "failed"}.get(first) or (
                "delayed" if action.startswith("delay") else "failed"
            )
        outcomes.append([recipient, action, status, diagnostic, final])
    if len(outcomes) == 1 and outcomes[0][0] is None:
        # A recipient named by a file or a program: the failed address is elsewhere.
        original = _original_headers(message, parts)
        excluded = untrusted(message, original)
        for value in (
            message.get("X-Failed-Recipients"),
            original.get("To") if original is not None else None,
        ):
            address = _normalize(_first_address(value))
            if address and address not in excluded and not is_role_or_list(address):
                outcomes[0][0] = address
                break
    report = Report(kind=BOUNCE)
    # The explanation names each recipient as the MTA last saw it: the final address if any.
    lowered = human.lower()
    mentioned = [o[4] if o[4] and o[4] in lowered else o[0] for o in outcomes]
    segments = _segments(human, mentioned)
    for (recipient, action, status, diagnostic, final), key in zip(
        outcomes, mentioned, strict=True
    ):
        diagnostic = _whole_reply(diagnostic, human)
        context = diagnostic
        if len(outcomes) == 1:
            context = f"{diagnostic}\n{human}"
        elif key in segments:
            context = f"{diagnostic}\n{segments[key]}"
        report.recipients.append(
            _outcome(recipient, action, status, diagnostic, context, final_recipient=final)
        )
    if not report.failed:
        report.kind = NOT_A_BOUNCE
    return report


_TRANSCRIPT_PREFIX = re.compile(r"^\s*(?:<<<\s*)?")


def _whole_reply(diagnostic: str, human: str) -> str:
    """A Diagnostic-Code that holds only the first line of a multi-line reply, completed from
    the session transcript the explanation quotes. sendmail records just that line ("550-5.7.1
    This message does not have authentication information or fails to pass"); the transcript
    has them all ("<<< 550-5.7.1 …" up to "<<< 550 5.7.1 …", RFC 5321 §4.2.1)."""
    first = re.match(r"([245]\d\d)-", diagnostic)
    if not first:
        return diagnostic
    continuation = re.compile(rf"{first.group(1)}([- ])")
    lines = [_clean(_TRANSCRIPT_PREFIX.sub("", line)) for line in human.splitlines()]
    if diagnostic not in lines:
        return diagnostic
    reply = [diagnostic]
    for line in lines[lines.index(diagnostic) + 1 :]:
        match = continuation.match(line)
        if not match:
            break
        reply.append(line)
        if match.group(1) == " ":
            break
    return " ".join(reply)


# A break tag with the source's own line breaks around it is one break: "…<br>\n" and
# "…\n<br>\n" alike, as a browser shows them ("<br>\n<br>" still makes a blank line).
_HTML_BREAK = re.compile(
    r"(?:\n[ \t]*+)?<(?:br|/?p|/?div|/?tr|/?li|/?h\d|/?pre|/?table)\b[^<>]*+>(?:[ \t]*+\n)?",
    re.I,
)
# A tag's text never holds "<": else each unclosed "<" read to the end of the text.
_HTML_TAG = re.compile(r"<[^<>]++>")
# Tags that open a line leave no space there: "<b>From:</b> …" is a header line.
_HTML_TAGS_AT_LINE_START = re.compile(r"^(?:<[^<>]++>)++", re.M)
# Elements whose text is not shown: a style sheet's rules are no explanation.
_HTML_HIDDEN_START = re.compile(r"<(style|script|head)[\s/>]", re.I)


def _without_hidden_elements(text: str) -> str:
    """`text` without its style, script and head elements. Each search starts where the last
    ended, and an unclosed element ends the text: the work is linear in any input."""
    kept, position = [], 0
    while start := _HTML_HIDDEN_START.search(text, position):
        kept.append(text[position : start.start()])
        end = re.compile(rf"</{start.group(1)}\s*>", re.I).search(text, start.end())
        if end is None:
            return "".join(kept)
        position = end.end()
    kept.append(text[position:])
    return "".join(kept)


def _html_text(text: str) -> str:
    """An HTML explanation as text: its line breaks kept, its other tags gone, its entities
    read ("couldn&#39;t", "&lt;bob@example.org&gt;": Exchange Online writes them so)."""
    text = _HTML_BREAK.sub("\n", _without_hidden_elements(text))
    return html.unescape(_HTML_TAG.sub(" ", _HTML_TAGS_AT_LINE_START.sub("", text)))


def _readable_text(part: email.message.Message) -> str:
    """A text part as a person reads it: an HTML one without its markup."""
    text = _part_text(part)
    return _html_text(text) if part.get_content_type() == "text/html" else text


def _human_text(message: email.message.Message, parts: list[email.message.Message]) -> str:
    """The human-readable explanation of a bounce: its first text parts, without the original."""
    texts = []
    for part in parts:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global", "text/rfc822-headers"):
            break
        if ctype.startswith(("text/plain", "text/html")) and not part.get_filename():
            texts.append(_split_original(_readable_text(part))[0])
    # An explanation is a few lines; past this it is something else, and costs time.
    return "\n".join(texts)[:MAX_EXPLANATION]


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


# The address a server's reply refuses, as MTAs write it: Postfix "550 5.1.1 <a@b>:
# Recipient address rejected", sendmail "550 5.1.1 <a@b>... User unknown", "RCPT TO:<a@b>".
_REFUSED_ADDRESS = re.compile(
    r"(?:^|[\s(])(?:rcpt to:\s*)?<([^<>\s@]+@[^<>\s@]+)>(?=\s*(?::|\.\.\.|,|\s))", re.I
)
_MAIL_FROM_ADDRESS = re.compile(r"\bmail from:\s*<[^<>]*>", re.I)


def _refused_in_reply(diagnostic: str) -> list[str]:
    """The addresses the reply names where it refuses a recipient, normalised (never the
    sender of a quoted MAIL FROM); empty when it names none."""
    text = _MAIL_FROM_ADDRESS.sub(" ", diagnostic or "")
    found = (_normalize(m.group(1)) for m in _REFUSED_ADDRESS.finditer(text))
    return [address for address in found if address]


def _outcome(
    recipient: str | None,
    action: str,
    status: str,
    diagnostic: str,
    context: str,
    final_recipient: str | None = None,
) -> RecipientOutcome:
    diagnostic, context = diagnostic[:MAX_DIAGNOSTIC], context[:MAX_CONTEXT]
    # The receiving server's reply, not a relaying gateway's summary of it (bounces.relayed_reply).
    diagnostic, context = relayed_reply(diagnostic)[0], relayed_reply(context)[0]
    code = _smtp_code(diagnostic) or _smtp_code(context)
    structured = bool(status)  # read from a DSN's Status field, not found in the text
    status = status or _enhanced(diagnostic) or _enhanced(context)
    if action not in FAILED_ACTIONS:
        verdict = Verdict(NOT_A_BOUNCE)
    elif code is None and not status and is_group_service_address(recipient):
        # A group service's own notice, in the poster's language, with no SMTP reply: the
        # group refused the post (or is gone). A posting refusal, never a dead mailbox.
        verdict = Verdict(
            BounceClass.BLOCKED,
            rule="group-notice",
            reason="a group refused the post; no server reply names a mailbox",
        )
    else:
        verdict = _classify(
            code,
            status,
            diagnostic,
            context,
            structured,
            action == "failed",
            _switched_off(),
            domain_of(final_recipient or recipient or ""),
        )
    if final_recipient == recipient:
        final_recipient = None
    if final_recipient and verdict.bounce_class == BounceClass.INVALID_ADDRESS:
        # The mailbox that does not exist is the one `recipient` forwards to: the address we
        # sent to exists (as an alias), so it is no proof for a global block.
        verdict = Verdict(
            BounceClass.OTHER,
            rule=verdict.rule,
            reason=f"the failed address is {final_recipient}, where {recipient} forwards to",
        )
    elif recipient and verdict.bounce_class == BounceClass.INVALID_ADDRESS:
        named = _refused_in_reply(diagnostic)
        if named and recipient not in named:
            # The server refused another address than the report's recipient: where a
            # forward leads, with the DSN naming only the address we sent to. That one
            # exists (as the forward), so the reply is no proof for a global block.
            verdict = Verdict(
                BounceClass.OTHER,
                rule=verdict.rule,
                reason=f"the reply names {named[0]}, not {recipient}: the failed address is "
                "another, where it forwards to",
            )
    return RecipientOutcome(
        recipient=recipient,
        final_recipient=final_recipient,
        action=action,
        bounce_class=verdict.bounce_class,
        hard=action in FAILED_ACTIONS and is_hard(verdict.bounce_class),
        status=status,
        smtp_code=code,
        diagnostic=_clean(diagnostic) or _clean(context)[:1000],
        evidence=verdict.evidence,
        rule=verdict.rule,
        reason=verdict.reason,
    )


@functools.lru_cache(maxsize=256)
def _classify(
    code: int | None,
    status: str,
    diagnostic: str,
    context: str,
    structured: bool,
    failed: bool,
    switched_off: frozenset[str],
    recipient_domain: str,
) -> Verdict:
    # Cached: a report often repeats the same reply for many recipients. The rules switched
    # off are part of the key, so an evaluation fold never sees another fold's answer.
    texts = [_wording(diagnostic), _wording(context)]
    return judge(
        code,
        status,
        texts,
        in_report=True,
        structured=structured,
        failed=failed,
        recipient_domain=recipient_domain,
    )


# A summary of the returned original ("Your message  To: …  Subject: …  Sent: …", Exchange's
# NDRs and many others): the sender's own words, never the reason it failed. Exchange writes
# the subject's label in the reader's language ("Betreff:", "Objet :", "件名:", "主题:" …).
_SUBJECT_LABELS = (
    "betreff|objet|asunto|oggetto|assunto|onderwerp|ämne|emne|aihe|temat|předmět|tárgy|тема"
    "|konu|件名|主题|主旨|제목"
)
_QUOTED_HEADER_LINE = re.compile(
    rf"^[ \t>*]*(?:subject|to|cc|bcc|from|sent|date|{_SUBJECT_LABELS})[ \t]*[:\uff1a].*$",
    re.I | re.M,
)


# An address in a report's wording; a line of a multi-line reply may start with one
# ("552-bob@example.org has a full"), and its code belongs to the reply, not to the address.
_WORDING_ADDRESS = re.compile(
    rf"(?<!{ADDRESS_CHARS})([245]\d\d-)?{ADDRESS_OR_LOCAL_HOST}", re.ASCII
)
# The same in text that is not all ASCII, where an address may be internationalised.
_WORDING_ADDRESS_ANY = re.compile(
    rf"(?a:(?<!{ADDRESS_CHARS})([245]\d\d-){ADDRESS_PATTERN})|{ADDRESS_IN_WORDING_PATTERN}"
)


# A DSN's fields that name an address or a host (RFC 3464 §2.2, §2.3): names, never wording.
# ("Final-Recipient: LOCAL;<junk>", "Remote-MTA: dns; mx.spam-filter.example").
_NAME_FIELD_LINE = re.compile(
    r"^[ \t]*(?:final-recipient|original-recipient|x-actual-recipient|reporting-mta|remote-mta"
    r"|received-from-mta|x-postfix-sender|dsn-gateway)[ \t]*:.*$",
    re.I | re.M,
)


def _wording(text: str) -> str:
    """What a report says about the failure: without the returned original's header lines,
    the DSN's name fields or addresses (a local part such as "no-such-user@…" says nothing
    about the failure)."""
    text = _NAME_FIELD_LINE.sub("", _QUOTED_HEADER_LINE.sub("", text))
    pattern = _WORDING_ADDRESS if text.isascii() else _WORDING_ADDRESS_ANY
    return pattern.sub(lambda m: (m.group(1) or "") + "<address>", text)


# Tags a mail gateway puts before the subject of mail it lets through: "[EXTERNAL]",
# "***SPAM***", "[SUSPECTED SPAM]", "{Spam?}". A subject's first words are read after them.
_SUBJECT_TAGS = re.compile(
    r"^(?:[ \t]*(?:\[[^\]\n]{0,40}\]|\*{1,3}[^*\n]{0,40}\*{1,3}|\{[^}\n]{0,40}\}))+[ \t]*"
)


def _untagged(subject: str) -> str:
    return _SUBJECT_TAGS.sub("", subject.strip(), count=1)


# --- Auto-replies (RFC 3834) -----------------------------------------------------------------

_AUTO_REPLY_SUBJECT = re.compile(
    r"^(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|away from|vacation"
    r"|abwesenheit|r[ée]ponse automatique|自動応答|自動返信|absence)",
    re.I,
)


def _auto_reply(message: email.message.Message, strong_only: bool) -> Report | None:
    # MTAs mark their bounces Auto-Submitted too, so that header alone is a weak sign.
    auto = _header_text(message.get("Auto-Submitted")).strip().lower()
    subject = _untagged(_header_text(message.get("Subject")))
    if (
        (auto.startswith("auto-replied") and not strong_only)
        or message.get("X-Autoreply")
        or message.get("X-Autorespond")
        or _header_text(message.get("Precedence")).strip().lower() == "auto_reply"
        or _header_text(message.get("X-Apple-Action")).strip().upper() == "VACATION"
        or _AUTO_REPLY_SUBJECT.match(subject)
    ):
        return Report(kind=NOT_A_BOUNCE)
    return None


# --- Bounces in MTA-specific plain-text formats ----------------------------------------------

# A mail system's own address. "daemon@" and MDaemon's "MDaemon@", not any program's
# ("bugzilla-daemon@" sends notifications, never bounces).
_BOUNCE_SENDER = re.compile(
    r"mailer-daemon|post_?master|mail delivery|mail administrator|mailadmin|mmsc|nobody@"
    r"|bounce|returned|mail-?daemon|(?<![\w-])m?daemon@|mail system",
    re.I,
)
# Subjects that only bounces have.
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status )?(notification|failure|failed|report|problem)"
    r"|mail delivery|returned mail|returning message|failure notice|could not be delivered"
    r"|delivery has failed|non[- ]?remis|nicht zustellbar|non recapitabile|unzustellbar"
    r"|mail system error|delivery failure|配信不能|不達|送信できません|エラー通知"
    # Microsoft's name for a bounce: "Non-Delivery: …", "Non-Delivery Report".
    r"|^\s*non-delivery\b|non-delivery (report|notification)",
    re.I,
)
# Subjects that bounces often have, but not only bounces.
_MAYBE_BOUNCE_SUBJECT = re.compile(
    r"failed|failure|bounce|error|warning|loop|rejected|notification|notice|returned"
    r"|エラー",
    re.I,
)
_BOUNCE_BODY = re.compile(
    r"could not be delivered|wasn't able to deliver|was not delivered|unable to deliver"
    r"|delivery (to the following|has failed)|failed permanently|did not reach"
    r"|permanent (fatal )?error|following address(es)? failed|undeliverable|returned mail"
    r"|delivery failed|couldn't be delivered|message delivery failed|not be delivered"
    r"|rejected by|following recipient|trouble delivering|delivery errors|\bloop\b"
    r"|error message|server message|duplicated message-id|送信できませんでした|送信に失敗",
    re.I,
)


def _plain_bounce(
    message: email.message.Message,
    parts: list[email.message.Message],
    original: email.message.Message | None,
) -> Report | None:
    sender = _header_text(message.get("From"))
    subject = _header_text(message.get("Subject"))
    untagged = _untagged(subject)
    failed_header = message.get_all("X-Failed-Recipients") or []
    text = _human_text(message, parts)
    from_daemon = bool(_BOUNCE_SENDER.search(sender))
    # A person replying to or forwarding a bounce is not a bounce (a forwarded one is read later).
    by_person = not from_daemon and re.match(r"\s*(re|fwd?|aw|wg|tr|sv)\s*:", untagged, re.I)
    looks_like_bounce = (
        bool(failed_header)
        or (any(map(_BOUNCE_SUBJECT.search, (subject, untagged))) and not by_person)
        or (
            (from_daemon or _MAYBE_BOUNCE_SUBJECT.search(subject) or not _first_address(sender))
            and (from_daemon or _BOUNCE_BODY.search(text))
        )
    )
    if not looks_like_bounce:
        return None

    # Never the bounce's own From/To, the original's sender, a postmaster or a mailing list.
    excluded = {a for a in map(_normalize, untrusted(message, original)) if a}

    recipients = _anchored_addresses(text, excluded)
    if not recipients:
        for value in failed_header:
            for address in _ADDRESS.findall(_header_text(value)):
                address = _normalize(address)
                if address and address not in recipients:
                    recipients.append(address)
    if not recipients:
        # An address only mentioned in the prose is a recipient only when it is the only one:
        # among several ("write to lastname@…", "try x@… instead") none is known to have failed.
        senders = {_normalize(a) for a in _FROM_ADDRESS.findall(text)}
        mentioned = {_normalize(a) for a in _ADDRESS.findall(text)} - excluded - senders - {None}
        mentioned = {a for a in mentioned if not is_role_or_list(a)}
        if len(mentioned) > 1:
            # "unable to deliver your message to a@… : quota violation for b@…": the one the
            # message was being delivered to.
            mentioned &= {_normalize(a) for a in _TO_ADDRESS.findall(text)}
        if len(mentioned) == 1:
            recipients += mentioned
    if not recipients and original is not None:
        address = _normalize(_first_address(original.get("To")))
        if address and address not in excluded:
            recipients.append(address)
    recipients = [r for r in recipients if r is None or not is_role_or_list(r)]
    if not recipients:
        recipients = [None]

    segments = _segments(text, recipients)
    # A delay warning says so once for every address it lists ("has not yet been delivered
    # to one or more of its recipients"), and some addresses get no reason of their own.
    delay_notice = _says_delayed(text)
    report = Report(kind=BOUNCE)
    for recipient in recipients:
        context = segments.get(recipient) or text
        if len(recipients) == 1:
            context = text
        original_address = _expanded_from(text, recipient)
        diagnostic = _diagnostic(context)
        action = "failed"
        if (delay_notice or _says_delayed(context)) and not _permanent_reply(diagnostic):
            action = "delayed"
        report.recipients.append(
            _outcome(
                original_address or recipient,
                action,
                "",
                diagnostic,
                context,
                final_recipient=recipient if original_address else None,
            )
        )
    return report


# A failure the explanation only foresees: Gmail's delay notice says "You'll be notified if the
# delivery fails permanently".
_IF_PERMANENT = re.compile(
    r"\b(?:if|when|should|once|in case)\b[^.\n]{0,80}?\bpermanent(?:ly)?\b", re.I
)


def _says_delayed(text: str) -> bool:
    """The explanation says delivery goes on ("will retry", "delayed") and not that it ended."""
    return bool(
        re.search(
            r"\b(delay(ed)?|will (be )?retry|still trying|not yet been delivered|temporar)",
            text,
            re.I,
        )
    ) and not re.search(r"permanent|given up|giving up|gave up", _IF_PERMANENT.sub("", text), re.I)


def _permanent_reply(diagnostic: str) -> bool:
    """The server's own words carry a 5xx reply or a 5.x.x status: the delivery failed for
    good, whatever else the explanation says ("contact the recipient so as not to delay")."""
    first = _enhanced(diagnostic)[:1] or str(_smtp_code(diagnostic) or "")[:1]
    return first == "5"


def _expanded_from(text: str, address: str | None) -> str | None:
    """The address `address` was expanded from, as Postfix ("<a> (expanded from <b>): …"),
    sendmail ("a\n    (expanded from: b)") and Exim ("a\n    (generated from b)") write it:
    the one the sender used."""
    if not address:
        return None
    match = re.search(
        re.escape(address)
        + r">?\s*\((?:expanded|generated) from:?\s*<?("
        + ADDRESS_PATTERN
        + r")>?\)",
        text,
        re.I,
    )
    return _normalize(match.group(1)) if match else None


_ADDRESS_AT_LINE_START = re.compile(
    r"^[ \t]*+(?:[-*•>]++\s*+)?(?:[245]\d\d[ -]++)?"
    # A label naming what the address is: "RCPT TO:", "Recipient:", "Unknown user:", "Bad
    # address:". Not "To:": that is a quoted header of the returned original (for list mail,
    # the list).
    r"(?:(?:[A-Za-z-]+ ){0,2}(?:RCPT TO|Recipient|Address|User|Mailbox|Empfänger)s?\s*:\s*)?"
    r"[<\"'\[]?(" + ADDRESS_PATTERN + r")[>\]]?",
    re.I | re.M | re.ASCII,
)


# An address introduced by "from" is where the mail came from ("MAIL FROM:<a>", "mail from a").
# Not "expanded/generated from <a>": that is the address the sender used, an alias's name.
# The address starts after a space, a colon or "<", not inside a word ("from550-…"): else each
# "from" in a long run of address characters read the whole run, a quadratic.
_FROM_ADDRESS = re.compile(
    rf"(?<!expanded )(?<!generated )\bfrom:?\s*<?(?<!{ADDRESS_CHARS})({ADDRESS_PATTERN})", re.I
)


# An address the mail was being delivered to ("unable to deliver your message to a@…").
_TO_ADDRESS = re.compile(
    r"\b(?:deliver\w*|sent|send|mail)(?: (?:your|the|this) (?:message|mail|e-?mail)| it)?"
    rf" to:?\s*<?(?<!{ADDRESS_CHARS})({ADDRESS_PATTERN})",
    re.I,
)


# An address that starts a line only because the prose was wrapped there: the sentence runs
# through it ("The address to which your message was addressed,\nuser1@example.gov, did not
# match …": the line above ends mid-sentence and words follow) ...
_SENTENCE_GOES_ON = re.compile(
    r"[>\]'\"]?(?:,[ \t]+[a-z]+|[ \t]+(?:although|and|or|but|which|who|whose))[ \t]"
)
_LINE_ENDS_MID_SENTENCE = re.compile(r"[^\s.:!?;>)\]][ \t]*\n[ \t]*+[<\"'\[]?\Z")
# ... or it continues a reply that the report wrapped (Postfix: "… said: 550 5.1.1\n
# <alias.target@…>: Recipient address rejected …", the forward's target, indented).
_REPLY_GOES_ON = re.compile(
    r"(?:\bsaid:|(?<![\w.])[245]\d\d(?:[ -][245]\.\d{1,3}\.\d{1,3})?)[ \t]*\n[ \t]++[<\"'\[]?\Z"
)
# ... or it is who to write to ("For further assistance, please contact\n<support@…>").
_ASKS_TO_WRITE = re.compile(
    r"(?<![\w.@-])(?:contact|write to|e-?mail|reach|send (?:an? )?(?:e-?mail|message) to)"
    # "… contact your email admin at\n<it-help@…>" (Exchange Online's NDR advice)
    r"(?: us| (?:your|the|our)(?: [\w-]+){1,3} at)?(?: at)?[ \t]*\n[ \t]*+[<\"'\[]?\Z",
    re.I,
)


def _anchored_addresses(text: str, excluded: set[str]) -> list[str | None]:
    """Addresses that start a line of the explanation: the usual shape of a failed recipient."""
    found: list[str | None] = []
    for match in _ADDRESS_AT_LINE_START.finditer(text):
        line = text[match.start() : text.find("\n", match.start()) % (len(text) + 1)]
        if re.match(r"\s*(from|reply-to|return-path|[\w -]*sender[\w -]*)\s*:", line, re.I):
            continue
        before = text[max(0, match.start(1) - 80) : match.start(1)]
        if (
            _ASKS_TO_WRITE.search(before)
            or _REPLY_GOES_ON.search(before)
            or (
                _LINE_ENDS_MID_SENTENCE.search(before)
                and _SENTENCE_GOES_ON.match(text, match.end())
            )
        ):
            continue
        address = _normalize(match.group(1))
        if address and address not in excluded and address not in found:
            found.append(address)
    return found


# Lines of an SMTP transcript that lead up to a recipient's summary line (sendmail style):
# "While talking to ...", ">>> RCPT To:<...>", "<<< 550 ...", "421 host (smtp)... Deferred".
_TRANSCRIPT_LINE = re.compile(r"^\s*(?:<<<|>>>|while talking to\b|[245]\d\d [^@\n]*$)", re.I)
# A command our side sent, as a transcript quotes it (">>> RCPT To:<a@…>").
_COMMAND_LINE = re.compile(r"[ \t]*>>>")


def _segments(text: str, recipients: list[str | None]) -> dict[str | None, str]:
    """The pieces of explanation about each recipient: from each of its mentions to the next
    mention of another recipient. A report may name everyone first and explain them later
    (sendmail: the list of failed addresses, then the session transcript), so every mention
    counts, not only the first: another recipient's reply is never part of this one's."""
    lowered = text.lower()
    wanted = {recipient for recipient in recipients if recipient}
    mentions = []
    # Whole addresses, in one pass: "bob@x.org" is not mentioned in "jimbob@x.org".
    for match in _ADDRESS.finditer(lowered):
        if match.group() in wanted:
            mentions.append((lowered.rfind("\n", 0, match.start()) + 1, match.group()))
    for recipient in wanted - {recipient for _, recipient in mentions}:
        # An address the pattern does not take whole (a quoted local part): its first mention.
        position = lowered.find(recipient)
        if position >= 0:
            mentions.append((lowered.rfind("\n", 0, position) + 1, recipient))
    mentions.sort()
    bounds: list[tuple[int, int, str]] = []  # (piece start, mention's line start, recipient)
    previous_end = 0
    for line_start, recipient in mentions:
        if bounds and bounds[-1][2] == recipient:
            previous_end = line_start
            continue  # the same recipient again: its piece goes on
        if bounds and bounds[-1][1] == line_start:
            continue  # a line naming two recipients stays with the first
        start = line_start
        if not _COMMAND_LINE.match(text, line_start):
            # A summary line after a transcript ("550 5.1.1 <a@…>... User unknown"): the
            # transcript lines just above it are its replies. Above a command (">>> RCPT
            # To:<a@…>") they answered the command before, another recipient's.
            while start > previous_end:
                line_begin = text.rfind("\n", 0, start - 1) + 1
                line = text[line_begin : start - 1]
                if not _TRANSCRIPT_LINE.match(line):
                    break
                start = line_begin
                if line.lstrip().lower().startswith("while talking to"):
                    break  # the start of this conversation
        bounds.append((start, line_start, recipient))
        previous_end = line_start
    segments: dict[str | None, str] = {}
    for i, (start, _, recipient) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else len(text)
        piece = text[start:end]
        segments[recipient] = f"{segments[recipient]}\n{piece}" if recipient in segments else piece
    return segments


# Where the server's own words start in a bounce's explanation, most specific first. A long
# reply goes on over indented lines (Postfix and Exim wrap at about 78 columns).
_WRAPPED = r"(?:\n[ \t]+\S.*)*"
_REPLY_STARTS = (
    # A reply code: "550 5.1.1 <a@…>: Recipient address rejected", or "550" alone on its line;
    # not a telephone number ("480-624-2500", see _SMTP_CODE).
    # A reply on several lines goes on while a line ends with "-" after the code (RFC 5321
    # §4.2.1: "550-5.7.26 This mail has been blocked" … "550 5.7.26 …"), indented or not.
    re.compile(
        r"(?<![\d.])(?P<code>[45][0-5]\d)(?!-\d{3}-|-\d{4}(?!\d))"
        r"(?:-.*\n[ \t]*(?P=code)(?=[ -]))*(?:[ -].*|(?=\n[ \t]+\S))" + _WRAPPED
    ),
    # No reply code, but an enhanced status that starts the reply: "-- 5.1.1 <a@…>:
    # Recipient address rejected: …" (Amazon SES's plain-text failure notice). RFC 3463's
    # subjects run 0-7, so a version ("Exim 4.94.2") is not one.
    re.compile(r"(?<![\w.])[45]\.[0-7]\.\d{1,3}\s+\S.*" + _WRAPPED),
    # qmail-send's bounce: the recipient alone on a line ("<a@…>:"), its reason on the lines
    # below, up to a blank line (the one group).
    re.compile(r"(?m)^<" + ADDRESS_PATTERN + r">:\n(?P<reason>(?:.*\S.*\n?)+)"),
)


def _diagnostic(context: str) -> str:
    """The server's own words when they can be found, else the whole explanation (without the
    returned original's header lines it quotes)."""
    context = _QUOTED_HEADER_LINE.sub("", context)
    for pattern in _REPLY_STARTS:
        match = pattern.search(context)
        if match:
            return _clean(match.groupdict().get("reason") or match.group())[:1000]
    return _clean(context)[:1000]
