"""CSV exports of the suppression lists, for the console pages and the API.

The address is the first column, so an export goes back in unchanged through the custom
upload (blocklist.upload reads the first column and skips the header row).
"""

from __future__ import annotations

from django.db.models import (
    Case,
    F,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.http import HttpRequest, StreamingHttpResponse

from sesconsole.lib.csv_export import (
    CODE,
    NUMBER,
    TEXT,
    Column,
    csv_response,
    instant,
    queryset_csv,
)
from sesconsole.lib.downloads import for_excel
from sesconsole.lib.timezones import local_today, zone_of
from sesconsole.models import Account

from .models import Block, Whitelist
from .queries import stops_seen_by

BLOCK_COLUMNS: list[Column] = [
    Column("address", "address", TEXT),
    Column("kind", "kind", CODE),
    Column("reason", "reason", CODE),
    Column("note", "note", TEXT),
    *instant("blocked_at", "blocked_at"),
    *instant("expires_at", "expires_at"),
    Column("stopped_count", "stopped_count", NUMBER),
    *instant("last_stopped_at", "last_stopped_at"),
]

INVALID_COLUMNS: list[Column] = [
    *BLOCK_COLUMNS,
    Column("response_text", "response_text", TEXT),
    Column("bounce_evidence", "bounce_evidence", CODE),
]

# Another account's invalid-address block, as an account's export shows it: that its address
# is blocked, since and until when, on what evidence, but not the bounce reply and note (they
# describe the other account's mail) nor the sends stopped (when it tried the address again).
# The paths name the annotations of `as_seen_by`.
_PRIVATE_PATHS = {
    "note": "seen_note",
    "response_text": "seen_response_text",
    "stopped_count": "seen_stopped_count",
    "last_stopped_at": "seen_last_stopped_at",
}
INVALID_COLUMNS_AS_SEEN: list[Column] = [
    Column(c.header, _PRIVATE_PATHS.get(c.path, c.path), c.kind) for c in INVALID_COLUMNS
]


def as_seen_by(blocks: QuerySet[Block], account: Account) -> QuerySet[Block]:
    """`blocks` with the fields of INVALID_COLUMNS_AS_SEEN: blank where the block is another
    account's."""
    own = Q(account=account)
    return blocks.annotate(
        seen_note=Case(When(own, then=F("note")), default=Value(""), output_field=TextField()),
        seen_response_text=Case(
            When(own, then=F("response_text")), default=Value(""), output_field=TextField()
        ),
        **stops_seen_by(account),
    )


WHITELIST_COLUMNS: list[Column] = [
    Column("address", "address", TEXT),
    Column("note", "note", TEXT),
    *instant("whitelisted_at", "created_at"),
    *instant("block_blocked_at", "block__blocked_at"),
    *instant("block_expires_at", "block__expires_at"),
]


def my_invalid_blocks(account: Account) -> QuerySet[Block]:
    """Invalid-address blocks this account's sending triggered (My trigger block list)."""
    return Block.objects.invalid().active().for_account(account)


def reject_blocks(account: Account) -> QuerySet[Block]:
    return Block.objects.rejects().active().for_account(account)


def custom_blocks(account: Account) -> QuerySet[Block]:
    return Block.objects.custom().for_account(account).listed()


def my_whitelist(account: Account) -> QuerySet[Whitelist]:
    return Whitelist.objects.active().for_account(account).order_by("address")


def console_download(
    request: HttpRequest,
    account: Account,
    what: str,
    queryset: QuerySet,
    columns: list[Column],
    form=None,
) -> StreamingHttpResponse:
    """A list as an Excel-friendly download named after the account and the days it covers:
    those filtered, where the filter leaves a side open, from the first block ("all") or to
    today."""
    data = form.cleaned_data if form is not None and form.is_valid() else {}
    start, end = data.get("start") or None, data.get("end") or local_today(zone_of(account))
    response = csv_response(f"{what}.csv", queryset_csv(queryset, columns))
    return for_excel(response, account.name, what, start, end)
