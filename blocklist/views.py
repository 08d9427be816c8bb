"""Blocklist console pages: overview with the blocking query, invalid-address blocks, my
trigger block list, reject list, custom blocking (add, upload, modify, delete, auto-block)
and history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from sesconsole.lib.form_errors import summary_errors
from sesconsole.lib.timezones import MAX_DAY, MIN_DAY, local_today, zone_of
from sesconsole.tenancy import console_view

from .actions import (
    BatchResult,
    remove_invalid_blocks,
    remove_reject_blocks,
    unwhitelist_addresses,
    whitelist_addresses,
)
from .changes import Actor
from .console_filters import (
    INVALID_REASONS,
    InvalidBlockPageFilter,
    custom_filter,
    page_filter,
    reject_filter,
    trigger_filter,
)
from .custom import (
    add_custom_blocks,
    delete_custom_blocks,
    set_auto_block,
    update_custom_block,
    upload_custom_blocks,
)
from .errors import BlocklistError
from .expiry import expiry_date_of
from .filters import BlockFilter, HistoryFilter
from .gate import check
from .models import Block, History, Whitelist
from .offers import offers_for
from .pagination import ListPaginator
from .queries import auto_block_setting, invalid_blocks_visible_to
from .surges import verdicts_held
from .upload import MAX_UPLOAD_LINES, max_upload_bytes, refuse_oversized_body

PAGE_SIZE = 50
MAX_QUERY_ADDRESSES = 1000
FORM_NOT_RECEIVED = (
    "Nothing was changed: the form's contents did not arrive (as happens when you have to "
    "sign in again). Please fill it in and send it again."
)


def _checked(f) -> dict:
    """Validate a list's filter; an invalid one lists nothing (the page shows its errors)."""
    if f.is_valid():
        return {"invalid": False}
    return {"invalid": True, "invalid_summary": summary_errors(f.form)}


def _status(checked: dict) -> int:
    """A filter that cannot be applied answers 400, as the other console pages do."""
    return 400 if checked["invalid"] else 200


def _page(request: HttpRequest, f: BlockFilter, walked: QuerySet | None = None) -> dict:
    """The list's page; `walked`: the same rows in another form, which the list's filter
    and sort are applied to as well (ListPaginator.walked)."""
    checked = _checked(f)
    qs = f.qs if not checked["invalid"] else f.queryset.none()
    # Capped: counting every invalid-address block an account may see took 10-15 s at 5M
    # blocks (docs/performance.md); past the cap the page says "more than".
    paginator = ListPaginator(
        qs,
        PAGE_SIZE,
        walked=f.filter_queryset(walked) if walked is not None and not checked["invalid"] else None,
    )
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    sort_params = params.copy()
    sort_params.pop("sort", None)
    return {
        **checked,
        "page": page,
        "sort": f.sort_in_force,
        "query_string": params.urlencode(),
        "sort_query": sort_params.urlencode(),
    }


def _render(
    request: HttpRequest, account, template: str, context: dict, status: int = 200
) -> HttpResponse:
    """A page whose times are in the account's zone, and which names it."""
    zone = zone_of(account)
    with timezone.override(zone):
        return render(request, template, {**context, "timezone": str(zone)}, status=status)


def _addresses(request: HttpRequest) -> list[str]:
    return [a for a in request.POST.getlist("addresses") if a.strip()]


def _report_batch(request: HttpRequest, verb: str, result: BatchResult) -> None:
    if result.done:
        messages.success(request, f"{verb} {len(result.done)} address(es).")
    for refused in result.refused[:10]:
        messages.error(request, refused["message"])
    if result.not_found:
        messages.warning(request, f"No active block for: {', '.join(result.not_found[:10])}.")
    for bad in result.invalid[:10]:
        messages.error(request, f"{bad['address']}: {bad['message']}")


def _batch(request: HttpRequest, account, operation, verb: str, page: str) -> HttpResponse:
    """Run a batch service on the posted addresses, report it, and go back to the list."""
    result = operation(
        account,
        _addresses(request),
        actor=Actor.from_request(request),
        note=request.POST.get("note", "")[:500],
    )
    _report_batch(request, verb, result)
    return _back(request, reverse(f"blocklist:{page}"))


def posted_from(page: str) -> Callable:
    """For a URL that only a form on the page `page` posts to; goes under `console_view`.

    A GET of it has lost the form's data: signing in again after the session ran out
    brings the browser back here without the post. Rather than a bare 405, it goes back
    to the form's page, saying nothing was changed. Other methods are still refused.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, account, *args, **kwargs) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                messages.warning(request, FORM_NOT_RECEIVED)
                return redirect(f"blocklist:{page}")
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, account, *args, **kwargs)

        return wrapper

    return decorate


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page the action was taken on (a list, the query, a bounced row)."""
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(nxt)
    return redirect(fallback)


# ---------------------------------------------------------------------------------------
# Overview and the blocking query.


@console_view
def overview(request: HttpRequest, account) -> HttpResponse:
    now = timezone.now()
    active = Block.objects.active(now)
    tiles = {
        "mine": active.invalid().for_account(account).count(),
        "rejects": active.rejects().for_account(account).count(),
        "custom": active.custom().for_account(account).count(),
        "whitelisted": Whitelist.objects.active().for_account(account).count(),
    }
    raw = request.GET.get("q", "")
    verdicts = None
    too_many = False
    if raw.strip():
        addresses = [a for a in raw.replace(",", "\n").splitlines() if a.strip()]
        too_many = len(addresses) > MAX_QUERY_ADDRESSES
        verdicts = list(check(account, addresses[:MAX_QUERY_ADDRESSES]).values())
        # An address no block matches may still have bounced "does not exist": say why.
        held = verdicts_held(account, [v.address for v in verdicts if v.valid and not v.matches])
        for verdict in verdicts:
            verdict.offers = offers_for(verdict)
            verdict.held = held.get(verdict.address)
    return _render(
        request,
        account,
        "blocklist/overview.html",
        {
            "title": "Blocklist",
            "tiles": tiles,
            "q": raw,
            "verdicts": verdicts,
            "too_many": too_many,
            "max_query": MAX_QUERY_ADDRESSES,
            "setting": auto_block_setting(account),
        },
    )


# ---------------------------------------------------------------------------------------
# Invalid-address blocks.


@console_view
def invalid_list(request: HttpRequest, account) -> HttpResponse:
    qs = invalid_blocks_visible_to(account).select_related("event")
    f = page_filter(InvalidBlockPageFilter, request, qs, INVALID_REASONS)
    walked = None
    if f.sort_in_force in ("address", "-address"):
        # Joined, a big sender's list by address read every block (0.5-1.5 s at 5M);
        # walking the address index finds its first page in 7 ms (docs/performance.md).
        walked = invalid_blocks_visible_to(account, probe_each=True).select_related("event")
    listing = _page(request, f, walked)
    return _render(
        request,
        account,
        "blocklist/invalid.html",
        {
            "title": "Invalid-address blocks",
            "filter": f,
            "mine_only": False,
            **listing,
        },
        status=_status(listing),
    )


@console_view
def my_triggers(request: HttpRequest, account) -> HttpResponse:
    qs = Block.objects.invalid().active().for_account(account).select_related("event")
    f = trigger_filter(request, qs)
    listing = _page(request, f)
    return _render(
        request,
        account,
        "blocklist/invalid.html",
        {"title": "My trigger block list", "filter": f, "mine_only": True, **listing},
        status=_status(listing),
    )


@console_view
@posted_from("my_triggers")
def invalid_remove(request: HttpRequest, account) -> HttpResponse:
    return _batch(request, account, remove_invalid_blocks, "Removed the block of", "my_triggers")


@console_view
@posted_from("invalid")
def invalid_whitelist(request: HttpRequest, account) -> HttpResponse:
    return _batch(request, account, whitelist_addresses, "Whitelisted", "invalid")


@console_view
@posted_from("invalid")
def invalid_unwhitelist(request: HttpRequest, account) -> HttpResponse:
    return _batch(request, account, unwhitelist_addresses, "Ended the whitelist of", "invalid")


# ---------------------------------------------------------------------------------------
# Reject blocks.


@console_view
def rejects(request: HttpRequest, account) -> HttpResponse:
    qs = Block.objects.rejects().active().for_account(account).select_related("event")
    f = reject_filter(request, qs)
    listing = _page(request, f)
    return _render(
        request,
        account,
        "blocklist/rejects.html",
        {"title": "Reject list", "filter": f, **listing},
        status=_status(listing),
    )


@console_view
@posted_from("rejects")
def rejects_remove(request: HttpRequest, account) -> HttpResponse:
    return _batch(request, account, remove_reject_blocks, "Removed the reject block of", "rejects")


# ---------------------------------------------------------------------------------------
# Custom blocks.


def _date_or_none(value: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BlocklistError("invalid_date", "Give the date as YYYY-MM-DD.") from None
    if not MIN_DAY <= day <= MAX_DAY:
        raise BlocklistError("invalid_date", f"Give a date from {MIN_DAY} to {MAX_DAY}.")
    return day


@console_view
def custom(request: HttpRequest, account) -> HttpResponse:
    qs = Block.objects.custom().for_account(account).listed()
    f = custom_filter(request, qs)
    listing = _page(request, f)
    page = listing["page"]
    page.object_list = list(page.object_list)
    for block in page.object_list:
        block.expires_on = expiry_date_of(block, zone_of(account))
    return _render(
        request,
        account,
        "blocklist/custom.html",
        {
            "title": "Custom blocking",
            "filter": f,
            "setting": auto_block_setting(account),
            "today": local_today(zone_of(account)),
            **listing,
        },
        status=_status(listing),
    )


@console_view
@posted_from("custom")
def custom_add(request: HttpRequest, account) -> HttpResponse:
    numbered = [
        (number, line)
        for number, line in enumerate(request.POST.get("addresses", "").splitlines(), start=1)
        if line.strip()
    ]
    if not numbered:
        messages.error(request, "Enter at least one address.")
        return redirect("blocklist:custom")
    try:
        report = add_custom_blocks(
            account,
            [line for _, line in numbered],
            line_numbers=[number for number, _ in numbered],
            actor=Actor.from_request(request),
            expires_on=_date_or_none(request.POST.get("expires_on", "")),
            note=request.POST.get("note", "")[:500],
        )
    except BlocklistError as exc:
        messages.error(request, exc.message)
        return redirect("blocklist:custom")
    messages.success(
        request,
        f"Added {report.valid} of {report.total}: {report.repeat} repeated, "
        f"{report.invalid} invalid, {report.too_long} too long.",
    )
    for problem in report.problems[:20]:
        messages.warning(
            request, f"Line {problem['line']}: {problem['value']} — {problem['message']}"
        )
    if len(report.problems) > 20:
        messages.warning(request, f"… and {len(report.problems) - 20} more not added.")
    return redirect("blocklist:custom")


@console_view
def custom_upload(request: HttpRequest, account) -> HttpResponse:
    """GET: the form. POST (XHR or plain form): the report as JSON or a page."""
    if request.method != "POST":
        return _render(
            request,
            account,
            "blocklist/custom_upload.html",
            {
                "title": "Upload custom blocks",
                "max_lines": MAX_UPLOAD_LINES,
                "max_bytes": max_upload_bytes(),
            },
        )
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    try:
        refuse_oversized_body(request.META.get("CONTENT_LENGTH"))
        upload = request.FILES.get("file")
        if upload is None:
            raise BlocklistError("missing_file", "Choose a file to upload.")
        report = upload_custom_blocks(
            account,
            upload,
            actor=Actor.from_request(request),
            expires_on=_date_or_none(request.POST.get("expires_on", "")),
            note=request.POST.get("note", "")[:500],
        )
    except BlocklistError as exc:
        if wants_json:
            return JsonResponse(
                {"code": exc.code, "message": exc.message, "details": {}}, status=exc.status
            )
        messages.error(request, exc.message)
        return redirect("blocklist:custom_upload")
    if wants_json:
        return JsonResponse(report.as_json())
    return _render(
        request,
        account,
        "blocklist/custom_upload.html",
        {
            "title": "Upload custom blocks",
            "report": report,
            "max_lines": MAX_UPLOAD_LINES,
            "max_bytes": max_upload_bytes(),
        },
    )


@console_view
def custom_edit(request: HttpRequest, account, pk: int) -> HttpResponse:
    block = Block.objects.custom().for_account(account).listed().filter(pk=pk).first()
    if block is None:
        messages.error(request, "No such custom block.")
        return redirect("blocklist:custom")
    error = ""
    stored_expiry = expiry_date_of(block, zone_of(account))
    address = block.address
    expires_on = stored_expiry.isoformat() if stored_expiry else ""
    if request.method == "POST":
        address = request.POST.get("address", block.address)
        expires_on = request.POST.get("expires_on", "")
        try:
            update_custom_block(
                account,
                block.pk,
                actor=Actor.from_request(request),
                address=address,
                expires_on=_date_or_none(expires_on),
            )
        except BlocklistError as exc:
            error = exc.message  # shown with the values as typed, to correct them
        else:
            messages.success(request, "Saved.")
            return redirect("blocklist:custom")
    return _render(
        request,
        account,
        "blocklist/custom_edit.html",
        {
            "title": "Modify custom block",
            "entry": block,
            "address": address,
            "expires_on": expires_on,
            "error": error,
            "today": local_today(zone_of(account)),
            "history": block.history.select_related("actor").order_by("-at", "-pk")[:20],
        },
    )


@console_view
@posted_from("custom")
def custom_delete(request: HttpRequest, account) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    result = delete_custom_blocks(account, actor=Actor.from_request(request), ids=ids)
    messages.success(request, f"Deleted {len(result.done)} custom block(s).")
    return _back(request, reverse("blocklist:custom"))


@console_view
@posted_from("custom")
def auto_block(request: HttpRequest, account) -> HttpResponse:
    try:
        days = int(request.POST.get("days", "0"))
    except ValueError:
        days = 0
    try:
        setting = set_auto_block(
            account,
            enabled=request.POST.get("enabled") == "on",
            days=days,
            actor=Actor.from_request(request),
        )
    except BlocklistError as exc:
        messages.error(request, exc.message)
    else:
        state = f"on, for {setting.days} days" if setting.enabled else "off"
        messages.success(request, f"Auto-block of full inboxes is {state}.")
    return redirect("blocklist:custom")


# ---------------------------------------------------------------------------------------
# History.


@console_view
def history(request: HttpRequest, account) -> HttpResponse:
    from django.db.models import Q

    qs = History.objects.filter(Q(block__account=account, account=None) | Q(account=account))
    f = page_filter(HistoryFilter, request, qs.select_related("block"))
    checked = _checked(f)
    rows = f.qs.order_by("-at", "-pk") if not checked["invalid"] else qs.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return _render(
        request,
        account,
        "blocklist/history.html",
        {
            "title": "Blocklist history",
            "filter": f,
            **checked,
            "page": page,
            "query_string": params.urlencode(),
        },
        status=_status(checked),
    )
