"""Console views that belong to no single app: home, account switcher, API keys, errors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .api_support import json_error
from .models import Account, ApiKey
from .tenancy import console_view, same_site_referer, switch_account


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("stats:queue")


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    try:
        account_id = int(request.POST.get("account", ""))
    except ValueError:
        account_id = 0
    account = switch_account(request, account_id)
    if account is None:
        messages.error(request, "You cannot act for that account.")
    nxt = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = reverse("home")
    return redirect(nxt)


@console_view
def api_keys(request: HttpRequest, account: Account) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        name = (request.POST.get("name") or "default").strip()[:100] or "default"
        _, new_key = ApiKey.issue(account, name=name, created_by=request.user)
        messages.success(request, f"Created API key '{name}'. Copy it now: it is not shown again.")
    keys = ApiKey.objects.filter(account=account).select_related("created_by")
    return render(request, "console/api_keys.html", {"keys": keys, "new_key": new_key})


@require_POST
@console_view
def revoke_api_key(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk, account=account)
    key.revoke()
    messages.success(request, f"Revoked API key '{key.name}'.")
    return redirect("api_keys")


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error("not_found", "Not found.", 404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error("server_error", "Something went wrong on our side.", 500)
    return render(request, "500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form from a page older than the session (signed out and in again in another tab,
    or a session that ended): say so, and that nothing was changed, in the console's page."""
    if request.path.startswith("/api/"):
        return json_error(
            "csrf_failed",
            "The request's CSRF token is missing or stale: reload the page and send it again.",
            403,
        )
    return render(
        request, "console/csrf_failure.html", {"back": same_site_referer(request)}, status=403
    )
