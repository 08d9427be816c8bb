"""Console pages for TC3 keys: create a SecretId/SecretKey pair (shown once) and revoke it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sesconsole.tenancy import current_account

from .models import Tc3Key


@login_required
def tc3_keys(request: HttpRequest) -> HttpResponse:
    account = current_account(request)
    if account is None:
        return render(request, "console/no_account.html", status=403)
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


@login_required
@require_POST
def revoke_tc3_key(request: HttpRequest, pk: int) -> HttpResponse:
    account = current_account(request)
    key = get_object_or_404(Tc3Key, pk=pk, account=account)
    key.revoke()
    messages.success(request, f"Revoked TC3 key '{key.name}' ({key.secret_id}).")
    return redirect("tc3_keys")
