"""Console pages for TC3 keys: create a SecretId/SecretKey pair (shown once) and revoke it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sesconsole.models import Account
from sesconsole.tenancy import console_view

from .models import Tc3Key


@console_view
def tc3_keys(request: HttpRequest, account: Account) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()[:100] or "default"
        key, secret_key = Tc3Key.issue(account, name=name, created_by=request.user)
        new_key = {"secret_id": key.secret_id, "secret_key": secret_key}
        messages.success(
            request, f"Created TC3 key '{name}'. Copy the SecretKey now: it is not shown again."
        )
    keys = Tc3Key.objects.filter(account=account).select_related("created_by")
    return render(request, "tencent/tc3_keys.html", {"keys": keys, "new_key": new_key})


@console_view
@require_POST
def revoke_tc3_key(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    key = get_object_or_404(Tc3Key, pk=pk, account=account)
    key.revoke()
    messages.success(request, f"Revoked TC3 key '{key.name}' ({key.secret_id}).")
    return redirect("tc3_keys")
