"""Delivery pages: the Email Status search, a message's event timeline, and the send-test page."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from blocklist.offers import invalid_block_offers
from blocklist.surges import surge_that_held
from sesconsole.lib.csv_export import csv_response, queryset_csv
from sesconsole.lib.csv_zones import with_zone
from sesconsole.lib.downloads import for_excel
from sesconsole.lib.form_errors import summary_errors
from sesconsole.lib.pagination import CappedPaginator
from sesconsole.lib.timezones import local_today, zone_of
from sesconsole.models import Account
from sesconsole.tenancy import console_view

from .api import email_detail
from .content import sent_content_context
from .exports import MESSAGE_COLUMNS
from .filters import MessageFilter, paged_by_status
from .models import (
    REJECT_REASON_WORDS,
    BounceClass,
    DeliveryEvent,
    Message,
    OutboundEmail,
    SenderIdentity,
    SendingSettings,
)
from .partitions import retention_cutoff, retention_days
from .sending import SendError, SendRequest, send_email, settings_for


def _get_message_for_user(account: Account, message_id: str) -> Message:
    message = Message.objects.filter(account=account, message_id=message_id).first()
    if message is None:
        raise Http404("No such message.")
    return message


def _message_filter(request: HttpRequest, account: Account) -> MessageFilter:
    today = local_today(zone_of(account))
    data = request.GET.copy()
    data.setdefault("start", (today - timedelta(days=6)).isoformat())
    data.setdefault("end", today.isoformat())
    found = MessageFilter(data, queryset=Message.objects.for_account(account), request=request)
    labels = {
        "start": "From",
        "end": "To",
        "recipient": "Recipient address",
        "message_id": "Message ID",
        "subject": "Subject words",
    }
    for name, field in found.form.fields.items():
        if isinstance(field, forms.DateField):
            field.widget.input_type = "date"
        field.label = labels.get(name, field.label)
    for name in ("recipient", "message_id", "subject"):
        found.form.fields[name].widget.input_type = "search"
    found.form.fields["sort"].widget = forms.HiddenInput()
    found.form.use_labels = True
    del found.form.fields["sender_domain"]
    del found.form.fields["recipient_domain"]
    return found


@console_view
def email_status(request: HttpRequest, account: Account) -> HttpResponse:
    found = _message_filter(request, account)
    context: dict = {"title": "Email status", "form": found.form, "timezone": str(zone_of(account))}
    if not found.is_valid():
        context["errors"] = " ".join(summary_errors(found.form))
        with timezone.override(zone_of(account)):
            return render(request, "delivery/email_status.html", context, status=400)

    sort = request.GET.get("sort", "-requested")
    messages = found.qs
    if request.GET.get("export") == "csv":
        response = csv_response(
            "email-status.csv", queryset_csv(messages, with_zone(MESSAGE_COLUMNS, zone_of(account)))
        )
        days = (found.form.cleaned_data["start"], found.form.cleaned_data["end"])
        return for_excel(response, account.name, "email-status", *days)

    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    context.update(
        {
            "page": CappedPaginator(paged_by_status(messages), 50).get_page(
                request.GET.get("page")
            ),
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
    wanted = found.form.cleaned_data.get("message_id")
    if wanted and not context["page"].object_list:
        # An exact id is one message: say where it is when the dates leave it out.
        context["elsewhere"] = (
            Message.objects.for_account(account).filter(message_id=wanted).first()
        )
    with timezone.override(zone_of(account)):
        return render(request, "delivery/email_status.html", context)


@console_view
def message_detail(request: HttpRequest, account: Account, message_id: str) -> HttpResponse:
    message = _get_message_for_user(account, message_id)
    events = DeliveryEvent.objects.filter(account=account, message=message).order_by(
        "timestamp", "pk"
    )
    cutoff = retention_cutoff(timezone.now())
    first_seen = message.requested_at or message.created_at
    # Events before the cutoff are gone (EVENT_RETENTION_DAYS); the message row stays.
    events_expired_before = cutoff if cutoff and first_seen < cutoff else None
    offer = None
    if message.status == Message.Status.BOUNCED and message.recipient:
        offer = invalid_block_offers(account, [message.recipient]).get(message.recipient)
    surge = None
    if message.bounce_class == BounceClass.INVALID_ADDRESS and offer is None:
        # No block to offer: say why, if a surge at the domain held the verdict.
        surge = surge_that_held(message, events)
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
                "offer": offer,
                "surge": surge,
                **sent_content_context(account, message),
            },
        )


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


@console_view
def send_test(request: HttpRequest, account: Account) -> HttpResponse:
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
                why = REJECT_REASON_WORDS.get(row.reject_reason, "it is blocked")
                messages.error(request, f"Not sent to {row.address}: {why}.")
            else:
                messages.success(request, f"Queued a test email to {row.address}.")
            return redirect("delivery:send_test")
    recent = [
        {**email_detail(e), "sent_at": e.created_at}
        for e in OutboundEmail.objects.filter(account=account).order_by("-created_at")[:10]
    ]
    for email in recent:
        for row in email["recipients"]:
            row["reason_words"] = REJECT_REASON_WORDS.get(row["reason"], row["reason"])
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


@require_http_methods(["GET", "POST"])
@console_view
def tracking_settings(request: HttpRequest, account: Account) -> HttpResponse:
    """Turn open and click tracking on or off for the account's future mail."""
    if request.method == "GET":  # a bookmarked or retyped form address: point to the form
        response = render(request, "delivery/tracking_get.html", status=405)
        response["Allow"] = "POST"
        return response
    opens, clicks = "track_opens" in request.POST, "track_clicks" in request.POST
    SendingSettings.objects.update_or_create(
        account=account, defaults={"track_opens": opens, "track_clicks": clicks}
    )
    state = {True: "on", False: "off"}
    messages.success(
        request, f"Open tracking is {state[opens]}, click tracking is {state[clicks]}."
    )
    return redirect("delivery:send_test")
