"""Console downloads of the suppression lists, filtered as the page is."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django_filters import FilterSet

from sesconsole.lib.csv_export import Column
from sesconsole.lib.form_errors import unique_errors
from sesconsole.tenancy import console_view

from . import exports
from .actions import whitelist_addresses
from .changes import Actor
from .console_filters import custom_filter, reject_filter, trigger_filter
from .errors import BlocklistError
from .upload import read_upload
from .views import posted_from


def _download(
    request: HttpRequest, account, found: FilterSet, what: str, columns: list[Column]
) -> HttpResponse:
    """The list as its page filters it; a filter the page cannot apply exports nothing."""
    if not found.is_valid():
        # As the queue export refuses one: the page's own messages, never every row.
        return JsonResponse(
            {
                "code": "invalid_filter",
                "message": "; ".join(unique_errors(found.form)),
                "details": {name: list(errors) for name, errors in found.form.errors.items()},
            },
            status=400,
        )
    rows = found.qs.order_by("address")
    return exports.console_download(request, account, what, rows, columns, found.form)


@console_view
def my_triggers_export(request: HttpRequest, account) -> HttpResponse:
    found = trigger_filter(request, exports.my_invalid_blocks(account))
    return _download(request, account, found, "invalid-blocks-mine", exports.INVALID_COLUMNS)


@console_view
def rejects_export(request: HttpRequest, account) -> HttpResponse:
    found = reject_filter(request, exports.reject_blocks(account))
    return _download(request, account, found, "reject-list", exports.BLOCK_COLUMNS)


@console_view
def custom_export(request: HttpRequest, account) -> HttpResponse:
    found = custom_filter(request, exports.custom_blocks(account))
    return _download(request, account, found, "custom-blocks", exports.BLOCK_COLUMNS)


@console_view
def whitelist_export(request: HttpRequest, account) -> HttpResponse:
    return exports.console_download(
        request, account, "whitelist", exports.my_whitelist(account), exports.WHITELIST_COLUMNS
    )


@console_view
@posted_from("invalid")
def whitelist_import(request: HttpRequest, account) -> HttpResponse:
    """Whitelist the addresses of a file (e.g. a whitelist export, as it is)."""
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise BlocklistError("missing_file", "Choose a file to upload.")
        if upload.size > 10 * 1024 * 1024:
            raise BlocklistError("file_too_large", "The file is larger than 10 MB.")
        lines = read_upload(upload.read())
    except BlocklistError as exc:
        messages.error(request, exc.message)
        return redirect("blocklist:invalid")
    line_of = {}
    for line in lines:
        line_of.setdefault(line.value.lower(), line.number)
    result = whitelist_addresses(
        account, [line.value for line in lines], actor=Actor.from_request(request), note="Imported."
    )
    messages.success(request, f"Whitelisted {len(result.done)} of {len(lines)} address(es).")
    problems = [(r["address"], r["message"]) for r in result.refused]
    problems += [(r["address"], f"{r['address']}: {r['message']}") for r in result.invalid]
    problems += [(a, f"{a}: no invalid-address block to whitelist.") for a in result.not_found]
    problems.sort(key=lambda p: line_of.get(p[0].lower(), 0))
    for address, message in problems[:20]:
        line = line_of.get(address.lower())
        messages.warning(request, f"Line {line}: {message}" if line else message)
    return redirect("blocklist:invalid")
