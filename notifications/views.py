"""Console pages: the account's notification endpoints, and one page per endpoint with its
recent attempts, a test event, redelivery, secret rotation, enable/disable and delete."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sesconsole.models import Account
from sesconsole.tenancy import console_view

from . import outbox
from .models import Attempt, Endpoint, EventName, Notification

RECENT_ATTEMPTS = 50


def _get_endpoint_for_user(account: Account, pk: int) -> Endpoint:
    return get_object_or_404(Endpoint.objects.select_related("account"), pk=pk, account=account)


@console_view
def endpoints(request: HttpRequest, account: Account) -> HttpResponse:
    new_secret = None
    form = {"url": "", "sender_address": "", "events": [], "batch_size": 1}
    if request.method == "POST":
        form = {
            "url": request.POST.get("url", ""),
            "sender_address": request.POST.get("sender_address", ""),
            "events": request.POST.getlist("events"),
            "batch_size": request.POST.get("batch_size") or "1",
        }
        try:
            batch_size = int(form["batch_size"])
        except ValueError:
            batch_size = 0
        try:
            endpoint, new_secret = outbox.create_endpoint(
                account,
                form["url"],
                sender_address=form["sender_address"],
                events=form["events"],
                batch_size=batch_size,
            )
        except outbox.EndpointError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Endpoint created. Copy its signing secret now.")
            return _detail(request, endpoint, new_secret=new_secret)
    rows = (
        Endpoint.objects.for_account(account)
        .annotate(pending=Count("notifications", filter=Q(notifications__status="pending")))
        .order_by("sender_address")
    )
    return render(
        request,
        "notifications/endpoints.html",
        {"endpoints": rows, "form": form, "event_names": EventName.choices},
    )


@console_view
def endpoint_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    return _detail(request, _get_endpoint_for_user(account, pk))


def _detail(
    request: HttpRequest, endpoint: Endpoint, new_secret: str | None = None
) -> HttpResponse:
    attempts = (
        Attempt.objects.filter(endpoint=endpoint)
        .select_related("notification__event")
        .order_by("-at", "-pk")[:RECENT_ATTEMPTS]
    )
    counts = dict(
        Notification.objects.filter(endpoint=endpoint)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    with timezone.override(endpoint.account.time_zone):
        return render(
            request,
            "notifications/endpoint.html",
            {
                "endpoint": endpoint,
                "attempts": attempts,
                "pending": counts.get("pending", 0),
                "new_secret": new_secret,
                "timezone": str(endpoint.account.time_zone),
            },
        )


@console_view
@require_POST
def endpoint_test(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    endpoint = _get_endpoint_for_user(account, pk)
    outbox.send_test_event(endpoint)
    messages.success(request, "Test event queued; it appears below once sent.")
    return redirect("notifications:endpoint", pk=pk)


@console_view
@require_POST
def endpoint_rotate(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    endpoint = _get_endpoint_for_user(account, pk)
    secret = outbox.rotate_secret(endpoint)
    messages.success(request, "New signing secret: copy it now, it is not shown again.")
    return _detail(request, endpoint, new_secret=secret)


@console_view
@require_POST
def endpoint_toggle(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    endpoint = _get_endpoint_for_user(account, pk)
    outbox.set_enabled(endpoint, not endpoint.enabled)
    messages.success(request, "Endpoint enabled." if endpoint.enabled else "Endpoint disabled.")
    return redirect("notifications:endpoint", pk=pk)


@console_view
@require_POST
def endpoint_delete(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    endpoint = _get_endpoint_for_user(account, pk)
    endpoint.delete()
    messages.success(request, f"Deleted the endpoint {endpoint.url}.")
    return redirect("notifications:endpoints")


def _local(value: str, account: Account) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=account.time_zone)


@console_view
@require_POST
def endpoint_redeliver(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    endpoint = _get_endpoint_for_user(account, pk)
    notification = request.POST.get("notification")
    if notification:
        try:
            ids = [int(notification)]
        except ValueError:
            ids = []
        n = outbox.redeliver(endpoint, ids=ids) if ids else 0
    else:
        start = _local(request.POST.get("start", ""), account)
        end = _local(request.POST.get("end", ""), account)
        if start is None or end is None or start >= end:
            messages.error(request, "Give a start and an end time, the start first.")
            return redirect("notifications:endpoint", pk=pk)
        n = outbox.redeliver(endpoint, start=start, end=end)
    messages.success(request, f"Queued {n} notification(s) for redelivery.")
    return redirect("notifications:endpoint", pk=pk)
