"""Statistics pages: the real-time queue status chart and the four event reports.

Counts and charts come from `stats.services` (rollups); the event tables list rows
through `delivery.api.EventFilter`, the same FilterSet the API and its CSV export use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from django import forms
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.text import Truncator

from blocklist.offers import invalid_block_offers
from blocklist.surges import surges_that_held_each
from delivery.exports import EVENT_COLUMNS
from delivery.filters import EventFilter, stored_domain
from delivery.models import BounceClass, DeliveryEvent, EventType
from sesconsole.lib.csv_export import csv_chunks, csv_response, queryset_csv
from sesconsole.lib.csv_zones import with_zone
from sesconsole.lib.downloads import for_excel, local_range
from sesconsole.lib.form_errors import summary_errors, unique_errors
from sesconsole.lib.idn import display_domain
from sesconsole.lib.timezones import MAX_DAY, MIN_DAY, local_midnight, zone_of
from sesconsole.lib.widgets import SuggestInput
from sesconsole.models import Account
from sesconsole.tenancy import console_view

from .exports import series_header, series_rows
from .models import Side
from .services import (
    DOMAIN_MENU_DAYS,
    DOMAIN_MENU_SIZE,
    StatsError,
    domain_known,
    domain_menu,
    freshness,
    series,
    series_between,
)

RANGES = [
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("custom", "Custom"),
]
LIVE_RANGES = {"1h", "24h"}
REFRESH_SECONDS = 30
PAGE_SIZE = 50


class DomainField(forms.CharField):
    """A domain filter: empty for all, or one of the account's domains on one side, typed
    with suggestions (sesconsole.lib.widgets.SuggestInput)."""

    widget = SuggestInput

    def __init__(self, *, label: str, account: Account, side: str):
        super().__init__(label=label, required=False)
        self.account, self.side = account, side
        # One more than is shown tells whether there is anything more to ask for.
        suggestions = domain_menu(account, side, limit=DOMAIN_MENU_SIZE + 1)
        # Shown as people write them (例子.中国, not xn--…); to_python stores either form.
        self.widget.suggestions = [display_domain(d) for d in suggestions[:DOMAIN_MENU_SIZE]]
        if len(suggestions) > DOMAIN_MENU_SIZE:
            self.widget.suggest_url = f"{reverse('stats:domains')}?side={side}"
        self.widget.attrs.update(
            placeholder="All", autocomplete="off", spellcheck="false", autocapitalize="none"
        )

    def to_python(self, value) -> str:
        value = super().to_python(value)
        return stored_domain(value) if value else ""  # not a domain: `validate` says so

    def validate(self, value):
        super().validate(value)
        # A NUL is the null-character validator's to report (PostgreSQL refuses it).
        if value and "\x00" not in value and not domain_known(self.account, self.side, value):
            direction = "from" if self.side == Side.SENDER else "to"
            raise forms.ValidationError(
                "No mail %(direction)s %(value)s in the last %(days)s days: choose a domain "
                "from the suggestions, or leave it empty for all.",
                code="invalid_choice",
                params={
                    "direction": direction,
                    "value": display_domain(value),
                    "days": DOMAIN_MENU_DAYS,
                },
            )


def _has_domains(form: forms.Form) -> bool:
    """Whether the account has sent anything in the menus' days (their suggestions)."""
    return any(form.fields[f].widget.suggestions for f in ("sender_domain", "recipient_domain"))


def _domain_fields(form: forms.Form, account: Account) -> None:
    form.fields["sender_domain"] = DomainField(
        label="Sender domain", account=account, side=Side.SENDER
    )
    form.fields["recipient_domain"] = DomainField(
        label="Recipient domain", account=account, side=Side.RECIPIENT
    )


class QueueFilterForm(forms.Form):
    range = forms.ChoiceField(label="Range", choices=RANGES, required=False, initial="24h")
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        _domain_fields(self, account)

    def clean(self):
        data = super().clean()
        if data.get("range") == "custom":
            start, end = data.get("start"), data.get("end")
            if self.errors:
                return data  # a date that could not be read has its own message
            if not start or not end:
                raise forms.ValidationError("A custom range needs a “From” and a “To” date.")
            if end < start:
                raise forms.ValidationError("“To” must not be before “From”.")
            if start < MIN_DAY or end > MAX_DAY:
                raise forms.ValidationError(f"Dates must lie between {MIN_DAY} and {MAX_DAY}.")
            if (end - start).days >= 400:
                raise forms.ValidationError("A custom range covers at most 400 days.")
        return data


@dataclass
class Window:
    start: datetime
    end: datetime
    granularity: str


def queue_window(choice: str, account: Account, now: datetime, start=None, end=None) -> Window:
    """The instants and resolution a range choice stands for, in the account's zone."""
    tz = zone_of(account)
    if choice == "1h":
        stop = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return Window(stop - timedelta(hours=1), stop, "minute")
    if choice == "24h":
        local = now.astimezone(tz).replace(minute=0, second=0, microsecond=0)
        stop = local.astimezone(UTC) + timedelta(hours=1)
        return Window(stop - timedelta(hours=24), stop, "hour")
    today = now.astimezone(tz).date()
    if choice == "7d":
        return Window(
            local_midnight(today - timedelta(days=6), tz),
            local_midnight(today + timedelta(days=1), tz),
            "hour",
        )
    if choice == "custom" and start and end:
        granularity = "hour" if (end - start).days < 3 else "day"
        return Window(
            local_midnight(start, tz), local_midnight(end + timedelta(days=1), tz), granularity
        )
    return Window(
        local_midnight(today - timedelta(days=29), tz),
        local_midnight(today + timedelta(days=1), tz),
        "day",
    )


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def _chart(body: dict, account: Account, granularity: str, series_spec) -> dict:
    tz = zone_of(account)
    fmt = {"minute": "%H:%M", "hour": "%m-%d %H:00", "day": "%Y-%m-%d"}[granularity]
    labels = [
        datetime.fromisoformat(b["start"].replace("Z", "+00:00")).astimezone(tz).strftime(fmt)
        for b in body["buckets"]
    ]
    return {
        "labels": labels,
        "datasets": [
            {"key": key, "label": label, "data": [b[key] for b in body["buckets"]]}
            for key, label in series_spec
        ],
    }


QUEUE_SERIES = [
    ("requests", "Sent"),
    ("delivered", "Delivered"),
    ("bounced", "Bounced"),
    ("rejected", "Rejected"),
]


def _of_sent(part: int, sent: int) -> str:
    """A delivery outcome in the range against the mail sent in the range.

    Outcomes in a range include those of mail sent before it (a delivery at 10:01 of a
    message sent at 9:59), so over a short range the figure may pass 100%; the text says
    what it is measured against instead of calling it a share.
    """
    if not sent:
        return "none sent in this range"
    text = f"{_rate(part, sent)} of the {sent} sent in this range"
    return f"{text}, with mail sent earlier" if part > sent else text


def _tiles(totals: dict) -> list[dict]:
    sent = totals["requests"]
    return [
        {"key": "requests", "label": "Sent", "value": sent, "rate": ""},
        {
            "key": "delivered",
            "label": "Delivered",
            "value": totals["delivered"],
            "rate": _of_sent(totals["delivered"], sent),
        },
        {
            "key": "bounced",
            "label": "Bounced",
            "value": totals["bounced"],
            "rate": _of_sent(totals["bounced"], sent),
        },
        {
            "key": "rejected",
            "label": "Rejected",
            "value": totals["rejected"],
            "rate": f"{_rate(totals['rejected'], sent + totals['rejected'])} of requests",
        },
        {
            "key": "deferred",
            "label": "Deferred",
            "value": totals["deferred"],
            "rate": "retried later",
        },
        {
            "key": "opened_unique",
            "label": "Unique opens",
            "value": totals["opened_unique"],
            "rate": f"{_rate(totals['opened_unique'], totals['delivered'])} of delivered",
        },
    ]


@console_view
def queue_status(request: HttpRequest, account: Account) -> HttpResponse:
    data = request.GET.copy()
    data.setdefault("range", "24h")
    form = QueueFilterForm(data, account=account)
    tz = zone_of(account)
    if not form.is_valid():
        # No figures for a filter that could not be applied: only the form and its errors.
        if request.GET.get("export") == "csv" or request.GET.get("format") == "json":
            return JsonResponse(
                {
                    "code": "invalid_filter",
                    "message": "; ".join(unique_errors(form)),
                    "details": {k: list(v) for k, v in form.errors.items()},
                },
                status=400,
            )
        with timezone.override(tz):
            return render(
                request,
                "stats/queue.html",
                {
                    "title": "Real-time queue status",
                    "form": form,
                    "invalid": True,
                    "timezone": str(tz),
                },
                status=400,
            )
    args = form.cleaned_data
    now = timezone.now()
    window = queue_window(args["range"] or "24h", account, now, args.get("start"), args.get("end"))
    body = series_between(
        account,
        window.start,
        window.end,
        window.granularity,
        sender_domain=args.get("sender_domain") or None,
        recipient_domain=args.get("recipient_domain") or None,
    )
    if request.GET.get("export") == "csv":
        response = csv_response(
            "queue-status.csv", csv_chunks(series_header(), series_rows(body, tz))
        )
        bounds = local_range(window.start, window.end, zone_of(account))
        return for_excel(response, account.name, "queue-status", *bounds)
    fresh = freshness(account)
    payload = {
        "chart": _chart(body, account, window.granularity, QUEUE_SERIES),
        "tiles": _tiles(body["totals"]),
        "as_of": fresh.as_of.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        "latest": fresh.latest_bucket.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        if fresh.latest_bucket
        else "",
        "pending": _pending_text(fresh.backlog, tz),
    }
    if request.GET.get("format") == "json":
        return JsonResponse(payload)
    live = args["range"] in LIVE_RANGES
    rows = [
        {"label": label, "values": [ds["data"][i] for ds in payload["chart"]["datasets"]]}
        for i, label in enumerate(payload["chart"]["labels"])
    ]
    with timezone.override(tz):
        return render(
            request,
            "stats/queue.html",
            {
                "title": "Real-time queue status",
                "form": form,
                "payload": payload,
                "tiles": payload["tiles"],
                "rows": rows,
                "series_labels": [label for _, label in QUEUE_SERIES],
                "window": window,
                "live": live,
                "refresh_seconds": REFRESH_SECONDS,
                "timezone": str(tz),
                "has_data": _has_domains(form) or body["totals"]["requests"] > 0,
            },
        )


def _pending_text(backlog, tz) -> str:
    """One sentence on the events the figures do not count yet (empty when none)."""
    if backlog.empty:
        return ""
    count = f"More than {backlog.events:,}" if backlog.more else f"{backlog.events:,}"
    noun = "event" if backlog.events == 1 and not backlog.more else "events"
    since = (
        f", the oldest received at {backlog.oldest.astimezone(tz).strftime('%H:%M:%S')}"
        if backlog.oldest
        else ""
    )
    return f"{count} {noun} received but not counted yet{since}."


# ---------------------------------------------------------------------------------------
# Open/Click, Spam report, Bounced, Unsubscription.


@dataclass(frozen=True)
class CountsPage:
    """One of the pages of counts and event rows. ("Report" in this project means a returned
    bounce or feedback report, `delivery.intake`; these pages are named for what they show.)"""

    slug: str
    title: str
    event_types: tuple[str, ...]
    counters: tuple[tuple[str, str], ...]
    intro: str
    row_counters: tuple[str, ...]  # the counters that count this report's event rows
    by_class: bool = False


COUNTS_PAGES = {
    "open_click": CountsPage(
        "open-click",
        "Open/Click",
        (EventType.OPENED, EventType.CLICKED),
        (
            # Each human count beside its total.
            ("opened", "Opens"),
            ("opened_human", "Human opens"),
            ("opened_unique", "Unique opens"),
            ("opened_human_unique", "Unique human opens"),
            ("clicked", "Clicks"),
            ("clicked_human", "Human clicks"),
            ("clicked_unique", "Unique clicks"),
            ("clicked_human_unique", "Unique human clicks"),
        ),
        "Opens of the tracking pixel and clicks on tracked links. Unique counts take each "
        "message once, at its first open or click. Human counts leave out machine opens and "
        "clicks (mail privacy proxies fetching images, security scanners following links).",
        ("opened", "clicked"),
    ),
    "spam_reports": CountsPage(
        "spam-reports",
        "Spam report",
        (EventType.COMPLAINED,),
        (("complained", "Spam reports"),),
        "Recipients who reported a message as spam (feedback loops). Each one blocks the "
        "address for this account.",
        ("complained",),
    ),
    "bounced": CountsPage(
        "bounced",
        "Bounced",
        (EventType.BOUNCED,),
        (
            ("bounced", "Bounced"),
            *((f"bounced_{c.value}", c.label) for c in BounceClass),
        ),
        "Permanent delivery failures, split by bounce class.",
        ("bounced",),
        by_class=True,
    ),
    "unsubscriptions": CountsPage(
        "unsubscriptions",
        "Unsubscription",
        (EventType.UNSUBSCRIBED,),
        (("unsubscribed", "Unsubscribes"),),
        "Recipients who unsubscribed by link or one-click (RFC 8058).",
        ("unsubscribed",),
    ),
}

EVENT_SORTS = {
    "time": "timestamp",
    "-time": "-timestamp",
    "to": "message__recipient",
    "-to": "-message__recipient",
    # The sending time as the column shows it (`with_message`): none while the request has
    # not arrived, listed after every sent message either way.
    "sent": F("message_sent_at").asc(nulls_last=True),
    "-sent": F("message_sent_at").desc(nulls_last=True),
}


def _date_inputs(form: forms.Form) -> None:
    for name, field in form.fields.items():
        if isinstance(field, forms.DateField):
            field.widget.input_type = "date"
            field.label = {
                "start": "From",
                "end": "To",
                "sent_start": "Sent from",
                "sent_end": "Sent to",
            }.get(name, field.label)


def _default_days(account: Account) -> tuple[date, date]:
    today = timezone.now().astimezone(zone_of(account)).date()
    return today - timedelta(days=6), today


def counts_page_view(key: str):
    report = COUNTS_PAGES[key]

    @console_view
    def view(request: HttpRequest, account: Account) -> HttpResponse:
        return _counts_page(request, account, report)

    view.__name__ = key
    return view


def _counts_page(request: HttpRequest, account: Account, report: CountsPage) -> HttpResponse:
    tz = zone_of(account)
    first, last = _default_days(account)
    data = request.GET.copy()
    data.setdefault("start", first.isoformat())
    data.setdefault("end", last.isoformat())
    events = EventFilter(
        data,
        queryset=DeliveryEvent.objects.for_account(account)
        .of_type(*report.event_types)
        .with_message(),
        request=request,
    )
    form = events.form
    _domain_fields(form, account)
    if not report.by_class:
        del form.fields["bounce_class"]
    del form.fields["recipient"]
    del form.fields["type"]
    _date_inputs(form)
    form.use_labels = True

    errors = None
    body = None
    if events.is_valid():
        args = form.cleaned_data
        try:
            body = series(
                account,
                args["start"],
                args["end"],
                "day",
                sender_domain=args.get("sender_domain") or None,
                recipient_domain=args.get("recipient_domain") or None,
            )
        except StatsError as exc:
            errors = exc.message
    else:
        errors = " ".join(summary_errors(form))

    export = request.GET.get("export")
    days = (form.cleaned_data["start"], form.cleaned_data["end"]) if body is not None else ()
    if body is not None and export == "counts":
        response = csv_response(
            f"{report.slug}-counts.csv", csv_chunks(series_header(), series_rows(body, tz))
        )
        return for_excel(response, account.name, f"{report.slug}-counts", *days)
    if body is not None and export == "rows":
        rows = events.qs.order_by("timestamp", "pk")
        response = csv_response(
            f"{report.slug}-events.csv", queryset_csv(rows, with_zone(EVENT_COLUMNS, tz))
        )
        return for_excel(response, account.name, f"{report.slug}-events", *days)

    context = {
        "title": report.title,
        "report": report,
        "form": form,
        "errors": errors,
        "timezone": str(tz),
        "sorts": EVENT_SORTS,
    }
    if body is not None:
        sort = request.GET.get("sort", "-time")
        order = EVENT_SORTS.get(sort, "-timestamp")
        rows = events.qs.order_by(order, "-pk")
        if sort in ("time", "-time") and len(report.event_types) > 1:
            rows = MergedByTime(rows, report.event_types, descending=sort == "-time")
        paginator = Paginator(rows, PAGE_SIZE)
        count = _rows_counted(report, form.cleaned_data, body["totals"])
        if count is not None:
            paginator.count = count  # the rollups already know; no COUNT(*) over the rows
        page = paginator.get_page(request.GET.get("page"))
        if EventType.BOUNCED in report.event_types:
            _offer_block_actions(account, page)
        else:
            page.object_list = list(page.object_list)
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("export", None)
        sort_query = query.copy()
        sort_query.pop("sort", None)
        context.update(
            {
                "chart": _chart(body, account, "day", report.counters),
                "totals": [(label, body["totals"][key]) for key, label in report.counters],
                "days": [
                    {
                        "label": label,
                        "values": [b[key] for key, _ in report.counters],
                    }
                    for label, b in zip(
                        _chart(body, account, "day", ())["labels"], body["buckets"], strict=True
                    )
                ],
                "counter_labels": [label for _, label in report.counters],
                "page": page,
                "rows": _event_rows(page.object_list, tz),
                "sort": sort,
                "query": query.urlencode(),
                "sort_query": sort_query.urlencode(),
                "sent_filtered": bool(form.cleaned_data.get("sent_start"))
                or bool(form.cleaned_data.get("sent_end")),
            }
        )
    with timezone.override(tz):
        return render(request, "stats/report.html", context, status=200 if body else 400)


def _offer_block_actions(account: Account, page) -> None:
    """Bounced rows whose recipient has an invalid-address block offer to remove or
    whitelist it (`event.offer`); one blocklist query for the page."""
    page.object_list = list(page.object_list)
    recipients = [e.message.recipient for e in page.object_list if e.type == EventType.BOUNCED]
    offers = invalid_block_offers(account, recipients)
    for event in page.object_list:
        event.offer = (
            offers.get(event.message.recipient) if event.type == EventType.BOUNCED else None
        )
    # An invalid-address bounce with no block may have been held by a surge: say so.
    held = surges_that_held_each(e for e in page.object_list if e.offer is None)
    for event in page.object_list:
        event.held_by = held.get(event.pk)


TYPE_LABELS = {value: str(label) for value, label in EventType.choices}
CLASS_LABELS = {value: str(label) for value, label in BounceClass.choices}
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what `reverse()` leaves unquoted


def _truncated(text: str, length: int) -> str:
    """`truncatechars`: Truncator only when the text can be too long (it counts less)."""
    return text if len(text) <= length else Truncator(text).chars(length)


def _event_rows(events: list, tz) -> list[dict]:
    """The event table's cells, formatted as its template filters did (`date` in the
    account's zone, `truncatechars`, `get_*_display`, `{% url %}`), in one pass: through
    the template they cost 15-20 ms for a page of 50 rows."""
    marker = "0"
    head, tail = reverse("delivery:message_detail", args=[marker]).rsplit(marker, 1)
    rows = []
    for e in events:
        message = e.message
        message_id = message.message_id
        detail = head + quote(message_id, safe=_URL_SAFE) + tail
        sent = message.sent_at
        rows.append(
            {
                "time": e.timestamp.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                "type": TYPE_LABELS.get(e.type, e.type),
                "is_machine": e.is_machine,
                "bounce_class": e.bounce_class and CLASS_LABELS.get(e.bounce_class, e.bounce_class),
                "detail": detail,
                "recipient": message.recipient or "?",
                "from_address": message.from_address,
                "subject": message.subject,
                "sent": sent.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                if sent
                else "\u2013",  # en dash, as before
                "url": e.url,
                "url_short": e.url and _truncated(e.url, 50),
                "user_agent": e.user_agent and _truncated(e.user_agent, 60),
                "response_text": e.response_text and _truncated(e.response_text, 80),
                "offer": getattr(e, "offer", None),
                "held_by": getattr(e, "held_by", None),
            }
        )
    return rows


class MergedByTime:
    """Events of several types in time order, read one type at a time.

    `type IN (a, b) ORDER BY timestamp` cannot walk the (account, type, timestamp) index, so
    the database would sort a whole day of opens to show 50; each type alone can. A page
    takes the first `stop` keys (id, timestamp) of each type, an index range each, and the
    database merges them and skips to the page: only the page's rows are read whole, so a
    deep page costs about what the first does. Sliced like a QuerySet (what Paginator needs).
    """

    def __init__(self, queryset: QuerySet, types: tuple[str, ...], descending: bool):
        self.queryset = queryset
        self.parts = [queryset.filter(type=t) for t in types]
        self.order = ("-timestamp", "-id") if descending else ("timestamp", "id")
        self.ordered = True

    def count(self) -> int:
        return sum(part.count() for part in self.parts)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        start, stop = index.start or 0, index.stop
        if stop is not None and stop <= start:
            return []  # an empty list's only page is [0:0]; Django has no UNION of nothing
        heads = [part.order_by(*self.order).values_list("id", "timestamp") for part in self.parts]
        if connections[self.queryset.db].features.supports_slicing_ordering_in_compound:
            heads = [head[:stop] for head in heads]
        else:
            # SQLite (the demo) cannot order or limit inside a UNION: it merges whole ranges.
            heads = [head.order_by() for head in heads]
        keys = list(heads[0].union(*heads[1:], all=True).order_by(*self.order)[start:stop])
        if not keys:
            return []
        # The page's time span keeps the lookup by id to the partitions of its days.
        times = [timestamp for _, timestamp in keys]
        rows = self.queryset.order_by().filter(
            pk__in=[pk for pk, _ in keys], timestamp__range=(min(times), max(times))
        )
        by_pk = {event.pk: event for event in rows}
        return [by_pk[pk] for pk, _ in keys]


def _rows_counted(report: CountsPage, args: dict, totals: dict) -> int | None:
    """How many event rows match, from the rollups, when they can tell.

    Rollups count by event time, domains, type and bounce class: the same filters the
    rows have, except the sending-time filter, which needs a real count.
    """
    if args.get("sent_start") or args.get("sent_end"):
        return None
    if report.by_class and args.get("bounce_class"):
        return totals[f"bounced_{args['bounce_class']}"]
    return sum(totals[c] for c in report.row_counters)


open_click = counts_page_view("open_click")
spam_reports = counts_page_view("spam_reports")
bounced = counts_page_view("bounced")
unsubscriptions = counts_page_view("unsubscriptions")


@console_view
def domains(request: HttpRequest, account: Account) -> JsonResponse:
    """A domain filter's suggestions as its user types: `?side=recipient&starting=gm`."""
    side = request.GET.get("side")
    if side not in Side.values:
        return JsonResponse(
            {"code": "invalid_side", "message": "side must be 'sender' or 'recipient'."},
            status=400,
        )
    starting = request.GET.get("starting", "").replace("\x00", "").strip().lower()[:253]
    found = domain_menu(account, side, starting=starting)
    return JsonResponse({"domains": [display_domain(d) for d in found]})
