"""Sending: sender identities, the mail API's service, and delivery to the SMTP relay.

`send_email(...)` checks the sender and every recipient (blocked ones are rejected, the
rest queued) and `deliver(recipient_pk)` makes one delivery attempt. Every outcome is an
event through `delivery.ingest.ingest_events`, with ids fixed per attempt so a task re-run
after a worker restart counts once.
"""

from __future__ import annotations

import re
import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import formataddr, parseaddr
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from blocklist.gate import check as blocklist_check
from sesconsole.lib.errors import ServiceError
from sesconsole.models import Account

from .addresses import InvalidAddress, domain_of, normalize_address
from .bounces import find_enhanced_status
from .ingest import NewEvent, record_events
from .models import (
    EventType,
    OutboundEmail,
    OutboundRecipient,
    SenderIdentity,
    SendingSettings,
)
from .tracking import rewrite_html, text_footer, unsubscribe_url

# Headers the service writes itself; a client may not set them.
_RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "From",
        "To",
        "Cc",
        "Bcc",
        "Subject",
        "Date",
        "Message-ID",
        "Reply-To",
        "Sender",
        "Return-Path",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "DKIM-Signature",
        "Received",
    )
)
_HEADER_NAME = re.compile(r"^[!-9;-~]{1,76}$")  # RFC 5322 field name: printable, no colon
_MAX_HEADERS = 50
SES_HEADER = "X-SES-Message-ID"


class SendError(ServiceError):
    """A refused send request, with a stable code for the API."""


# ---------------------------------------------------------------------------------------
# Sender identities and settings.


def is_verified_sender(account: Account, address: str) -> bool:
    """May `account` send from the normalised `address`? Queries once."""
    return (
        SenderIdentity.objects.filter(account=account, verified_at__isnull=False)
        .filter(
            Q(kind=SenderIdentity.Kind.ADDRESS, value=address)
            | Q(kind=SenderIdentity.Kind.DOMAIN, value=domain_of(address))
        )
        .exists()
    )


def add_sender_identity(account: Account, value: str, *, verified: bool = False) -> SenderIdentity:
    """Register a sender domain or address (normalised); optionally verified at once."""
    kind, value = SenderIdentity.normalise(value)
    identity, _ = SenderIdentity.objects.get_or_create(
        account=account, value=value, defaults={"kind": kind}
    )
    if verified and identity.verified_at is None:
        identity.verified_at = timezone.now()
        identity.save(update_fields=["verified_at"])
    return identity


def verify_identities(queryset) -> int:
    """Mark identities verified; returns how many were not verified before."""
    return queryset.filter(verified_at=None).update(verified_at=timezone.now())


def settings_for(account: Account) -> SendingSettings:
    """The account's sending settings (defaults if it never saved any). Queries once."""
    found = SendingSettings.objects.filter(account=account).first()
    return found or SendingSettings(account=account)


# ---------------------------------------------------------------------------------------
# The mail API's service.


@dataclass
class SendRequest:
    from_address: str
    to: list[str]
    subject: str
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    reply_to: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    reference: str = ""


def _normalise_list(values: list[str], name: str) -> list[str]:
    out, errors = [], []
    for value in values:
        try:
            out.append(normalize_address(value))
        except InvalidAddress as exc:
            errors.append(f"{value!r}: {exc}")
    if errors:
        raise SendError(
            "invalid_address", f"'{name}' holds invalid addresses.", details={name: errors}
        )
    return out


def _check_headers(headers: dict[str, str]) -> dict[str, str]:
    if len(headers) > _MAX_HEADERS:
        raise SendError("invalid_headers", f"At most {_MAX_HEADERS} custom headers.")
    clean = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise SendError("invalid_headers", f"{name!r} is not a valid header name.")
        if name.lower() in _RESERVED_HEADERS or name.lower().startswith("x-ses-"):
            raise SendError("invalid_headers", f"The header {name!r} is set by the service.")
        if not isinstance(value, str) or "\r" in value or "\n" in value or len(value) > 998:
            raise SendError("invalid_headers", f"The value of {name!r} must be one line of text.")
        clean[name] = value
    return clean


def _validate(account: Account, req: SendRequest) -> tuple[str, list[tuple[str, str]]]:
    """Check a request; return the sender's normalised address and (field, address) pairs."""
    for name, value in (("from", req.from_address), ("reply_to", req.reply_to)):
        if "\r" in value or "\n" in value:
            raise SendError("invalid_field", f"'{name}' must be one line.")
    raw_from = parseaddr(req.from_address)[1]
    try:
        sender = normalize_address(raw_from or req.from_address)
    except InvalidAddress as exc:
        raise SendError("invalid_address", f"'from': {exc}") from None
    if not is_verified_sender(account, sender):
        raise SendError(
            "sender_not_verified",
            f"'{sender}' is not a verified sender of this account: verify its domain "
            f"'{domain_of(sender)}' or the address first.",
            403,
        )
    if req.reply_to:
        _normalise_list([req.reply_to], "reply_to")
    if not req.subject.strip():
        raise SendError("missing_field", "'subject' is required.")
    if len(req.subject) > 998 or "\n" in req.subject or "\r" in req.subject:
        raise SendError("invalid_field", "'subject' must be one line of at most 998 characters.")
    if not req.text and not req.html:
        raise SendError("missing_field", "Send 'text', 'html' or both.")
    req.headers = _check_headers(req.headers)
    size = sum(len(part.encode()) for part in (req.subject, req.text, req.html))
    size += sum(len(k) + len(v.encode()) for k, v in req.headers.items())
    if size > settings.SENDING_MAX_MESSAGE_BYTES:
        raise SendError(
            "message_too_large",
            f"The message is {size} bytes; the limit is {settings.SENDING_MAX_MESSAGE_BYTES}.",
            413,
        )
    recipients: list[tuple[str, str]] = []
    seen = set()
    for name in ("to", "cc", "bcc"):
        for address in _normalise_list(getattr(req, name), name):
            if address not in seen:  # each address gets the mail once
                seen.add(address)
                recipients.append((name, address))
    if not req.to:
        raise SendError("missing_field", "'to' needs at least one address.")
    limit = settings.SENDING_MAX_RECIPIENTS
    if len(recipients) > limit:
        raise SendError(
            "too_many_recipients",
            f"At most {limit} recipients (to, cc and bcc together); this request has "
            f"{len(recipients)}.",
        )
    return sender, recipients


def send_email(account: Account, req: SendRequest) -> OutboundEmail:
    """Accept a send request: reject blocked recipients, queue the rest.

    1. Validate the sender (a verified identity), recipients, headers and size.
    2. Ask the blocklist about every recipient (the single gate sending obeys).
    3. In one transaction: store the email and its recipients, ingest a `rejected` event
       per blocked recipient and a `request` event per accepted one, and enqueue delivery
       of the accepted ones once the transaction commits (an unreachable broker leaves
       them queued for the resume job; the request still succeeds).
    """
    from .tasks import enqueue_delivery

    sender, recipients = _validate(account, req)
    verdicts = blocklist_check(account, [a for _, a in recipients], record_stops=True)
    options = settings_for(account)
    now = timezone.now()
    email_id = uuid.uuid4().hex
    with transaction.atomic():
        email = OutboundEmail.objects.create(
            account=account,
            email_id=email_id,
            from_address=req.from_address.strip(),
            reply_to=req.reply_to.strip(),
            to=req.to,
            cc=req.cc,
            subject=req.subject,
            text=req.text,
            html=req.html,
            headers=req.headers,
            reference=req.reference,
            track_opens=options.track_opens,
            track_clicks=options.track_clicks,
            created_at=now,
        )
        rows, events = [], []
        for index, (field_name, address) in enumerate(recipients):
            message_id = f"{email_id}-{index}"
            verdict = verdicts.get(address)
            blocked = verdict is not None and verdict.blocked
            rows.append(
                OutboundRecipient(
                    email=email,
                    account=account,
                    message_id=message_id,
                    address=address,
                    field=field_name,
                    smtp_message_id=f"<{message_id}@{domain_of(sender)}>",
                    state=OutboundRecipient.State.REJECTED
                    if blocked
                    else OutboundRecipient.State.QUEUED,
                    reject_reason=verdict.reject_reason if blocked else "",
                    next_attempt_at=None if blocked else now,
                )
            )
            event_type = EventType.REJECTED if blocked else EventType.REQUEST
            events.append(
                NewEvent(
                    f"{message_id}:{event_type}",
                    event_type,
                    now,
                    message_id,
                    from_address=sender,
                    to=address,
                    subject=req.subject,
                    reason=verdict.reject_reason if blocked else "",
                )
            )
        OutboundRecipient.objects.bulk_create(rows)
        record_events(account, events)
        for row in rows:
            if row.state == OutboundRecipient.State.QUEUED:
                transaction.on_commit(partial(enqueue_delivery, row.pk))
    email.recipient_rows = rows
    return email


# ---------------------------------------------------------------------------------------
# Delivery.


class _OneRecipientEmail(EmailMultiAlternatives):
    """Headers show the request's To and Cc; the envelope names one recipient."""

    def __init__(self, *args, envelope_to: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.envelope_to = envelope_to

    def recipients(self) -> list[str]:
        return [self.envelope_to]


def build_message(recipient: OutboundRecipient) -> _OneRecipientEmail:
    """The mail one recipient gets: tracked links, the open pixel, unsubscribe headers."""
    email = recipient.email
    account_id = recipient.account_id
    unsubscribe = unsubscribe_url(account_id, recipient.message_id)
    headers = {
        **email.headers,
        "Message-ID": recipient.smtp_message_id,
        SES_HEADER: recipient.message_id,
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if email.reply_to:
        headers["Reply-To"] = email.reply_to
    text = email.text + text_footer(unsubscribe) if email.text else ""
    html = ""
    if email.html:
        html = rewrite_html(
            email.html,
            account_id,
            recipient.message_id,
            track_opens=email.track_opens,
            track_clicks=email.track_clicks,
            unsubscribe=unsubscribe,
        )
    display, address = parseaddr(email.from_address)
    message = _OneRecipientEmail(
        subject=email.subject,
        body=text or html,
        from_email=formataddr((display, address)) if display else address,
        to=email.to,
        cc=email.cc,
        headers=headers,
        envelope_to=recipient.address,
    )
    if text and html:
        message.attach_alternative(html, "text/html")
    elif html:
        message.content_subtype = "html"
    return message


@dataclass
class Reply:
    code: int | None
    text: str

    @property
    def enhanced(self) -> str:
        return find_enhanced_status(self.text)

    def event(self, event_id: str, event_type: str, at, message_id: str, **fields) -> NewEvent:
        """The delivery event this reply makes, with its SMTP code, status and text."""
        fields.setdefault("response_text", self.text.strip()[:4000])
        code = self.code if self.code is not None and 200 <= self.code <= 599 else None
        return NewEvent(
            event_id,
            event_type,
            at,
            message_id,
            smtp_code=code,
            smtp_enhanced=self.enhanced,
            **fields,
        )


def _decode(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _send(message: _OneRecipientEmail) -> Reply:
    """Hand one message to the relay; the reply that decides its fate."""
    connection = get_connection(
        settings.SENDING_EMAIL_BACKEND,
        fail_silently=False,
        host=settings.SENDING_RELAY_HOST,
        port=settings.SENDING_RELAY_PORT,
        username=settings.SENDING_RELAY_USER or None,
        password=settings.SENDING_RELAY_PASSWORD or None,
        use_tls=settings.SENDING_RELAY_USE_TLS,
        timeout=settings.SENDING_RELAY_TIMEOUT,
    )
    try:
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return Reply(code, f"{code} {_decode(text)}")
    except smtplib.SMTPResponseException as exc:  # sender refused, DATA refused, ...
        return Reply(exc.smtp_code, f"{exc.smtp_code} {_decode(exc.smtp_error)}")
    except (smtplib.SMTPException, OSError) as exc:
        # The relay could not be reached or hung up: a temporary failure, no reply code.
        return Reply(None, f"Relay unavailable: {exc.__class__.__name__}: {exc}")
    return Reply(250, "250 Accepted by the relay")


def retry_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    return min(settings.SENDING_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 6 * 3600)


def deliver(recipient_pk: int) -> int | None:
    """Make one delivery attempt; return seconds until the next one, or None when done.

    1. Claim the attempt: one UPDATE guarded by the attempt count, the state and the due
       time, so a re-delivered or duplicated task never sends the same attempt twice.
    2. Ask the blocklist again (an unsubscribe may have arrived since the request).
    3. Send, and record the outcome as an event whose id names the attempt:
       2xx → delivered; 4xx or no answer → deferred (or bounced after the last attempt);
       5xx → bounced, classified from the reply.
    """
    recipient = (
        OutboundRecipient.objects.select_related("email", "account").filter(pk=recipient_pk).first()
    )
    if recipient is None or recipient.state in OutboundRecipient.FINAL_STATES:
        return None
    now = timezone.now()
    attempt = recipient.attempts + 1
    claimed = OutboundRecipient.objects.filter(
        pk=recipient.pk,
        attempts=recipient.attempts,
        state__in=[OutboundRecipient.State.QUEUED, OutboundRecipient.State.DEFERRED],
        next_attempt_at__lte=now + timedelta(seconds=1),
    ).update(attempts=attempt)
    if claimed != 1:
        return None
    account = recipient.account
    mid = recipient.message_id

    verdict = blocklist_check(account, [recipient.address], record_stops=True).get(
        recipient.address
    )
    if verdict is not None and verdict.blocked:
        _record(
            recipient,
            NewEvent(
                f"{mid}:rejected",
                EventType.REJECTED,
                now,
                mid,
                from_address=normalize_address(parseaddr(recipient.email.from_address)[1]),
                to=recipient.address,
                reason=verdict.reject_reason,
            ),
            state=OutboundRecipient.State.REJECTED,
            reject_reason=verdict.reject_reason,
        )
        return None

    reply = _send(build_message(recipient))
    answered = timezone.now()
    code = reply.code or 0
    if 200 <= code < 300:
        _record(
            recipient,
            reply.event(f"{mid}:delivered:{attempt}", EventType.DELIVERED, answered, mid),
            state=OutboundRecipient.State.DELIVERED,
            last_reply=reply.text,
        )
        return None
    if code >= 500 or attempt >= settings.SENDING_MAX_ATTEMPTS:
        text = reply.text
        if code < 500:
            text = f"Gave up after {attempt} attempts; last reply: {reply.text}"
        _record(
            recipient,
            reply.event(
                f"{mid}:bounced:{attempt}",
                EventType.BOUNCED,
                answered,
                mid,
                to=recipient.address,  # some providers' replies mean more at their own domains
                response_text=text[:4000],
            ),
            state=OutboundRecipient.State.BOUNCED,
            last_reply=text,
        )
        return None
    delay = retry_delay(attempt)
    _record(
        recipient,
        reply.event(f"{mid}:deferred:{attempt}", EventType.DEFERRED, answered, mid),
        state=OutboundRecipient.State.DEFERRED,
        last_reply=reply.text,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return delay


def _record(recipient: OutboundRecipient, event: NewEvent, **state) -> None:
    """Store an attempt's outcome: the recipient's state and its event, together or not at all."""
    state.setdefault("next_attempt_at", None)
    with transaction.atomic():
        OutboundRecipient.objects.filter(pk=recipient.pk).update(**state)
        record_events(recipient.account, [event])


# An attempt this overdue lost its task or its worker; the console says so.
STALLED_AFTER = timedelta(minutes=2)


def resume_stalled(older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Recipients whose attempt is long overdue (their task was lost): ids to re-enqueue."""
    cutoff = timezone.now() - older_than
    return list(OutboundRecipient.objects.due(cutoff).values_list("pk", flat=True)[:1000])
