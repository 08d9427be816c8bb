"""Public tracking endpoints (open pixel, click redirect, unsubscribe): no sign-in, a signed token."""

from __future__ import annotations

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import tracking

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
