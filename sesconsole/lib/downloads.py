"""CSV downloads from console pages: Excel-friendly, with telling file names.

Excel reads a CSV file as the system's legacy code page unless it starts with a UTF-8 byte
order mark, which garbles non-ASCII subjects and addresses. Console downloads therefore
start with one; API exports stay plain UTF-8 for programs. File names carry the account and
the range, so downloads of different ranges do not overwrite each other.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta, tzinfo

from django.http import StreamingHttpResponse
from django.utils.text import slugify

BOM = "\ufeff".encode()


def download_name(
    account_name: str, what: str, start: date | datetime | None, end: date | datetime
) -> str:
    """E.g. 'acme-email-status-2026-11-24-to-2026-11-30.csv' (instants as 2026-11-30T1200);
    with no start, a list of everything up to `end`: 'acme-whitelist-all-to-2026-11-30.csv'."""

    def stamp(at: date | datetime | None) -> str:
        if at is None:
            return "all"
        return at.strftime("%Y-%m-%dT%H%M") if isinstance(at, datetime) else at.isoformat()

    return f"{slugify(account_name) or 'account'}-{what}-{stamp(start)}-to-{stamp(end)}.csv"


def for_excel(
    response: StreamingHttpResponse,
    account_name: str,
    what: str,
    start: date | datetime | None,
    end: date | datetime,
) -> StreamingHttpResponse:
    """Prefix a streamed CSV response with the BOM and name the file after account and range."""
    response.streaming_content = itertools.chain([BOM], response.streaming_content)
    name = download_name(account_name, what, start, end)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def local_range(
    start: datetime, end: datetime, tz: tzinfo
) -> tuple[date | datetime, date | datetime]:
    """A [start, end) window as the page shows it: whole local days as first and last day."""
    first, stop = start.astimezone(tz), end.astimezone(tz)
    if first.time() == stop.time() == time(0):
        return first.date(), (stop - timedelta(days=1)).date()
    return first, stop
