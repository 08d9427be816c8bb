"""Delivery pages: the Email Status search and a message's event timeline."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sesconsole.models import Account
from sesconsole.tenancy import current_account
from stats.exports import MESSAGE_COLUMNS, csv_response, queryset_csv
from stats.services import zone_of

from .api import MessageFilter
from .models import DeliveryEvent, Message
from .partitions import retention_cutoff, retention_days

# Sortable columns: the query string's name -> the ORDER BY field.
MESSAGE_SORTS = {
    "requested": "requested_at",
    "to": "recipient",
    "status": "status",
    "id": "message_id",
}


def _get_message_for_user(request: HttpRequest, message_id: str) -> Message:
    account = current_account(request)
    message = Message.objects.filter(account=account, message_id=message_id).first()
    if account is None or message is None:
        raise Http404("No such message.")
    return message


def _message_filter(request: HttpRequest, account: Account) -> MessageFilter:
    today = timezone.now().astimezone(zone_of(account)).date()
    data = request.GET.copy()
    data.setdefault("start", (today - timedelta(days=6)).isoformat())
    data.setdefault("end", today.isoformat())
    found = MessageFilter(data, queryset=Message.objects.for_account(account), request=request)
    labels = {"start": "From", "end": "To", "recipient": "Recipient address"}
    for name, field in found.form.fields.items():
        if isinstance(field, forms.DateField):
            field.widget.input_type = "date"
        field.label = labels.get(name, field.label)
    found.form.fields["recipient"].widget.input_type = "search"
    del found.form.fields["sender_domain"]
    del found.form.fields["recipient_domain"]
    return found


@login_required
def email_status(request: HttpRequest) -> HttpResponse:
    account = current_account(request)
    if account is None:
        return render(request, "console/no_account.html", status=403)
    found = _message_filter(request, account)
    context: dict = {"title": "Email status", "form": found.form, "timezone": str(zone_of(account))}
    if not found.is_valid():
        context["errors"] = "; ".join(e for errs in found.form.errors.values() for e in errs)
        with timezone.override(zone_of(account)):
            return render(request, "delivery/email_status.html", context, status=400)

    sort = request.GET.get("sort", "-requested")
    field = MESSAGE_SORTS.get(sort.lstrip("-"), "requested_at")
    order = f"-{field}" if sort.startswith("-") else field
    messages = found.qs.order_by(order, "-pk")
    if request.GET.get("export") == "csv":
        return csv_response("email-status.csv", queryset_csv(messages, MESSAGE_COLUMNS))

    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    context.update(
        {
            "page": Paginator(messages, 50).get_page(request.GET.get("page")),
            "sort": sort,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "columns": [
                ("id", "Message ID"),
                (None, "From"),
                ("to", "To"),
                (None, "Subject"),
                ("requested", "Request time"),
                ("status", "Status"),
                (None, "Response"),
                (None, "Engagement"),
            ],
        }
    )
    with timezone.override(zone_of(account)):
        return render(request, "delivery/email_status.html", context)


@login_required
def message_detail(request: HttpRequest, message_id: str) -> HttpResponse:
    account = current_account(request)
    if account is None:
        return render(request, "console/no_account.html", status=403)
    message = _get_message_for_user(request, message_id)
    events = DeliveryEvent.objects.filter(account=message.account_id, message=message).order_by(
        "timestamp", "pk"
    )
    cutoff = retention_cutoff(timezone.now())
    first_seen = message.requested_at or message.created_at
    # Events before the cutoff are gone (EVENT_RETENTION_DAYS); the message row stays.
    events_expired_before = cutoff if cutoff and first_seen < cutoff else None
    with timezone.override(zone_of(account)):
        return render(
            request,
            "delivery/message_detail.html",
            {
                "title": f"Message {message.message_id}",
                "message": message,
                "events": events,
                "events_expired_before": events_expired_before,
                "retention_days": retention_days(),
                "timezone": str(zone_of(account)),
            },
        )
