"""Tracking endpoints (open pixel, click redirect, unsubscribe) and the send-test page."""

from __future__ import annotations

import base64

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sesconsole.tenancy import current_account

from . import tracking
from .api import email_detail
from .models import OutboundEmail, SenderIdentity, SendingSettings
from .sending import SendError, SendRequest, send_email, settings_for

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _hit(request: HttpRequest, token: str, kind: str):
    data = tracking.read_token(token, kind)
    message = tracking.message_for(data) if data else None
    if message is None:
        raise Http404("Unknown or tampered link.")
    return data, message


def _client(request: HttpRequest) -> dict:
    return {
        "user_agent": request.headers.get("User-Agent", ""),
        "ip": request.META.get("REMOTE_ADDR") or None,
    }


@never_cache
@require_http_methods(["GET", "HEAD"])
def track_open(request: HttpRequest, token: str) -> HttpResponse:
    _, message = _hit(request, token, tracking.OPEN)
    tracking.record_hit(message, tracking.OPEN, method=request.method, **_client(request))
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_http_methods(["GET", "HEAD"])
def track_click(request: HttpRequest, token: str) -> HttpResponse:
    data, message = _hit(request, token, tracking.CLICK)
    tracking.record_hit(
        message, tracking.CLICK, url=data.url, method=request.method, **_client(request)
    )
    # The URL comes from the signed token, so this is never an open redirect.
    return HttpResponseRedirect(data.url)


@never_cache
@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation button (link scanners must not unsubscribe); POST records it."""
    _, message = _hit(request, token, tracking.UNSUBSCRIBE)
    if request.method == "POST":
        tracking.record_hit(message, tracking.UNSUBSCRIBE, **_client(request))
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("Unsubscribed.\n", content_type="text/plain")
        done = True
    else:
        done = message.unsubscribed
    return render(
        request,
        "delivery/unsubscribe.html",
        {
            "done": done,
            "recipient": message.recipient,
            "sender": message.sender_domain,
            "sender_name": str(message.account),
        },
    )


# ---------------------------------------------------------------------------------------
# Console: send a test email.


class SendTestForm(forms.Form):
    from_address = forms.ChoiceField(label="From")
    to = forms.EmailField(label="To", max_length=254)
    subject = forms.CharField(max_length=200, initial="Test email from SES Console")
    html = forms.CharField(
        label="HTML body",
        widget=forms.Textarea(attrs={"rows": 6}),
        initial='<p>Hello! This is a test. <a href="https://example.com/">A link</a>.</p>',
    )

    def __init__(self, *args, senders: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_address"].choices = [(s, s) for s in senders]


def _sender_choices(account) -> list[str]:
    """Addresses the form offers: verified addresses, and noreply@ each verified domain."""
    out = []
    for identity in SenderIdentity.objects.filter(account=account, verified_at__isnull=False):
        if identity.kind == SenderIdentity.Kind.DOMAIN:
            out.append(f"noreply@{identity.value}")
        else:
            out.append(identity.value)
    return sorted(out)


@login_required
def send_test(request: HttpRequest) -> HttpResponse:
    account = current_account(request)
    if account is None:
        return render(request, "console/no_account.html", status=403)
    senders = _sender_choices(account)
    form = SendTestForm(request.POST or None, senders=senders)
    if request.method == "POST" and form.is_valid():
        req = SendRequest(
            from_address=form.cleaned_data["from_address"],
            to=[form.cleaned_data["to"]],
            subject=form.cleaned_data["subject"],
            html=form.cleaned_data["html"],
            text="This is a test email from SES Console.",
            reference="console-test",
        )
        try:
            email = send_email(account, req)
        except SendError as exc:
            form.add_error(None, exc.message)
        else:
            row = email.recipient_rows[0]
            if row.state == row.State.REJECTED:
                messages.error(
                    request, f"Not sent: {row.address} is blocked ({row.reject_reason})."
                )
            else:
                messages.success(request, f"Queued a test email to {row.address}.")
            return redirect("delivery:send_test")
    recent = [
        {**email_detail(e), "sent_at": e.created_at}
        for e in OutboundEmail.objects.filter(account=account).order_by("-created_at")[:10]
    ]
    return render(
        request,
        "delivery/send_test.html",
        {
            "title": "Send a test email",
            "form": form,
            "senders": senders,
            "recent": recent,
            "tracking": settings_for(account),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def tracking_settings(request: HttpRequest) -> HttpResponse:
    """Turn open and click tracking on or off for the account's future mail."""
    if request.method == "GET":  # a bookmarked or retyped form address: point to the form
        response = render(request, "delivery/tracking_get.html", status=405)
        response["Allow"] = "POST"
        return response
    account = current_account(request)
    if account is None:
        return render(request, "console/no_account.html", status=403)
    opens, clicks = "track_opens" in request.POST, "track_clicks" in request.POST
    SendingSettings.objects.update_or_create(
        account=account, defaults={"track_opens": opens, "track_clicks": clicks}
    )
    state = {True: "on", False: "off"}
    messages.success(
        request, f"Open tracking is {state[opens]}, click tracking is {state[clicks]}."
    )
    return redirect("delivery:send_test")
