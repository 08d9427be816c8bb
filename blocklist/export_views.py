"""Console downloads of the suppression lists, filtered as the page is."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from sesconsole.tenancy import console_view

from . import exports
from .actions import whitelist_addresses
from .changes import Actor
from .errors import BlocklistError
from .filters import BlockFilter, CustomBlockFilter, RejectBlockFilter
from .upload import read_upload
from .views import posted_from


def _filtered(request: HttpRequest, filter_class, queryset):
    f = filter_class(request.GET, queryset=queryset, request=request)
    return f.qs.order_by("address"), f.form


@console_view
def my_triggers_export(request: HttpRequest, account) -> HttpResponse:
    qs, form = _filtered(request, BlockFilter, exports.my_invalid_blocks(account))
    return exports.console_download(
        request, account, "invalid-blocks-mine", qs, exports.INVALID_COLUMNS, form
    )


@console_view
def rejects_export(request: HttpRequest, account) -> HttpResponse:
    qs, form = _filtered(request, RejectBlockFilter, exports.reject_blocks(account))
    return exports.console_download(
        request, account, "reject-list", qs, exports.BLOCK_COLUMNS, form
    )


@console_view
def custom_export(request: HttpRequest, account) -> HttpResponse:
    qs, form = _filtered(request, CustomBlockFilter, exports.custom_blocks(account))
    return exports.console_download(
        request, account, "custom-blocks", qs, exports.BLOCK_COLUMNS, form
    )


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
