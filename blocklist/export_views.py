"""Console downloads of the suppression lists, filtered as the page is."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from sesconsole.tenancy import console_view

from . import exports
from .filters import BlockFilter, CustomBlockFilter, RejectBlockFilter


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
