"""A sent message's content on its detail page: the headers and the body as sent.

Only mail sent through the console has content (delivery.models.OutboundEmail); mail
whose events were reported by another sender does not. The headers and the text body are
rebuilt exactly as delivery built them (`sending.build_message`: unsubscribe headers and
footer). The HTML frame shows the HTML as the sender gave it, without the open pixel and
tracked links delivery adds: a click or an image load in the console must not count as
the recipient's.

The HTML body is someone else's markup. It is never put into a console page: the page
frames it from its own URL, in an `<iframe sandbox>` (no scripts, not same-origin), and
that URL answers with a CSP that forbids scripts, forms, frames and remote loads (remote
images would also count as opens of the open pixel), and itself sandboxes the document
in case it is opened outside the frame.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.clickjacking import xframe_options_sameorigin

from sesconsole.models import Account
from sesconsole.tenancy import console_view

from .models import Message, OutboundRecipient

# The framed body: no script, no plugin, no form, no frame, nothing fetched but inline
# styles and data: images; `sandbox` (without allow-scripts / allow-same-origin) gives
# the document an opaque origin even when opened directly.
BODY_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox"
)


def sent_recipient(account: Account, message: Message) -> OutboundRecipient | None:
    """The console send behind `message`, if the console sent it (tenant-scoped)."""
    return (
        OutboundRecipient.objects.select_related("email")
        .filter(account=account, message_id=message.message_id)
        .first()
    )


def sent_content_context(account: Account, message: Message) -> dict:
    """`content` for the detail page: headers, text, whether there is HTML; or None."""
    from .sending import build_message

    recipient = sent_recipient(account, message)
    if recipient is None:
        return {"content": None}
    built = build_message(recipient)
    mime = built.message()
    headers = [(name, str(value)) for name, value in mime.items()]
    text, html = _bodies(built)
    return {"content": {"headers": headers, "text": text, "has_html": bool(html)}}


def _bodies(built) -> tuple[str, str]:
    """The text and HTML bodies of a built message."""
    if built.content_subtype == "html":
        return "", built.body
    html = next((c for c, mimetype in built.alternatives if mimetype == "text/html"), "")
    return built.body, html


@xframe_options_sameorigin
@console_view
def message_body(request: HttpRequest, account: Account, message_id: str) -> HttpResponse:
    """The HTML body (without tracking), for the detail page's sandboxed frame."""
    message = Message.objects.filter(account=account, message_id=message_id).first()
    recipient = sent_recipient(account, message) if message is not None else None
    html = recipient.email.html if recipient is not None else ""
    if not html:
        response = HttpResponse(
            "No HTML body.", content_type="text/plain; charset=utf-8", status=404
        )
    else:
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = BODY_CSP
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
